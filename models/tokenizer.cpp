// Tokenizer: reading tokenizer.ggml.* from GGUF, validation, special-token
// splitting, decoding and end-of-generation tokens. The vocabulary types live
// in tokenizer_bpe.cpp and tokenizer_spm.cpp, chat templates in tokenizer_chat.cpp.
#include <algorithm>
#include <functional>

#include "models/tokenizer_impl.h"

namespace tessera::models {
namespace {

using detail::quoted;

[[noreturn]] void invalid(const std::string& msg) {
  throw Error(TSR_ERR_INVALID_ARGUMENT, "[tokenizer] " + msg);
}

bool has_key(const tsr_gguf* f, const char* key) {
  int64_t index = 0;
  return tsr_gguf_find_key(f, key, &index) == TSR_OK;
}

// Any status from the GGUF reader becomes an Error whose message names the key.
void check_key(tsr_status_code rc, const char* key) {
  if (rc != TSR_OK) throw Error(rc, std::string("[tokenizer] ") + key + ": " + tsr_last_error());
}

std::string get_string(const tsr_gguf* f, const char* key, const std::string& fallback) {
  if (!has_key(f, key)) return fallback;
  tsr_gguf_string s{};
  check_key(tsr_gguf_get_string(f, key, &s), key);
  return std::string(s.data, s.size);
}

int64_t get_int(const tsr_gguf* f, const char* key, int64_t fallback) {
  if (!has_key(f, key)) return fallback;
  int64_t v = 0;
  check_key(tsr_gguf_get_int(f, key, &v), key);
  return v;
}

// Length of the array under key (0 when missing), after checking its element type.
uint64_t array_length(const tsr_gguf* f, const char* key, bool want_string, bool want_float) {
  if (!has_key(f, key)) return 0;
  tsr_gguf_type elem{};
  uint64_t n = 0;
  check_key(tsr_gguf_get_array(f, key, &elem, &n), key);
  const bool is_string = elem == TSR_GGUF_STRING;
  const bool is_float = elem == TSR_GGUF_FLOAT32 || elem == TSR_GGUF_FLOAT64;
  if (is_string != want_string || is_float != want_float || elem == TSR_GGUF_ARRAY)
    invalid(std::string(key) + " is an array of GGUF type " + std::to_string(elem) + ", expected " +
            (want_string  ? "strings"
             : want_float ? "floats"
                          : "integers"));
  return n;
}

std::vector<std::string> get_strings(const tsr_gguf* f, const char* key) {
  const uint64_t n = array_length(f, key, true, false);
  std::vector<std::string> out(n);
  for (uint64_t i = 0; i < n; ++i) {
    tsr_gguf_string s{};
    check_key(tsr_gguf_array_string(f, key, i, &s), key);
    out[i].assign(s.data, s.size);
  }
  return out;
}

int32_t to_id(int64_t v, const char* key) {
  if (v < -1 || v > INT32_MAX) invalid(std::string(key) + " = " + std::to_string(v) + " is not a token id");
  return static_cast<int32_t>(v);
}

}  // namespace

namespace detail {

std::string quoted(std::string_view s, size_t max_chars) {
  std::string out = "'";
  for (size_t i = 0; i < s.size() && i < max_chars; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20) {
      static const char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  out += s.size() > max_chars ? "'..." : "'";
  return out;
}

}  // namespace detail

TokenizerVocab Tokenizer::read_vocab(const tsr_gguf* f) {
  if (!f) invalid("the GGUF file is null");
  TokenizerVocab v;
  if (!has_key(f, "tokenizer.ggml.model")) invalid("tokenizer.ggml.model is missing");
  v.model = get_string(f, "tokenizer.ggml.model", "");
  v.pre = get_string(f, "tokenizer.ggml.pre", "");
  if (!has_key(f, "tokenizer.ggml.tokens")) invalid("tokenizer.ggml.tokens is missing");
  v.tokens = get_strings(f, "tokenizer.ggml.tokens");
  if (const uint64_t n = array_length(f, "tokenizer.ggml.scores", false, true)) {
    v.scores.resize(n);
    for (uint64_t i = 0; i < n; ++i) {
      double d = 0;
      check_key(tsr_gguf_array_float(f, "tokenizer.ggml.scores", i, &d), "tokenizer.ggml.scores");
      v.scores[i] = static_cast<float>(d);
    }
  }
  if (const uint64_t n = array_length(f, "tokenizer.ggml.token_type", false, false)) {
    v.token_types.resize(n);
    for (uint64_t i = 0; i < n; ++i) {
      int64_t t = 0;
      check_key(tsr_gguf_array_int(f, "tokenizer.ggml.token_type", i, &t), "tokenizer.ggml.token_type");
      v.token_types[i] = static_cast<int32_t>(std::clamp<int64_t>(t, INT32_MIN, INT32_MAX));
    }
  }
  v.merges = get_strings(f, "tokenizer.ggml.merges");
  v.bos = to_id(get_int(f, "tokenizer.ggml.bos_token_id", -1), "tokenizer.ggml.bos_token_id");
  v.eos = to_id(get_int(f, "tokenizer.ggml.eos_token_id", -1), "tokenizer.ggml.eos_token_id");
  v.eot = to_id(get_int(f, "tokenizer.ggml.eot_token_id", -1), "tokenizer.ggml.eot_token_id");
  v.eom = to_id(get_int(f, "tokenizer.ggml.eom_token_id", -1), "tokenizer.ggml.eom_token_id");
  v.unk = to_id(get_int(f, "tokenizer.ggml.unknown_token_id", -1), "tokenizer.ggml.unknown_token_id");
  // SentencePiece models add BOS and a leading space unless told otherwise.
  const bool spm = v.model == "llama";
  v.add_bos = get_int(f, "tokenizer.ggml.add_bos_token", spm ? 1 : 0) != 0;
  v.add_space_prefix = get_int(f, "tokenizer.ggml.add_space_prefix", spm ? 1 : 0) != 0;
  v.chat_template = get_string(f, "tokenizer.chat_template", "");
  v.architecture = get_string(f, "general.architecture", "");
  return v;
}

std::unique_ptr<Tokenizer> Tokenizer::from_gguf(const tsr_gguf* file) { return from_vocab(read_vocab(file)); }

std::unique_ptr<Tokenizer> Tokenizer::from_vocab(TokenizerVocab v) {
  const size_t n = v.tokens.size();
  if (n == 0) invalid("tokenizer.ggml.tokens is empty");
  if (n > INT32_MAX)
    invalid("tokenizer.ggml.tokens has " + std::to_string(n) + " entries, more than int32 ids hold");
  if (!v.scores.empty() && v.scores.size() != n)
    invalid("tokenizer.ggml.scores has " + std::to_string(v.scores.size()) +
            " entries, tokenizer.ggml.tokens " + std::to_string(n));
  if (v.token_types.empty()) v.token_types.assign(n, detail::kTokenNormal);
  if (v.token_types.size() != n)
    invalid("tokenizer.ggml.token_type has " + std::to_string(v.token_types.size()) +
            " entries, tokenizer.ggml.tokens " + std::to_string(n));
  const std::pair<const char*, int32_t> ids[] = {{"tokenizer.ggml.bos_token_id", v.bos},
                                                 {"tokenizer.ggml.eos_token_id", v.eos},
                                                 {"tokenizer.ggml.eot_token_id", v.eot},
                                                 {"tokenizer.ggml.eom_token_id", v.eom},
                                                 {"tokenizer.ggml.unknown_token_id", v.unk}};
  for (const auto& [key, id] : ids)
    if (id < -1 || id >= static_cast<int64_t>(n))
      invalid(std::string(key) + " = " + std::to_string(id) + " is out of range for " + std::to_string(n) +
              " tokens");
  if (v.model == "gpt2") return detail::make_bpe_tokenizer(v);
  if (v.model == "llama") return detail::make_spm_tokenizer(v);
  invalid("tokenizer.ggml.model " + quoted(v.model) + " is not supported (supported: gpt2, llama)");
}

Tokenizer::Tokenizer(TokenizerVocab& v, std::string_view space_mark)
    : tokens_(std::move(v.tokens)),
      token_types_(std::move(v.token_types)),
      space_mark_(space_mark),
      chat_template_(std::move(v.chat_template)),
      architecture_(std::move(v.architecture)),
      bos_(v.bos),
      eos_(v.eos),
      eot_(v.eot),
      unk_(v.unk),
      add_bos_(v.add_bos) {
  ids_.reserve(tokens_.size());
  // A duplicated text keeps its first id, as the converters' dictionaries do.
  for (size_t i = 0; i < tokens_.size(); ++i) ids_.emplace(tokens_[i], static_cast<int32_t>(i));

  std::vector<int32_t> specials;
  for (size_t i = 0; i < tokens_.size(); ++i) {
    const int32_t t = token_types_[i];
    if ((t == detail::kTokenControl || t == detail::kTokenUserDefined) && !tokens_[i].empty())
      specials.push_back(static_cast<int32_t>(i));
  }
  special_texts_.reserve(specials.size());  // no reallocation: special_ids_ holds views
  for (int32_t id : specials) {
    // GGUF converters write Gemma's user-defined runs of spaces with plain
    // spaces; SentencePiece matches them as "▁▁" in the escaped text.
    const std::string& text = special_texts_.emplace_back(escape_spaces(tokens_[id]));
    special_ids_.emplace(text, id);  // a duplicated text keeps its first id
    special_lengths_[static_cast<unsigned char>(text[0])].push_back(static_cast<uint32_t>(text.size()));
  }
  for (auto& lengths : special_lengths_) {
    std::sort(lengths.begin(), lengths.end(), std::greater<>());
    lengths.erase(std::unique(lengths.begin(), lengths.end()), lengths.end());
  }

  for (int32_t id : {v.eos, v.eot, v.eom})
    if (id >= 0) end_of_generation_.push_back(id);
  // Chat models end a turn with these even where the file names another EOS.
  for (const char* text :
       {"<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<|eom_id|>", "<end_of_turn>", "<|end|>"}) {
    const int32_t id = token_id(text);
    if (id >= 0 && token_types_[id] == detail::kTokenControl) end_of_generation_.push_back(id);
  }
  std::sort(end_of_generation_.begin(), end_of_generation_.end());
  end_of_generation_.erase(std::unique(end_of_generation_.begin(), end_of_generation_.end()),
                           end_of_generation_.end());
}

int32_t Tokenizer::token_id(std::string_view text) const {
  const auto it = ids_.find(text);
  return it == ids_.end() ? -1 : it->second;
}

void Tokenizer::check_id(int32_t id) const {
  if (id < 0 || id >= n_vocab())
    throw Error(TSR_ERR_INVALID_ARGUMENT, "[tokenizer] token id " + std::to_string(id) +
                                              " is out of range [0, " + std::to_string(n_vocab()) + ")");
}

bool Tokenizer::is_end_of_generation(int32_t id) const {
  return std::binary_search(end_of_generation_.begin(), end_of_generation_.end(), id);
}

std::string Tokenizer::escape_spaces(std::string_view text) const {
  if (space_mark_.empty()) return std::string(text);
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == ' ')
      out += space_mark_;
    else
      out += c;
  }
  return out;
}

