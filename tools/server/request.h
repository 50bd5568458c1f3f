// The body of POST /v1/chat/completions and /v1/completions, read and
// checked against the OpenAI API before anything reaches the engine. Every
// refusal is an ApiError naming the field and the value it had.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tools/server/api_error.h"

namespace tessera_server {

enum class Endpoint { kChat, kCompletion };

// "chat.completions" or "completions": the operation error messages start with.
const char* endpoint_op(Endpoint e);

struct ChatMessage {
  std::string role, content;
};

struct ParsedRequest {
  Endpoint endpoint = Endpoint::kChat;
  std::vector<ChatMessage> messages;   // chat
  std::string prompt;                  // completions, as text
  std::vector<int32_t> prompt_tokens;  // completions, as token ids (prompt_is_tokens)
  bool prompt_is_tokens = false;
  int32_t max_tokens = 0;  // 0: not given (the endpoint's default applies)
  float temperature = 1.0f, top_p = 1.0f;
  std::optional<uint64_t> seed;
  std::vector<std::string> stop;
  bool stream = false, include_usage = false;
};

// Parses body for endpoint into *out. model_alias is the one model served: a
// request naming another gets 404 model_not_found. Never throws.
std::optional<ApiError> parse_request(Endpoint endpoint, const std::string& body,
                                      const std::string& model_alias, ParsedRequest* out);

}  // namespace tessera_server
