// Small hand-built vocabularies the tokenizer fuzzers run besides the real
// models: one of each code path the model files do not take (Qwen2's and
// Llama 3's pre-tokenizers, Llama 3's whole-word lookup before merging, a
// SentencePiece vocabulary with a space prefix and byte fallback).
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "models/tokenizer.h"
#include "tests/models/tokenizer_test_util.h"

namespace tessera_fuzz {

using tessera::models::TokenizerVocab;

// GGUF token types (tokenizer.ggml.token_type).
enum : int32_t { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kByte = 6 };

inline int32_t add_token(TokenizerVocab& v, const std::string& text, int32_t type, float score = 0) {
  v.tokens.push_back(text);
  v.token_types.push_back(type);
  if (!v.scores.empty() || v.model == "llama") v.scores.push_back(score);
  return static_cast<int32_t>(v.tokens.size()) - 1;
}

// Appends each merge ("left right", in GPT-2's byte spelling: "Ġ" is a space)
// and the token it makes, when that token is new.
inline void add_merges(TokenizerVocab& v, const std::vector<std::string>& merges) {
  for (const std::string& m : merges) {
    const size_t sp = m.find(' ');
    const std::string joined = m.substr(0, sp) + m.substr(sp + 1);
    bool known = false;
    for (const std::string& t : v.tokens) known = known || t == joined;
    if (!known) add_token(v, joined, kNormal);
    v.merges.push_back(m);
  }
}

// Byte-level BPE, pre-tokenizer qwen2 (one digit per pre-token), ChatML
// control tokens and a user-defined token (always matched).
inline TokenizerVocab qwen2_vocab() {
  TokenizerVocab v = tessera::models::test::byte_level_vocab();
  v.pre = "qwen2";
  v.token_types.assign(v.tokens.size(), kNormal);
  add_merges(v, {"h e", "l l", "he ll", "hell o", "Ġ w", "Ġw o", "Ġwo r", "Ġwor l", "Ġworl d", "Ġ t", "Ġt he",
                 "i n", "Ġ in", "Ã ©", "Ċ Ċ", "ä ½", "ä½ ł"});
  v.eos = add_token(v, "<|endoftext|>", kControl);
  add_token(v, "<|im_start|>", kControl);
  add_token(v, "<|im_end|>", kControl);
  add_token(v, "<tool_call>", kUserDefined);
  v.architecture = "qwen2";
  return v;
}

// Byte-level BPE, pre-tokenizer llama-bpe (digits in threes, case-insensitive
// contractions), whole pre-tokens found in the vocabulary taken as they are
// ("Ġworld", "123" have no merges leading to them), BOS added.
inline TokenizerVocab llama3_vocab() {
  TokenizerVocab v = tessera::models::test::byte_level_vocab();
  v.pre = "llama-bpe";
  v.token_types.assign(v.tokens.size(), kNormal);
  add_merges(v, {"h e", "l l", "he ll", "hell o", "Ġ w", "' s"});
  add_token(v, "Ġworld", kNormal);
  add_token(v, "123", kNormal);
  v.bos = add_token(v, "<|begin_of_text|>", kControl);
  v.eos = add_token(v, "<|end_of_text|>", kControl);
  v.eot = add_token(v, "<|eot_id|>", kControl);
  add_token(v, "<|start_header_id|>", kControl);
  add_token(v, "<|end_header_id|>", kControl);
  v.add_bos = true;
  return v;
}

// SentencePiece ("llama"): "▁" pieces with scores, every byte as <0xNN>,
// a space prefix (so decode drops the first space), BOS added.
inline TokenizerVocab spm_vocab() {
  TokenizerVocab v;
  v.model = "llama";
  v.unk = add_token(v, "<unk>", kUnknown);
  v.bos = add_token(v, "<s>", kControl);
  v.eos = add_token(v, "</s>", kControl);
  const std::string mark = "\xE2\x96\x81";  // U+2581, SentencePiece's space
  const std::pair<std::string, float> pieces[] = {{mark, -1},
                                                  {mark + "t", -3},
                                                  {mark + "th", -2.5f},
                                                  {mark + "the", -1},
                                                  {"h", -5},
                                                  {"e", -5},
                                                  {"t", -5},
                                                  {"l", -5},
                                                  {"o", -5},
                                                  {"a", -5},
                                                  {"he", -2},
                                                  {"ll", -2},
                                                  {"llo", -1.5f},
                                                  {"hello", -1.2f},
                                                  {mark + "hello", -0.5f},
                                                  {mark + "a", -2},
                                                  {"\xC3\xA9", -4},
                                                  {"\xE6\x97\xA5", -4},
                                                  {"\xE6\x9C\xAC", -4},
                                                  {"\xE6\x97\xA5\xE6\x9C\xAC", -3}};
  for (const auto& [text, score] : pieces) add_token(v, text, kNormal, score);
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    add_token(v, name, kByte);
  }
  v.add_bos = true;
  v.add_space_prefix = true;
  return v;
}

}  // namespace tessera_fuzz