int32_t Tokenizer::match_special(std::string_view text, size_t at, bool parse_special,
                                 size_t* out_len) const {
  for (uint32_t len : special_lengths_[static_cast<unsigned char>(text[at])]) {
    if (len > text.size() - at) continue;
    const auto it = special_ids_.find(text.substr(at, len));
    if (it == special_ids_.end()) continue;
    if (!parse_special && token_types_[it->second] != detail::kTokenUserDefined) continue;
    *out_len = len;
    return it->second;
  }
  return -1;
}

std::vector<int32_t> Tokenizer::encode(std::string_view raw, bool add_bos, bool parse_special) const {
  std::vector<int32_t> out;
  if (add_bos && add_bos_ && bos_ >= 0) out.push_back(bos_);
  const std::string escaped = escape_spaces(raw);
  const std::string_view text = escaped;
  // Leftmost-longest match of the special tokens; the text between them goes
  // to the vocabulary's own encoder.
  size_t done = 0;  // text before this is encoded
  bool first = true;
  for (size_t i = 0; i < text.size(); ++i) {
    size_t len = 0;
    const int32_t found = match_special(text, i, parse_special, &len);
    if (found < 0) continue;
    if (found == bos_ && i == 0 && out.size() == 1) out.clear();  // the text's BOS replaces add_bos's
    if (i > done) encode_text(text.substr(done, i - done), first, out);
    out.push_back(found);
    first = true;
    done = i + len;
    i = done - 1;
  }
  if (done < text.size()) encode_text(text.substr(done), first, out);
  return out;
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids) const {
  std::string out;
  bool strip = strip_leading_space_;
  for (int32_t id : ids) {
    std::string piece = token_to_piece(id);
    if (token_types_[id] == detail::kTokenControl) {
      out += piece;
      continue;
    }
    if (strip && !piece.empty() && piece[0] == ' ') piece.erase(0, 1);
    strip = false;
    out += piece;
  }
  return out;
}

}  // namespace tessera::models
