// Pre-tokenization: the regexes of tokenizer.ggml.pre, matched by hand over
// code point classes (std::regex knows neither \p{L} nor lookahead on
// Unicode, and is far too slow for long prompts). Each matcher mirrors its
// regex alternative by alternative, leftmost first, so a match here is the
// match the regex engine (Oniguruma in Hugging Face tokenizers) would find.
#include <algorithm>

#include "models/tokenizer_impl.h"

namespace tessera::models::detail {
namespace {

struct CodepointRange {
  uint32_t first, last;
  CpClass cls;
};
#include "models/unicode_tables.inc"

bool is_newline(uint32_t cp) { return cp == '\r' || cp == '\n'; }

uint32_t lower_ascii(uint32_t cp) { return cp >= 'A' && cp <= 'Z' ? cp + 32 : cp; }

// One pre-tokenizer run over chars[begin, end): match(i) is the end of the
// match starting at i (always > i).
class Matcher {
 public:
  Matcher(const std::vector<Utf8Char>& chars, const std::vector<CpClass>& cls, size_t end)
      : c_(chars), cls_(cls), end_(end) {}

  uint32_t cp(size_t i) const { return i < end_ ? c_[i].cp : 0; }
  CpClass cls(size_t i) const { return cls_[i]; }
  bool has(size_t i) const { return i < end_; }
  bool is(size_t i, CpClass k) const { return i < end_ && cls_[i] == k; }
  size_t run(size_t i, CpClass k) const {
    while (is(i, k)) ++i;
    return i;
  }

  // 's|'t|'re|'ve|'m|'ll|'d, optionally case-insensitive; 0 when none matches.
  size_t contraction(size_t i, bool ignore_case) const {
    if (cp(i) != '\'' || !has(i + 1)) return 0;
    const auto low = [&](size_t k) { return ignore_case ? lower_ascii(cp(k)) : cp(k); };
    const uint32_t a = low(i + 1);
    if (a == 's' || a == 't' || a == 'm' || a == 'd') return i + 2;
    if (!has(i + 2)) return 0;
    const uint32_t b = low(i + 2);
    if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return i + 3;
    return 0;
  }

  // \s+(?!\S)|\s+ at a whitespace character: the whole run at the end of the
  // text; otherwise all but its last character (which then prefixes the next
  // word), or the single character when the run has only one.
  size_t whitespace(size_t i) const {
    const size_t j = run(i, CpClass::kSpace);
    if (j == end_ || j - i == 1) return j;
    return j - 1;
  }

  size_t gpt2(size_t i) const {
    if (size_t j = contraction(i, false)) return j;
    const size_t k = (cp(i) == ' ' && has(i + 1) && cls(i + 1) != CpClass::kSpace) ? i + 1 : i;
    if (is(k, CpClass::kLetter) || is(k, CpClass::kNumber) || is(k, CpClass::kOther)) return run(k, cls(k));
    return whitespace(i);
  }

  size_t llama3(size_t i, size_t max_digits) const {
    if (size_t j = contraction(i, true)) return j;
    // [^\r\n\p{L}\p{N}]?\p{L}+
    if (is(i, CpClass::kLetter)) return run(i, CpClass::kLetter);
    if (!is_newline(cp(i)) && cls(i) != CpClass::kNumber && is(i + 1, CpClass::kLetter))
      return run(i + 1, CpClass::kLetter);
    // \p{N}{1,max}
    if (is(i, CpClass::kNumber)) return std::min(run(i, CpClass::kNumber), i + max_digits);
    // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
    const size_t k = (cp(i) == ' ' && is(i + 1, CpClass::kOther)) ? i + 1 : i;
    if (is(k, CpClass::kOther)) {
      size_t j = run(k, CpClass::kOther);
      while (has(j) && is_newline(cp(j))) ++j;
      return j;
    }
    // \s*[\r\n]+ : up to and including the run's last newline.
    const size_t j = run(i, CpClass::kSpace);
    for (size_t n = j; n > i; --n)
      if (is_newline(cp(n - 1))) return n;
    return whitespace(i);
  }

