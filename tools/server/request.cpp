#include "tools/server/request.h"

#include <cmath>
#include <nlohmann/json.hpp>
#include <utility>

namespace tessera_server {

using json = nlohmann::json;

const char* endpoint_op(Endpoint e) { return e == Endpoint::kChat ? "chat.completions" : "completions"; }

namespace {

// OpenAI allows at most four stop sequences; so do we, so a client tested
// here behaves the same there.
constexpr size_t kMaxStop = 4;
constexpr int64_t kMaxTokensLimit = 1 << 30;
// Deeper JSON is refused before parsing: nlohmann's serializer recurses per
// level, and a 1 MiB body of brackets overflowed the stack of the thread
// that quoted it in an error message. OpenAI's requests nest a few levels.
constexpr int kMaxDepth = 128;

// Whether body nests arrays and objects deeper than kMaxDepth (brackets
// inside strings do not count).
bool too_deep(const std::string& body) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (in_string) {
      if (c == '\\')
        ++i;  // the escaped character cannot end the string
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxDepth) return true;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}

const char* type_word(const json& v) {
  switch (v.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return "a boolean";
    case json::value_t::string:
      return "a string";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return "an integer";
    case json::value_t::number_float:
      return "a number";
    case json::value_t::array:
      return "an array";
    case json::value_t::object:
      return "an object";
    default:
      return "a value";
  }
}

// The value as the client sent it (cut to a readable length) and its type.
std::string shown(const json& v) {
  std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s + " (" + type_word(v) + ")";
}

// Reads optional fields of one JSON object; the first problem is kept in
// error and every later read is a no-op returning false.
class Reader {
 public:
  Reader(const json& obj, std::string op) : obj_(obj), op_(std::move(op)) {}

  // The field, or nullptr when absent or null (OpenAI treats both as unset).
  const json* find(const char* key) const {
    const auto it = obj_.find(key);
    return it == obj_.end() || it->is_null() ? nullptr : &*it;
  }

  bool fail(const std::string& param, const std::string& problem, const std::string& code = "invalid_value") {
    if (!error) error = bad_request(param, "[" + op_ + "] " + problem, code);
    return false;
  }
  bool fail_value(const std::string& param, const json& v, const std::string& expected,
                  const std::string& code = "invalid_value") {
    return fail(param, param + " is " + shown(v) + "; it must be " + expected, code);
  }

  bool integer(const char* key, int64_t lo, int64_t hi, std::optional<int64_t>* out) {
    const json* v = find(key);
    if (error || !v) return !error;
    const std::string expected = "an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
    int64_t x = 0;
    if (v->is_number_unsigned()) {
      if (v->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) return fail_value(key, *v, expected);
      x = static_cast<int64_t>(v->get<uint64_t>());
    } else if (v->is_number_integer()) {
      x = v->get<int64_t>();
    } else if (v->is_number_float()) {
      // 8.0 is the integer 8, as JSON has it; 8.5 and 1e30 are no integer we take.
      const double d = v->get<double>();
      if (!(d >= -9.0e18 && d <= 9.0e18) || d != std::floor(d)) return fail_value(key, *v, expected);
      x = static_cast<int64_t>(d);
    } else {
      return fail_value(key, *v, expected);
    }
    if (x < lo || x > hi) return fail_value(key, *v, expected);
    *out = x;
    return true;
  }

  bool number(const char* key, double lo, double hi, std::optional<double>* out) {
    const json* v = find(key);
    if (error || !v) return !error;
    const std::string expected = "a number in [" + json(lo).dump() + ", " + json(hi).dump() + "]";
    if (!v->is_number()) return fail_value(key, *v, expected);
    const double x = v->get<double>();
    if (!(x >= lo && x <= hi)) return fail_value(key, *v, expected);
    *out = x;
    return true;
  }

  bool boolean(const char* key, std::optional<bool>* out) {
    const json* v = find(key);
    if (error || !v) return !error;
    if (!v->is_boolean()) return fail_value(key, *v, "true or false");
    *out = v->get<bool>();
    return true;
  }

  // A field we cannot honour unless it is unset, false or 0: refused, not ignored.
  bool only_neutral(const char* key, const std::string& what) {
    const json* v = find(key);
    if (error || !v) return !error;
    if ((v->is_boolean() && !v->get<bool>()) || (v->is_number() && v->get<double>() == 0.0)) return true;
    return fail(key, std::string(key) + " is " + shown(*v) + "; " + what, "unsupported_value");
  }

  std::optional<ApiError> error;

