// SentencePiece-style vocabularies (tokenizer.ggml.model = "llama"), as
// SentencePiece's BPE model encodes: spaces are spelled U+2581 ("▁") before
// anything is matched (so a literal "▁" in the text is a space too), a
// leading one is added at the start of the text and after special tokens
// when tokenizer.ggml.add_space_prefix says so (Gemma: no), and adjacent
// pieces are merged greedily, the pair whose concatenation is the
// highest-scoring token first (leftmost on ties). A character no token
// covers falls back to its bytes, <0xNN>, else to unk.
#include <array>
#include <cstdio>
#include <queue>

#include "models/tokenizer_impl.h"

namespace tessera::models::detail {
namespace {

constexpr std::string_view kSpaceMark = "\xE2\x96\x81";  // U+2581

class SpmTokenizer final : public Tokenizer {
 public:
  explicit SpmTokenizer(TokenizerVocab& v)
      : Tokenizer(v, kSpaceMark), scores_(std::move(v.scores)), add_space_prefix_(v.add_space_prefix) {
    strip_leading_space_ = add_space_prefix_;
    for (int b = 0; b < 256; ++b) {
      char name[8];
      std::snprintf(name, sizeof(name), "<0x%02X>", b);
      byte_token_[b] = token_id(name);
    }
  }

  std::string token_to_piece(int32_t id) const override {
    check_id(id);
    const std::string& text = tokens_[id];
    const int32_t type = token_types_[id];
    if (type == kTokenControl || type == kTokenUserDefined) return text;
    unsigned byte = 0;
    char end = 0;
    if (type == kTokenByte && text.size() == 6 && std::sscanf(text.c_str(), "<0x%2X%c", &byte, &end) == 2 &&
        end == '>')
      return std::string(1, static_cast<char>(byte));
    std::string out;
    for (size_t i = 0; i < text.size();) {
      if (text.compare(i, kSpaceMark.size(), kSpaceMark) == 0) {
        out += ' ';
        i += kSpaceMark.size();
      } else {
        out += text[i++];
      }
    }
    return out;
  }

 protected:
  void encode_text(std::string_view text, bool first, std::vector<int32_t>& out) const override {
    std::string s;  // spaces are already spelled kSpaceMark (Tokenizer::encode)
    s.reserve(text.size() + kSpaceMark.size());
    if (add_space_prefix_ && first) s += kSpaceMark;
    s += text;

    const std::vector<Utf8Char> chars = utf8_chars(s);
    const int32_t n = static_cast<int32_t>(chars.size());
    std::vector<Symbol> sym(n);
    for (int32_t i = 0; i < n; ++i) sym[i] = {chars[i].offset, chars[i].len, i - 1, i + 1 < n ? i + 1 : -1};

    std::priority_queue<Candidate> queue;
    const auto consider = [&](int32_t left, int32_t right) {
      if (left < 0 || right < 0) return;
      const std::string_view joined(s.data() + sym[left].offset, sym[left].len + sym[right].len);
      const int32_t id = token_id(joined);
      if (id < 0 || token_types_[id] == kTokenControl || token_types_[id] == kTokenByte) return;
      queue.push({scores_.empty() ? 0.0f : scores_[id], left, right, static_cast<uint32_t>(joined.size())});
    };
    for (int32_t i = 0; i + 1 < n; ++i) consider(i, i + 1);
    while (!queue.empty()) {
      const Candidate c = queue.top();
      queue.pop();
      Symbol& l = sym[c.left];
      Symbol& r = sym[c.right];
      // Stale when either side has changed since the candidate was queued.
      if (l.len == 0 || r.len == 0 || l.next != c.right || l.len + r.len != c.len) continue;
      l.len += r.len;
      l.next = r.next;
      if (r.next >= 0) sym[r.next].prev = c.left;
      r.len = 0;
      consider(l.prev, c.left);
      consider(c.left, l.next);
    }

    for (int32_t i = 0; i >= 0; i = sym[i].next) {
      if (n == 0) break;
      const std::string_view piece(s.data() + sym[i].offset, sym[i].len);
      if (const int32_t id = token_id(piece); id >= 0) {
        out.push_back(id);
        continue;
      }
      for (unsigned char b : piece) {
        const int32_t id = byte_token_[b] >= 0 ? byte_token_[b] : unk_;
        if (id >= 0) out.push_back(id);
      }
    }
  }

 private:
  struct Symbol {
    uint32_t offset, len;  // len 0 once merged into its left neighbour
    int32_t prev, next;
  };
  struct Candidate {
    float score;
    int32_t left, right;
    uint32_t len;
    bool operator<(const Candidate& o) const { return score != o.score ? score < o.score : left > o.left; }
  };

  std::vector<float> scores_;
  bool add_space_prefix_;
  std::array<int32_t, 256> byte_token_{};
};

}  // namespace

std::unique_ptr<Tokenizer> make_spm_tokenizer(TokenizerVocab& vocab) {
  if (vocab.scores.empty())
    throw Error(TSR_ERR_INVALID_ARGUMENT, "[tokenizer] tokenizer.ggml.scores is missing (model 'llama')");
  return std::make_unique<SpmTokenizer>(vocab);
}

}  // namespace tessera::models::detail
