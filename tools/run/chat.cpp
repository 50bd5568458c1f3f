#include "tools/run/chat.h"

#include <cstdio>

namespace tessera_run {

bool render_chat(const tsr_llm* model, const std::string& name, const std::vector<Message>& messages,
                 std::string* out) {
  std::vector<const char*> roles, contents;
  size_t bytes = 4096;
  for (const Message& m : messages) {
    roles.push_back(m.role.c_str());
    contents.push_back(m.content.c_str());
    bytes += m.content.size() + m.role.size();
  }
  const char* template_name = name.empty() ? nullptr : name.c_str();
  std::vector<char> buf(bytes);
  int32_t n = 0;
  tsr_status_code s = tsr_llm_apply_chat_template_named(model, template_name, roles.data(), contents.data(),
                                                        static_cast<int32_t>(roles.size()), 1, buf.data(),
                                                        static_cast<int32_t>(buf.size()), &n);
  // *n is the full length: one retry with the exact size.
  if (s == TSR_ERR_INVALID_ARGUMENT && n + 1 > static_cast<int32_t>(buf.size())) {
    buf.resize(static_cast<size_t>(n) + 1);
    s = tsr_llm_apply_chat_template_named(model, template_name, roles.data(), contents.data(),
                                          static_cast<int32_t>(roles.size()), 1, buf.data(),
                                          static_cast<int32_t>(buf.size()), &n);
  }
  if (s != TSR_OK) {
    std::fprintf(stderr, "tessera-run: chat template: %s\n", tsr_last_error());
    return false;
  }
  out->assign(buf.data(), static_cast<size_t>(n));
  return true;
}

bool tokenize(const tsr_llm* model, const std::string& text, bool parse_special, std::vector<int32_t>* out) {
  out->resize(text.size() + 8);
  int32_t n = 0;
  if (tsr_llm_tokenize(model, text.data(), static_cast<int64_t>(text.size()), 1, parse_special ? 1 : 0,
                       out->data(), static_cast<int32_t>(out->size()), &n) != TSR_OK) {
    std::fprintf(stderr, "tessera-run: tokenize: %s\n", tsr_last_error());
    return false;
  }
  out->resize(static_cast<size_t>(n));
  return true;
}

int32_t on_token(int32_t token, const char* piece, int32_t n, void* output) {
  auto* o = static_cast<Output*>(output);
  o->tokens.push_back(token);
  o->text.append(piece, static_cast<size_t>(n));
  if (o->stream) {
    std::fwrite(piece, 1, static_cast<size_t>(n), stdout);
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace tessera_run