 private:
  const json& obj_;
  std::string op_;
};

// content: a string, or an array of {"type": "text", "text": ...} parts.
bool read_content(Reader& r, const json& content, const std::string& param, std::string* out) {
  if (content.is_string()) {
    *out = content.get<std::string>();
    return true;
  }
  if (!content.is_array()) return r.fail_value(param, content, "a string or an array of text parts");
  for (size_t k = 0; k < content.size(); ++k) {
    const json& part = content[k];
    const std::string p = param + "[" + std::to_string(k) + "]";
    if (!part.is_object()) return r.fail_value(p, part, "an object {\"type\": \"text\", \"text\": ...}");
    const auto type = part.find("type");
    if (type == part.end() || !type->is_string() || *type != "text")
      return r.fail(p + ".type",
                    p + ".type is " + (type == part.end() ? std::string("missing") : shown(*type)) +
                        "; only \"text\" parts are supported",
                    "unsupported_value");
    const auto text = part.find("text");
    if (text == part.end() || !text->is_string())
      return r.fail_value(p + ".text", text == part.end() ? json() : *text, "a string");
    *out += text->get<std::string>();
  }
  return true;
}

bool read_messages(Reader& r, ParsedRequest* out) {
  const json* msgs = r.find("messages");
  if (!msgs)
    return r.fail("messages", "messages is missing; it must be a non-empty array of messages",
                  "missing_required_parameter");
  if (!msgs->is_array() || msgs->empty())
    return r.fail_value("messages", *msgs, "a non-empty array of messages");
  for (size_t i = 0; i < msgs->size(); ++i) {
    const json& m = (*msgs)[i];
    const std::string p = "messages[" + std::to_string(i) + "]";
    if (!m.is_object()) return r.fail_value(p, m, "an object with role and content");
    const char* roles = "one of \"system\", \"developer\", \"user\", \"assistant\"";
    const auto role = m.find("role");
    if (role == m.end()) return r.fail(p + ".role", p + ".role is missing; it must be " + roles);
    if (!role->is_string()) return r.fail_value(p + ".role", *role, roles);
    std::string rs = role->get<std::string>();
    if (rs != "system" && rs != "developer" && rs != "user" && rs != "assistant")
      return r.fail_value(p + ".role", *role, roles);
    // The templates know system turns; "developer" is OpenAI's newer name for them.
    if (rs == "developer") rs = "system";
    ChatMessage cm{rs, ""};
    const auto content = m.find("content");
    const bool absent = content == m.end() || content->is_null();
    // An assistant turn may carry no content (OpenAI allows it alongside tool calls).
    if (absent && rs != "assistant")
      return r.fail_value(p + ".content", json(), "a string or an array of text parts");
    if (!absent && !read_content(r, *content, p + ".content", &cm.content)) return false;
    out->messages.push_back(std::move(cm));
  }
  return true;
}

bool read_token_ids(Reader& r, const json& arr, const std::string& param, std::vector<int32_t>* out) {
  for (size_t k = 0; k < arr.size(); ++k) {
    const json& t = arr[k];
    if (!t.is_number_integer() || t.get<int64_t>() < 0 || t.get<int64_t>() > INT32_MAX)
      return r.fail_value(param + "[" + std::to_string(k) + "]", t, "a token id (an integer >= 0)");
    out->push_back(static_cast<int32_t>(t.get<int64_t>()));
  }
  return true;
}

// prompt: a string, or one prompt as [string], [ids...] or [[ids...]].
bool read_prompt(Reader& r, ParsedRequest* out) {
  const json* p = r.find("prompt");
  const std::string expected = "a string, an array of token ids, or an array holding one of these";
  if (!p) return r.fail("prompt", "prompt is missing; it must be " + expected, "missing_required_parameter");
  if (p->is_string()) {
    out->prompt = p->get<std::string>();
    return true;
  }
  if (!p->is_array() || p->empty()) return r.fail_value("prompt", *p, expected);
  if ((*p)[0].is_number_integer()) {
    out->prompt_is_tokens = true;
    return read_token_ids(r, *p, "prompt", &out->prompt_tokens);
  }
  if (p->size() != 1)
    return r.fail("prompt",
                  "prompt is an array of " + std::to_string(p->size()) +
                      " prompts; this server takes one prompt per request",
                  "unsupported_value");
  const json& one = (*p)[0];
  if (one.is_string()) {
    out->prompt = one.get<std::string>();
    return true;
  }
  if (one.is_array() && !one.empty()) {
    out->prompt_is_tokens = true;
    return read_token_ids(r, one, "prompt[0]", &out->prompt_tokens);
  }
  return r.fail_value("prompt[0]", one, "a string or a non-empty array of token ids");
}

bool read_stop(Reader& r, ParsedRequest* out) {
  const json* s = r.find("stop");
  if (!s) return true;
  const std::string expected = "a non-empty string or an array of at most 4 non-empty strings";
  if (s->is_string()) {
    if (s->get<std::string>().empty()) return r.fail_value("stop", *s, expected);
    out->stop.push_back(s->get<std::string>());
    return true;
  }
  if (!s->is_array() || s->size() > kMaxStop) return r.fail_value("stop", *s, expected);
  for (size_t k = 0; k < s->size(); ++k) {
    const json& e = (*s)[k];
    if (!e.is_string() || e.get<std::string>().empty())
      return r.fail_value("stop[" + std::to_string(k) + "]", e, "a non-empty string");
    out->stop.push_back(e.get<std::string>());
  }
  return true;
}

bool read_sampling(Reader& r, ParsedRequest* out) {
  std::optional<int64_t> max_tokens, max_completion_tokens, seed, n;
  std::optional<double> temperature, top_p;
  std::optional<bool> stream;
  if (!r.integer("max_tokens", 1, kMaxTokensLimit, &max_tokens) ||
      !r.integer("max_completion_tokens", 1, kMaxTokensLimit, &max_completion_tokens) ||
      !r.number("temperature", 0.0, 2.0, &temperature) || !r.number("top_p", 0.0, 1.0, &top_p) ||
      !r.integer("seed", INT64_MIN, INT64_MAX, &seed) || !r.integer("n", 1, 1, &n) ||
      !r.boolean("stream", &stream) || !read_stop(r, out))
    return false;
  // max_completion_tokens is the newer name; when both come, it wins (as OpenAI documents).
  if (max_completion_tokens)
    out->max_tokens = static_cast<int32_t>(*max_completion_tokens);
  else if (max_tokens)
    out->max_tokens = static_cast<int32_t>(*max_tokens);
  if (temperature) out->temperature = static_cast<float>(*temperature);
  if (top_p) out->top_p = static_cast<float>(*top_p);
  if (seed) out->seed = static_cast<uint64_t>(*seed);
  out->stream = stream.value_or(false);
  if (const json* so = r.find("stream_options")) {
    if (!so->is_object())
      return r.fail_value("stream_options", *so, "an object such as {\"include_usage\": true}");
    const auto iu = so->find("include_usage");
    if (iu != so->end() && !iu->is_null()) {
      if (!iu->is_boolean()) return r.fail_value("stream_options.include_usage", *iu, "true or false");
      out->include_usage = iu->get<bool>();
    }
  }
  // What the engine cannot do is refused, never silently ignored.
  return r.only_neutral("presence_penalty", "penalties are not supported (use 0)") &&
         r.only_neutral("frequency_penalty", "penalties are not supported (use 0)") &&
         r.only_neutral("logprobs", "log probabilities are not supported") &&
         r.only_neutral("echo", "echoing the prompt is not supported");
}

bool read_model(Reader& r, const std::string& alias) {
  const json* m = r.find("model");
  if (!m) return true;
  if (!m->is_string()) return r.fail_value("model", *m, "a string naming the model");
  if (m->get<std::string>() == alias) return true;
  if (!r.error) {
    r.fail("model", "model " + shown(*m) + " is not served here; this server serves \"" + alias + "\"",
           "model_not_found");
    r.error->status = 404;
  }
  return false;
}

}  // namespace

