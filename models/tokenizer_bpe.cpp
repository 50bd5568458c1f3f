// Byte-level BPE (tokenizer.ggml.model = "gpt2"): every byte of the text is
// first a symbol spelled with GPT-2's byte -> printable code point map, then
// adjacent symbols are merged by merge rank, lowest first, as Hugging Face
// tokenizers' BPE does. Merging runs per pre-token over a priority queue, so
// a word of n bytes costs O(n log n).
#include <array>
#include <queue>

#include "models/tokenizer_impl.h"

namespace tessera::models::detail {
namespace {

// GPT-2's bytes_to_unicode(): printable Latin-1 bytes stand for themselves,
// the others (controls, space, ...) are moved to U+0100 and up in byte order.
struct ByteMap {
  std::array<uint32_t, 256> to_cp{};
  std::array<int16_t, 324> to_byte{};  // code points U+0000..U+0143; -1 for none
  ByteMap() {
    to_byte.fill(-1);
    uint32_t next = 256;
    for (uint32_t b = 0; b < 256; ++b) {
      const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174);
      to_cp[b] = printable ? b : next++;
      to_byte[to_cp[b]] = static_cast<int16_t>(b);
    }
  }
};
const ByteMap& byte_map() {
  static const ByteMap map;
  return map;
}

uint64_t pair_key(int32_t a, int32_t b) {
  return (static_cast<uint64_t>(a) << 32) | static_cast<uint32_t>(b);
}

class BpeTokenizer final : public Tokenizer {
 public:
  explicit BpeTokenizer(TokenizerVocab& v) : Tokenizer(v, ""), pre_(pre_tokenizer_for(v.pre)) {
    // Llama 3's tokenizer takes a pre-token found whole in the vocabulary as is.
    ignore_merges_ = pre_ == PreTokenizer::kLlama3;
    for (uint32_t b = 0; b < 256; ++b) {
      std::string s;
      append_utf8(s, byte_map().to_cp[b]);
      byte_token_[b] = token_id(s);
    }
    merges_.reserve(v.merges.size());
    for (size_t rank = 0; rank < v.merges.size(); ++rank) {
      const std::string& line = v.merges[rank];
      const size_t space = line.find(' ');
      if (space == std::string::npos || space == 0 || space + 1 == line.size() ||
          line.find(' ', space + 1) != std::string::npos)
        throw Error(TSR_ERR_INVALID_ARGUMENT, "[tokenizer] tokenizer.ggml.merges[" + std::to_string(rank) +
                                                  "] = " + quoted(line) +
                                                  " is not two tokens separated by one space");
      const std::string_view left(line.data(), space),
          right(line.data() + space + 1, line.size() - space - 1);
      const int32_t a = token_id(left), b = token_id(right);
      const int32_t result = token_id(std::string(left) + std::string(right));
      if (a < 0 || b < 0 || result < 0)
        throw Error(TSR_ERR_INVALID_ARGUMENT, "[tokenizer] tokenizer.ggml.merges[" + std::to_string(rank) +
                                                  "] = " + quoted(line) + ": " +
                                                  quoted(a < 0   ? left
                                                         : b < 0 ? right
                                                                 : std::string(left) + std::string(right)) +
                                                  " is not in tokenizer.ggml.tokens");
      merges_.emplace(pair_key(a, b), Merge{static_cast<int32_t>(rank), result});  // the first rank wins
    }
  }

  std::string token_to_piece(int32_t id) const override {
    check_id(id);
    const std::string& text = tokens_[id];
    const int32_t type = token_types_[id];
    if (type == kTokenControl || type == kTokenUserDefined) return text;
    std::string out;
    for (const Utf8Char& c : utf8_chars(text)) {
      const int16_t b = c.cp < byte_map().to_byte.size() ? byte_map().to_byte[c.cp] : -1;
      if (b >= 0)
        out += static_cast<char>(b);
      else  // not a byte symbol: a vocabulary written without the byte map
        out.append(text, c.offset, c.len);
    }
    return out;
  }

 protected:
  void encode_text(std::string_view text, bool /*first*/, std::vector<int32_t>& out) const override {
    std::vector<std::string_view> words;
    pre_tokenize(text, pre_, words);
    for (std::string_view w : words) encode_word(w, out);
  }

 private:
  struct Merge {
    int32_t rank;
    int32_t result;
  };
  struct Symbol {
    int32_t id;  // -1 once merged into its left neighbour
    int32_t prev, next;
  };
  struct Candidate {
    int32_t rank, left, right, left_id, right_id, result;
    bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : left > o.left; }
  };

  void encode_word(std::string_view word, std::vector<int32_t>& out) const {
    if (ignore_merges_) {
      std::string spelled;
      for (unsigned char b : word) append_utf8(spelled, byte_map().to_cp[b]);
      if (const int32_t id = token_id(spelled); id >= 0) {
        out.push_back(id);
        return;
      }
    }
    const int32_t n = static_cast<int32_t>(word.size());
    std::vector<Symbol> sym(n);
    for (int32_t i = 0; i < n; ++i) {
      const int32_t id = byte_token_[static_cast<unsigned char>(word[i])];
      sym[i] = {id >= 0 ? id : unk_, i - 1, i + 1 < n ? i + 1 : -1};
    }
    std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> queue;
    const auto consider = [&](int32_t left, int32_t right) {
      if (left < 0 || right < 0) return;
      const auto it = merges_.find(pair_key(sym[left].id, sym[right].id));
      if (it != merges_.end())
        queue.push({it->second.rank, left, right, sym[left].id, sym[right].id, it->second.result});
    };
    for (int32_t i = 0; i + 1 < n; ++i) consider(i, i + 1);
    while (!queue.empty()) {
      const Candidate c = queue.top();
      queue.pop();
      Symbol& l = sym[c.left];
      // Stale when either side has merged since the candidate was queued.
      if (l.id != c.left_id || l.next != c.right || sym[c.right].id != c.right_id) continue;
      Symbol& r = sym[c.right];
      l.id = c.result;
      l.next = r.next;
      if (r.next >= 0) sym[r.next].prev = c.left;
      r.id = -1;
      consider(l.prev, c.left);
      consider(c.left, l.next);
    }
    for (int32_t i = 0; i < n && i >= 0; i = sym[i].next)
      if (sym[i].id >= 0)
        out.push_back(sym[i].id);  // a byte missing from the vocabulary, without unk: dropped
  }

  PreTokenizer pre_;
  bool ignore_merges_ = false;
  std::array<int32_t, 256> byte_token_{};
  std::unordered_map<uint64_t, Merge> merges_;
};

}  // namespace

std::unique_ptr<Tokenizer> make_bpe_tokenizer(TokenizerVocab& vocab) {
  if (vocab.merges.empty())
    throw Error(TSR_ERR_INVALID_ARGUMENT,
                "[tokenizer] tokenizer.ggml.merges is missing or empty (model 'gpt2')");
  return std::make_unique<BpeTokenizer>(vocab);
}

}  // namespace tessera::models::detail
