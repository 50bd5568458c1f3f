#include "tools/server/api_error.h"

#include <nlohmann/json.hpp>
#include <utility>

namespace tessera_server {

ApiError bad_request(std::string param, std::string message, std::string code) {
  return ApiError{400, std::move(message), "invalid_request_error", std::move(param), std::move(code)};
}

std::string error_body(const ApiError& e) {
  const auto or_null = [](const std::string& s) { return s.empty() ? nlohmann::json() : nlohmann::json(s); };
  nlohmann::json j = {{"error",
                       {{"message", e.message},
                        {"type", e.type.empty() ? "server_error" : e.type},
                        {"param", or_null(e.param)},
                        {"code", or_null(e.code)}}}};
  // A message may quote request bytes that are not UTF-8: replace them rather than throw.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace tessera_server
