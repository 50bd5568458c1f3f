// Internals shared by the tokenizer's files: UTF-8 and code point classes,
// the pre-tokenizers, and the two vocabulary types. Not part of any public API.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "models/tokenizer.h"

namespace tessera::models::detail {

// GGUF token types (tokenizer.ggml.token_type).
enum TokenType : int32_t {
  kTokenNormal = 1,
  kTokenUnknown = 2,
  kTokenControl = 3,
  kTokenUserDefined = 4,
  kTokenUnused = 5,
  kTokenByte = 6,
};

enum class CpClass : uint8_t { kOther, kLetter, kNumber, kSpace };
CpClass classify(uint32_t cp);

// One UTF-8 character of a text: its code point, where it starts and its
// length in bytes. A byte that does not start a valid sequence is a character
// of its own (code point U+FFFD, class kOther), so every byte is covered.
struct Utf8Char {
  uint32_t cp;
  uint32_t offset;
  uint32_t len;
};
std::vector<Utf8Char> utf8_chars(std::string_view text);
void append_utf8(std::string& out, uint32_t cp);

// The regex a tokenizer.ggml.pre selects, implemented by hand:
//   kGpt2        's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//   kGpt2Digits  every \p{N} isolated first, then kGpt2 on the rest (smollm, starcoder)
//   kLlama3      (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
//                 ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
//   kQwen2       kLlama3 with \p{N} instead of \p{N}{1,3}
enum class PreTokenizer { kGpt2, kGpt2Digits, kLlama3, kQwen2 };
// Throws TSR_ERR_UNSUPPORTED naming pre when it is not known.
PreTokenizer pre_tokenizer_for(std::string_view pre);
// Appends the pre-tokens of text (slices of it, in order, covering all of it).
void pre_tokenize(std::string_view text, PreTokenizer kind, std::vector<std::string_view>& out);

// The two vocabulary types; vocab is validated by Tokenizer::from_vocab.
std::unique_ptr<Tokenizer> make_bpe_tokenizer(TokenizerVocab& vocab);
std::unique_ptr<Tokenizer> make_spm_tokenizer(TokenizerVocab& vocab);

std::string quoted(std::string_view s,
                   size_t max_chars = 60);  // 'text' with control bytes escaped, cut at max_chars

}  // namespace tessera::models::detail
