// Helpers the tokenizer tests share: where a real model file is, how to
// print a test string, and a byte-level BPE vocabulary to build on.
#pragma once

#include <cstdlib>
#include <string>
#include <vector>

#include "models/tokenizer.h"
#include "models/tokenizer_impl.h"

namespace tessera::models::test {

// $env_var if set, else ~/.cache/tessera/models/<file> (scripts/fetch-model.sh's cache).
inline std::string model_path(const char* env_var, const char* file) {
  if (const char* p = std::getenv(env_var)) return p;
  const char* home = std::getenv("HOME");
  return std::string(home ? home : "") + "/.cache/tessera/models/" + file;
}

// s with newlines and control bytes escaped, for failure messages.
inline std::string printable(const std::string& s) {
  std::string out;
  for (unsigned char c : s)
    out += c == '\n' ? std::string("\\n") : c < 0x20 ? "\\x" + std::to_string(c) : std::string(1, c);
  return out;
}

// A gpt2 BPE vocabulary holding the 256 byte symbols (GPT-2's spelling:
// printable bytes as themselves, the rest from U+0100 on), normal type.
inline TokenizerVocab byte_level_vocab() {
  TokenizerVocab v;
  v.model = "gpt2";
  v.pre = "gpt2";
  int next = 256;
  for (int b = 0; b < 256; ++b) {
    const bool shown = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174;
    std::string s;
    detail::append_utf8(s, shown ? b : next++);
    v.tokens.push_back(s);
  }
  return v;
}

}  // namespace tessera::models::test
