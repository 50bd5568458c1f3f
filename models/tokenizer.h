// Tokenizer read from GGUF metadata (tokenizer.ggml.*): byte-level BPE as
// used by SmolLM2 and Qwen2 (tokenizer.ggml.model = "gpt2", with merges and
// pre-tokenization) and SentencePiece-style ("llama", scores, byte-fallback
// tokens <0xNN>). Special and added tokens (BOS/EOS/EOT, <|im_start|>, ...)
// are matched verbatim when parse_special is set. Built only on the public
// API (tessera_gguf.h). Errors are thrown as tessera::Error with a message
// naming the metadata key and the values.
//
//   auto tok = Tokenizer::from_gguf(file);
//   std::vector<int32_t> ids = tok->encode(tok->apply_chat_template({{"user", "Hi"}}, true), true, true);
//   std::string text = tok->decode(ids);
//
// Threading: a Tokenizer is immutable after construction; any thread may use it.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tessera/tessera.hpp"
#include "tessera/tessera_gguf.h"

namespace tessera::models {

struct ChatMessage {
  std::string role;  // "system", "user", "assistant"
  std::string content;
};

// The vocabulary as stored under tokenizer.ggml.*; from_gguf reads one, tests
// may build one by hand.
struct TokenizerVocab {
  std::string model;  // tokenizer.ggml.model: "gpt2" (byte-level BPE) or "llama" (SentencePiece)
  std::string pre;    // tokenizer.ggml.pre (gpt2): selects the pre-tokenizer regex; "" = GPT-2's
  std::vector<std::string> tokens;   // tokenizer.ggml.tokens
  std::vector<float> scores;         // tokenizer.ggml.scores: empty, or one per token (llama needs them)
  std::vector<int32_t> token_types;  // tokenizer.ggml.token_type: empty (all normal), or one per token
  std::vector<std::string> merges;   // tokenizer.ggml.merges: "left right" by rank (gpt2)
  int32_t bos = -1, eos = -1, eot = -1, eom = -1, unk = -1;  // -1: none
  bool add_bos = false;                                      // tokenizer.ggml.add_bos_token
  bool add_space_prefix = true;                              // tokenizer.ggml.add_space_prefix (llama)
  std::string chat_template;                                 // tokenizer.chat_template
  std::string architecture;  // general.architecture: picks the chat template when the file has none
};

class Tokenizer {
 public:
  // Reads the vocabulary from an open GGUF file; the file may be closed afterwards.
  static std::unique_ptr<Tokenizer> from_gguf(const tsr_gguf* file);
  static TokenizerVocab read_vocab(const tsr_gguf* file);
  // Validates vocab (counts, ids, merges) and builds the tokenizer it describes.
  static std::unique_ptr<Tokenizer> from_vocab(TokenizerVocab vocab);
  virtual ~Tokenizer() = default;
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  // Text -> token ids. add_bos prepends BOS when the model asks for it
  // (tokenizer.ggml.add_bos_token, default per model type), unless the text
  // already starts with it (a chat template that writes bos_token, parsed
  // with parse_special): a model never wants two. parse_special matches
  // control tokens written in the text; user-defined tokens are always matched.
  std::vector<int32_t> encode(std::string_view text, bool add_bos, bool parse_special) const;
  // Raw bytes of one token (byte-level pieces decoded; special tokens as their text).
  // Throws TSR_ERR_INVALID_ARGUMENT for an id out of range.
  virtual std::string token_to_piece(int32_t id) const = 0;
  std::string decode(const std::vector<int32_t>& ids) const;

  int32_t n_vocab() const { return static_cast<int32_t>(tokens_.size()); }
  int32_t bos() const { return bos_; }
  int32_t eos() const { return eos_; }
  int32_t eot() const { return eot_; }  // -1 if the model has none
  // The id of a token by its exact text, or -1.
  int32_t token_id(std::string_view text) const;
  // True for tokens that end generation (EOS, EOT, <|im_end|> for ChatML models).
  bool is_end_of_generation(int32_t id) const;
  // The names apply_chat_template takes: chatml, gemma, llama3.
  static const std::vector<std::string>& chat_template_names();
  // messages rendered as a chat template renders them (tokenizer_chat.cpp
  // has each one's published Jinja source). The template is the one named,
  // when name is not empty; else the file's tokenizer.chat_template,
  // recognised by its marker tokens; else the one the architecture
  // determines (gemma3: gemma; qwen2, qwen3: chatml). Templates that write
  // bos_token write the model's BOS text; encode does not add a second BOS.
  // Throws TSR_ERR_INVALID_ARGUMENT for a name not in chat_template_names()
  // or a conversation the template refuses (Gemma: roles must alternate),
  // and TSR_ERR_UNSUPPORTED, quoting the template, for one it does not
  // know or when there is none and the architecture does not determine one
  // ("llama" covers SmolLM2, Llama 2 and Llama 3).
  std::string apply_chat_template(const std::vector<ChatMessage>& messages, bool add_generation_prompt,
                                  std::string_view name = {}) const;

 protected:
  // space_mark: SentencePiece spells a space as U+2581 before it matches
  // anything (user-defined tokens too); empty for byte-level BPE.
  Tokenizer(TokenizerVocab& vocab, std::string_view space_mark);
  // Appends the ids of a stretch of text holding no special token, spaces
  // already spelled as space_mark; first is true at the start of the text or
  // right after a special token.
  virtual void encode_text(std::string_view text, bool first, std::vector<int32_t>& out) const = 0;
  void check_id(int32_t id) const;
  // text with every space spelled as space_mark_ (a copy when there is none).
  std::string escape_spaces(std::string_view text) const;
  // The longest special token at text[at] (control ones only when
  // parse_special) and its length in text, or -1.
  int32_t match_special(std::string_view text, size_t at, bool parse_special, size_t* out_len) const;

  std::vector<std::string> tokens_;
  std::vector<int32_t> token_types_;  // GGUF token types (1 normal, 3 control, 4 user-defined, 6 byte)
  std::unordered_map<std::string_view, int32_t> ids_;  // views into tokens_
  std::vector<int32_t> end_of_generation_;
  // Control and user-defined tokens by their text (spaces spelled as
  // space_mark), and for each first byte the lengths such texts have, longest
  // first: a position is tried with one hash lookup per length, not once per
  // token (Gemma has 6,000 control tokens starting with '<').
  std::vector<std::string> special_texts_;
  std::unordered_map<std::string_view, int32_t> special_ids_;  // views into special_texts_
  std::array<std::vector<uint32_t>, 256> special_lengths_;
  std::string space_mark_;
  std::string chat_template_;  // tokenizer.chat_template, may be empty
  std::string architecture_;   // general.architecture, may be empty
  int32_t bos_ = -1, eos_ = -1, eot_ = -1, unk_ = -1;
  bool add_bos_ = false;
  bool strip_leading_space_ = false;  // decode drops the space encode put before the text
};

}  // namespace tessera::models
