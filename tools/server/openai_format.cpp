#include "tools/server/openai_format.h"

#include <ctime>
#include <nlohmann/json.hpp>
#include <random>

namespace tessera_server {

using json = nlohmann::json;

namespace {

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

json usage_json(const Usage& u) {
  return {{"prompt_tokens", u.prompt_tokens},
          {"completion_tokens", u.completion_tokens},
          {"total_tokens", u.prompt_tokens + u.completion_tokens}};
}

json base(const ResponseMeta& m, bool chunk) {
  const char* object = m.endpoint == Endpoint::kChat ? (chunk ? "chat.completion.chunk" : "chat.completion")
                                                     : "text_completion";
  return {{"id", m.id},
          {"object", object},
          {"created", m.created},
          {"model", m.model},
          {"system_fingerprint", nullptr}};
}

// One streamed choice: a delta for chat, text for completions.
json chunk(const ResponseMeta& m, json delta, const std::string& text, const std::string& finish_reason,
           bool include_usage) {
  json c = base(m, true);
  json choice = {{"index", 0}, {"logprobs", nullptr}};
  if (m.endpoint == Endpoint::kChat)
    choice["delta"] = std::move(delta);
  else
    choice["text"] = text;
  choice["finish_reason"] = finish_reason.empty() ? json() : json(finish_reason);
  c["choices"] = json::array({choice});
  if (include_usage) c["usage"] = nullptr;
  return c;
}

}  // namespace

ResponseMeta new_response_meta(Endpoint endpoint, const std::string& model) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char kHex[] = "0123456789abcdef";
  std::string id = endpoint == Endpoint::kChat ? "chatcmpl-" : "cmpl-";
  for (int i = 0; i < 24; ++i) id += kHex[rng() & 15];
  return ResponseMeta{endpoint, std::move(id), static_cast<int64_t>(std::time(nullptr)), model};
}

std::string full_response(const ResponseMeta& m, const std::string& text, const Outcome& outcome) {
  json r = base(m, false);
  json choice = {{"index", 0}, {"logprobs", nullptr}, {"finish_reason", outcome.finish_reason}};
  if (m.endpoint == Endpoint::kChat)
    choice["message"] = {{"role", "assistant"}, {"content", text}, {"refusal", nullptr}};
  else
    choice["text"] = text;
  r["choices"] = json::array({choice});
  r["usage"] = usage_json(outcome.usage);
  return dump(r);
}

std::string chunk_start(const ResponseMeta& m, bool include_usage) {
  return dump(chunk(m, {{"role", "assistant"}, {"content", ""}}, "", "", include_usage));
}

std::string chunk_text(const ResponseMeta& m, const std::string& text, bool include_usage) {
  return dump(chunk(m, {{"content", text}}, text, "", include_usage));
}

std::string chunk_finish(const ResponseMeta& m, const std::string& finish_reason, bool include_usage) {
  return dump(chunk(m, json::object(), "", finish_reason, include_usage));
}

std::string chunk_usage(const ResponseMeta& m, const Usage& usage) {
  json c = base(m, true);
  c["choices"] = json::array();
  c["usage"] = usage_json(usage);
  return dump(c);
}

std::string model_object(const std::string& model, int64_t created) {
  return dump({{"id", model}, {"object", "model"}, {"created", created}, {"owned_by", "tessera"}});
}

std::string model_list(const std::string& model, int64_t created) {
  return dump(
      {{"object", "list"},
       {"data",
        json::array({{{"id", model}, {"object", "model"}, {"created", created}, {"owned_by", "tessera"}}})}});
}

}  // namespace tessera_server