 private:
  const std::vector<Utf8Char>& c_;
  const std::vector<CpClass>& cls_;
  size_t end_;
};

}  // namespace

CpClass classify(uint32_t cp) {
  if (cp < 0x80) {  // the common case, without the search
    if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z')) return CpClass::kLetter;
    if (cp >= '0' && cp <= '9') return CpClass::kNumber;
    if (cp == ' ' || (cp >= 0x09 && cp <= 0x0D)) return CpClass::kSpace;
    return CpClass::kOther;
  }
  const auto* end = std::end(kCodepointRanges);
  const auto* it = std::upper_bound(std::begin(kCodepointRanges), end, cp,
                                    [](uint32_t v, const CodepointRange& r) { return v < r.first; });
  if (it == std::begin(kCodepointRanges)) return CpClass::kOther;
  --it;
  return cp <= it->last ? it->cls : CpClass::kOther;
}

std::vector<Utf8Char> utf8_chars(std::string_view text) {
  std::vector<Utf8Char> out;
  out.reserve(text.size());
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  for (size_t i = 0; i < n;) {
    const unsigned char b = s[i];
    uint32_t len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 0;
    uint32_t cp = len == 1 ? b : len == 2 ? (b & 0x1F) : len == 3 ? (b & 0x0F) : (b & 0x07);
    bool ok = len != 0 && i + len <= n;
    for (uint32_t k = 1; ok && k < len; ++k) {
      ok = (s[i + k] & 0xC0) == 0x80;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not characters.
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (ok && (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))) ok = false;
    if (!ok) {
      out.push_back({0xFFFD, static_cast<uint32_t>(i), 1});
      i += 1;
    } else {
      out.push_back({cp, static_cast<uint32_t>(i), len});
      i += len;
    }
  }
  return out;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

PreTokenizer pre_tokenizer_for(std::string_view pre) {
  // The names llama.cpp's converter writes, grouped by the regex they use.
  static const struct {
    const char* name;
    PreTokenizer kind;
  } kNames[] = {
      {"gpt2", PreTokenizer::kGpt2},
      {"gpt-2", PreTokenizer::kGpt2},
      {"mpt", PreTokenizer::kGpt2},
      {"olmo", PreTokenizer::kGpt2},
      {"jais", PreTokenizer::kGpt2},
      {"smollm", PreTokenizer::kGpt2Digits},
      {"starcoder", PreTokenizer::kGpt2Digits},
      {"refact", PreTokenizer::kGpt2Digits},
      {"command-r", PreTokenizer::kGpt2Digits},
      {"codeshell", PreTokenizer::kGpt2Digits},
      {"exaone", PreTokenizer::kGpt2Digits},
      {"minerva-7b", PreTokenizer::kGpt2Digits},
      {"llama3", PreTokenizer::kLlama3},
      {"llama-bpe", PreTokenizer::kLlama3},
      {"dbrx", PreTokenizer::kLlama3},
      {"smaug-bpe", PreTokenizer::kLlama3},
      {"qwen2", PreTokenizer::kQwen2},
      {"stablelm2", PreTokenizer::kQwen2},
      {"deepseek-r1-qwen", PreTokenizer::kQwen2},
  };
  if (pre.empty()) return PreTokenizer::kGpt2;  // no tokenizer.ggml.pre: the original GPT-2 regex
  for (const auto& n : kNames)
    if (pre == n.name) return n.kind;
  throw Error(TSR_ERR_UNSUPPORTED,
              "[tokenizer] tokenizer.ggml.pre '" + std::string(pre) +
                  "' is not supported (known: gpt2, smollm, starcoder, llama3, qwen2, ...)");
}

void pre_tokenize(std::string_view text, PreTokenizer kind, std::vector<std::string_view>& out) {
  const std::vector<Utf8Char> chars = utf8_chars(text);
  std::vector<CpClass> cls(chars.size());
  for (size_t i = 0; i < chars.size(); ++i) cls[i] = classify(chars[i].cp);
  const auto emit = [&](size_t a, size_t b) {
    const size_t from = chars[a].offset, to = b < chars.size() ? chars[b].offset : text.size();
    out.push_back(text.substr(from, to - from));
  };
  // Runs the matcher over [begin, end); the digit-isolating variant calls it
  // once per stretch between numbers, as the Digits pre-tokenizer does.
  const auto split = [&](size_t begin, size_t end) {
    const Matcher m(chars, cls, end);
    for (size_t i = begin; i < end;) {
      size_t j = 0;
      switch (kind) {
        case PreTokenizer::kGpt2:
        case PreTokenizer::kGpt2Digits:
          j = m.gpt2(i);
          break;
        case PreTokenizer::kLlama3:
          j = m.llama3(i, 3);
          break;
        case PreTokenizer::kQwen2:
          j = m.llama3(i, 1);
          break;
      }
      emit(i, j);
      i = j;
    }
  };
  if (kind != PreTokenizer::kGpt2Digits) {
    split(0, chars.size());
    return;
  }
  size_t begin = 0;
  for (size_t i = 0; i < chars.size(); ++i) {
    if (cls[i] != CpClass::kNumber) continue;
    split(begin, i);
    emit(i, i + 1);
    begin = i + 1;
  }
  split(begin, chars.size());
}

}  // namespace tessera::models::detail