std::optional<ApiError> parse_request(Endpoint endpoint, const std::string& body,
                                      const std::string& model_alias, ParsedRequest* out) {
  const std::string op = endpoint_op(endpoint);
  if (too_deep(body))
    return bad_request("",
                       "[" + op + "] the body nests arrays and objects more than " +
                           std::to_string(kMaxDepth) + " levels deep",
                       "invalid_json");
  json j;
  try {
    j = json::parse(body);
  } catch (const json::exception& e) {
    return bad_request("", "[" + op + "] the body is not valid JSON: " + e.what(), "invalid_json");
  }
  if (!j.is_object())
    return bad_request("", "[" + op + "] the body is " + shown(j) + "; it must be a JSON object");
  try {
    ParsedRequest p;
    p.endpoint = endpoint;
    Reader r(j, op);
    const bool ok = read_model(r, model_alias) &&
                    (endpoint == Endpoint::kChat ? read_messages(r, &p) : read_prompt(r, &p)) &&
                    read_sampling(r, &p);
    if (!ok) return r.error;
    *out = std::move(p);
    return std::nullopt;
  } catch (const std::exception& e) {
    // A library surprise (a type error we did not foresee) is still the
    // client's request at fault, not a crash.
    return bad_request("", "[" + op + "] cannot read the request: " + e.what());
  }
}

}  // namespace tessera_server
