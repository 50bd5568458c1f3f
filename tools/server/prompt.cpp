#include "tools/server/prompt.h"

#include <string>

namespace tessera_server {

namespace {

std::optional<ApiError> render_chat(const tsr_llm* model, const std::vector<ChatMessage>& messages,
                                    std::string* out) {
  std::vector<const char*> roles, contents;
  size_t bytes = 4096;
  for (const ChatMessage& m : messages) {
    roles.push_back(m.role.c_str());
    contents.push_back(m.content.c_str());
    bytes += m.role.size() + m.content.size() + 64;
  }
  std::vector<char> buf(bytes);
  int32_t n = 0;
  const auto apply = [&] {
    return tsr_llm_apply_chat_template(model, roles.data(), contents.data(),
                                       static_cast<int32_t>(roles.size()), 1, buf.data(),
                                       static_cast<int32_t>(buf.size()), &n);
  };
  tsr_status_code s = apply();
  // *out_n is the full length: one retry with the exact size.
  if (s == TSR_ERR_INVALID_ARGUMENT && n + 1 > static_cast<int32_t>(buf.size())) {
    buf.resize(static_cast<size_t>(n) + 1);
    s = apply();
  }
  if (s != TSR_OK) {
    // The template refuses this conversation (say, roles out of order) or the
    // model has none the library knows: the request cannot be served as sent.
    return bad_request("messages", std::string("[chat.completions] chat template: ") + tsr_last_error(),
                       "invalid_messages");
  }
  out->assign(buf.data(), static_cast<size_t>(n));
  return std::nullopt;
}

std::optional<ApiError> tokenize(const tsr_llm* model, const std::string& text, bool parse_special,
                                 const char* op, std::vector<int32_t>* out) {
  out->resize(text.size() + 8);
  int32_t n = 0;
  tsr_status_code s =
      tsr_llm_tokenize(model, text.data(), static_cast<int64_t>(text.size()), 1, parse_special ? 1 : 0,
                       out->data(), static_cast<int32_t>(out->size()), &n);
  if (s == TSR_ERR_INVALID_ARGUMENT && n > static_cast<int32_t>(out->size())) {
    out->resize(static_cast<size_t>(n));
    s = tsr_llm_tokenize(model, text.data(), static_cast<int64_t>(text.size()), 1, parse_special ? 1 : 0,
                         out->data(), n, &n);
  }
  if (s != TSR_OK) return bad_request("", std::string("[") + op + "] tokenize: " + tsr_last_error());
  out->resize(static_cast<size_t>(n));
  return std::nullopt;
}

}  // namespace

std::optional<ApiError> prompt_tokens(const tsr_llm* model, const ParsedRequest& r,
                                      std::vector<int32_t>* out) {
  const char* op = endpoint_op(r.endpoint);
  tsr_llm_info info{sizeof info};
  if (tsr_llm_get_info(model, &info) != TSR_OK)
    return ApiError{500, std::string("[") + op + "] model info: " + tsr_last_error(), "server_error", "", ""};
  const char* param = r.endpoint == Endpoint::kChat ? "messages" : "prompt";
  if (r.endpoint == Endpoint::kChat) {
    std::string text;
    if (auto e = render_chat(model, r.messages, &text)) return e;
    // The rendered template holds special tokens (<|im_start|>): parse them.
    if (auto e = tokenize(model, text, true, op, out)) return e;
  } else if (r.prompt_is_tokens) {
    for (size_t i = 0; i < r.prompt_tokens.size(); ++i)
      if (r.prompt_tokens[i] >= info.n_vocab)
        return bad_request("prompt", std::string("[") + op + "] prompt token " + std::to_string(i) + " is " +
                                         std::to_string(r.prompt_tokens[i]) +
                                         ", outside the vocabulary [0, " + std::to_string(info.n_vocab) +
                                         ")");
    *out = r.prompt_tokens;
  } else {
    // A completion prompt is plain text: "<|im_start|>" in it is text too.
    if (auto e = tokenize(model, r.prompt, false, op, out)) return e;
  }
  if (out->empty())
    return bad_request(
        param, std::string("[") + op + "] the " + param + " gave no tokens: there is nothing to continue");
  if (out->size() > static_cast<size_t>(info.n_ctx))
    return bad_request(param,
                       std::string("[") + op + "] the " + param + " is " + std::to_string(out->size()) +
                           " tokens, more than the context holds (n_ctx " + std::to_string(info.n_ctx) + ")",
                       "context_length_exceeded");
  return std::nullopt;
}

}  // namespace tessera_server
