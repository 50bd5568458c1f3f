// What tessera-run's one-shot and interactive modes share: rendering a
// conversation with the model's chat template, tokenizing, and the
// streaming token callback. Each returns false after printing the library's
// message to stderr.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tessera/tessera_llm.h"

namespace tessera_run {

struct Message {
  std::string role, content;
};

// The conversation through the template called name (empty: the model's
// own), with the assistant prompt added.
bool render_chat(const tsr_llm* model, const std::string& name, const std::vector<Message>& messages,
                 std::string* out);
// text as tokens, with BOS when the model asks for it; special tokens parsed
// when parse_special (rendered chat templates contain them).
bool tokenize(const tsr_llm* model, const std::string& text, bool parse_special, std::vector<int32_t>* out);

// The tokens and text generated so far; streamed to stdout as they come
// unless stream is false.
struct Output {
  bool stream = true;
  std::vector<int32_t> tokens;
  std::string text;
};
int32_t on_token(int32_t token, const char* piece, int32_t n, void* output);

}  // namespace tessera_run
