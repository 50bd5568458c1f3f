// An error as the OpenAI API reports it: an HTTP status and the body
// {"error": {"message", "type", "param", "code"}}. Every 4xx/5xx the server
// sends is one of these, so a client's error handling sees one shape.
#pragma once

#include <string>

namespace tessera_server {

struct ApiError {
  int status = 500;
  std::string message;  // starts with the operation, names the field and value
  std::string type;     // "invalid_request_error", "server_error", ...
  std::string param;    // the request field at fault; empty: null
  std::string code;     // a short machine-readable reason; empty: null
};

// 400 invalid_request_error about one field.
ApiError bad_request(std::string param, std::string message, std::string code = "invalid_value");
// The JSON body for e.
std::string error_body(const ApiError& e);

}  // namespace tessera_server
