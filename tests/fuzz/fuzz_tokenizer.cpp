// libFuzzer target: tessera::models::Tokenizer's encode and decode on
// arbitrary text and ids, over the two real vocabularies CI has (SmolLM2:
// byte-level BPE; Gemma 3: SentencePiece) and the hand-built ones of
// fuzz_vocabs.h. Input:
//
//   byte 0   the tokenizer (index into the list built at start-up)
//   byte 1   bit 1: decode (else encode); bit 2: add_bos; bit 3: parse_special
//   rest     encode: the text; decode: ids, 4 bytes each (see decode_ids)
//
// Only tessera::Error may leave the tokenizer, and only where documented (an
// id out of range); anything else escapes and crashes the fuzzer. Checked on
// every encode (the properties tests/models/tokenizer*_test.cpp establish):
//   - every id is in [0, n_vocab);
//   - add_bos only ever prepends BOS: encode(t, true, s) is encode(t, false, s)
//     with or without BOS in front;
//   - byte-level BPE round-trips any bytes, valid UTF-8 or not, control tokens
//     included (they decode to their text): decode(encode(t)) == t, except
//     that a byte whose symbol the vocabulary lacks is encoded as unk (or
//     dropped without one), as tokenizer_bpe.cpp says: SmolLM2 lacks 21 of
//     them (04, 06, 13, 14, 16, 1D, C0, C1, F1, F2, F5..FF), so such a byte
//     decodes as unk's text, "<|endoftext|>";
//   - SentencePiece round-trips with each U+2581 read as the space it spells
//     (Gemma: with or without special tokens; a vocabulary with a space
//     prefix only without them, as decode drops one space at the start only).
// Model files: $TESSERA_SMOLLM2 / $TESSERA_GEMMA3, else
// ~/.cache/tessera/models (scripts/fetch-model.sh smollm2|gemma3); a missing
// one stops the fuzzer at start-up.
#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "models/tokenizer.h"
#include "tests/fuzz/fuzz_input.h"
#include "tests/fuzz/fuzz_vocabs.h"
#include "tests/models/tokenizer_test_util.h"

namespace {

using tessera::Error;
using tessera::models::Tokenizer;
using tessera::models::TokenizerVocab;
using Ids = std::vector<int32_t>;

enum class RoundTrip { kAlways, kWithoutSpecial };

struct Subject {
  std::string name;
  std::unique_ptr<Tokenizer> tok;
  bool spm = false;  // SentencePiece: U+2581 decodes as a space
  RoundTrip round_trip = RoundTrip::kAlways;
  std::array<bool, 256> lacking{};  // byte-level BPE: bytes without a symbol
  std::string unk_piece;            // what such a byte decodes to ("" without unk)
};

std::vector<Subject>& subjects() {
  static std::vector<Subject> s;
  return s;
}

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "ERROR: fuzz_tokenizer: %s\n", what.c_str());
  std::abort();
}

TokenizerVocab load_vocab(const char* env_var, const char* file, const char* fetch_name) {
  const std::string path = tessera::models::test::model_path(env_var, file);
  if (!std::filesystem::exists(path)) {
    std::fprintf(stderr,
                 "ERROR: fuzz_tokenizer: model file %s is missing: set %s or run scripts/fetch-model.sh %s\n",
                 path.c_str(), env_var, fetch_name);
    std::exit(1);
  }
  tsr_gguf* f = nullptr;
  if (tsr_gguf_open(path.c_str(), &f) != TSR_OK) {
    std::fprintf(stderr, "ERROR: fuzz_tokenizer: %s: %s\n", path.c_str(), tsr_last_error());
    std::exit(1);
  }
  try {
    TokenizerVocab v = Tokenizer::read_vocab(f);
    tsr_gguf_close(f);
    return v;
  } catch (const Error& e) {
    std::fprintf(stderr, "ERROR: fuzz_tokenizer: %s: %s\n", path.c_str(), e.what());
    std::exit(1);
  }
}

Subject make_subject(std::string name, TokenizerVocab v, RoundTrip round_trip = RoundTrip::kAlways) {
  Subject s;
  s.name = std::move(name);
  s.spm = v.model == "llama";
  s.round_trip = round_trip;
  const int32_t unk = v.unk;
  try {
    s.tok = Tokenizer::from_vocab(std::move(v));
    if (unk >= 0) s.unk_piece = s.tok->token_to_piece(unk);
  } catch (const Error& e) {
    std::fprintf(stderr, "ERROR: fuzz_tokenizer: %s: %s\n", s.name.c_str(), e.what());
    std::exit(1);
  }
  const std::vector<std::string> symbols = tessera::models::test::byte_level_vocab().tokens;
  for (int b = 0; b < 256; ++b) {
    char byte_token[8];
    std::snprintf(byte_token, sizeof byte_token, "<0x%02X>", b);
    const bool has = s.tok->token_id(s.spm ? std::string(byte_token) : symbols[b]) >= 0;
    // SentencePiece's round trip is checked only over vocabularies with
    // every byte token: which bytes a piece covers otherwise depends on the text.
    if (s.spm && !has) {
      std::fprintf(stderr, "ERROR: fuzz_tokenizer: %s lacks %s\n", s.name.c_str(), byte_token);
      std::exit(1);
    }
    s.lacking[b] = !has;
  }
  return s;
}

std::string spaces_for_marks(std::string text) {
  for (size_t at = 0; (at = text.find("\xE2\x96\x81", at)) != std::string::npos; ++at)
    text.replace(at, 3, " ");
  return text;
}

std::string printable(std::string_view s) { return tessera::models::test::printable(std::string(s)); }

void check_encode(const Subject& s, std::string_view text, bool add_bos, bool parse_special) {
  const Tokenizer& t = *s.tok;
  const Ids ids = t.encode(text, false, parse_special);
  for (int32_t id : ids)
    if (id < 0 || id >= t.n_vocab()) fail(s.name + ": encode gave id " + std::to_string(id));
  if (add_bos) {
    const Ids with = t.encode(text, true, parse_special);
    Ids bos_first = ids;
    if (t.bos() >= 0) bos_first.insert(bos_first.begin(), t.bos());
    if (with != ids && with != bos_first) fail(s.name + ": add_bos did more than prepend BOS");
  }
  if (s.round_trip == RoundTrip::kWithoutSpecial && parse_special) return;
  std::string want;
  for (char c : s.spm ? spaces_for_marks(std::string(text)) : std::string(text))
    want += s.lacking[static_cast<unsigned char>(c)] ? s.unk_piece : std::string(1, c);
  const std::string got = t.decode(ids);
  if (got != want)
    fail(s.name + ": decode(encode(text)) differs: text '" + printable(text) + "', decoded '" +
         printable(got) + "'");
}

// Ids, 4 bytes each: the top two bits of the first choose an id inside the
// vocabulary (00), just past either end (01), or the raw int32 (1x: almost
// always far out of range, negatives included).
Ids decode_ids(tessera_fuzz::FuzzInput& in, int32_t n_vocab) {
  Ids ids;
  while (!in.empty()) {
    const uint32_t v = in.u32();
    switch (v >> 30) {
      case 0:
        ids.push_back(static_cast<int32_t>(v % static_cast<uint32_t>(n_vocab)));
        break;
      case 1:
        ids.push_back(v & 1 ? n_vocab + static_cast<int32_t>(v >> 1 & 3)
                            : -1 - static_cast<int32_t>(v >> 1 & 3));
        break;
      default:
        ids.push_back(static_cast<int32_t>(v));
    }
  }
  return ids;
}

void check_decode(const Subject& s, const Ids& ids) {
  const Tokenizer& t = *s.tok;
  const bool in_range =
      std::all_of(ids.begin(), ids.end(), [&](int32_t id) { return id >= 0 && id < t.n_vocab(); });
  try {
    (void)t.decode(ids);
    if (!in_range) fail(s.name + ": decode accepted an id out of range");
  } catch (const Error& e) {
    if (in_range) fail(s.name + ": decode of ids in range threw: " + e.what());
    if (e.code() != TSR_ERR_INVALID_ARGUMENT)
      fail(s.name + ": decode threw code " + std::to_string(e.code()));
  }
  for (int32_t id : ids) {
    (void)t.is_end_of_generation(id);
    try {
      const std::string piece = t.token_to_piece(id);
      (void)t.token_id(piece);
    } catch (const Error&) {
      if (id >= 0 && id < t.n_vocab()) fail(s.name + ": token_to_piece(" + std::to_string(id) + ") threw");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  auto& all = subjects();
  all.push_back(
      make_subject("SmolLM2", load_vocab("TESSERA_SMOLLM2", "SmolLM2-135M-Instruct.Q4_1.gguf", "smollm2")));
  all.push_back(make_subject("Gemma 3", load_vocab("TESSERA_GEMMA3", "gemma-3-270m-q4_k_m.gguf", "gemma3")));
  all.push_back(make_subject("qwen2 (hand-built)", tessera_fuzz::qwen2_vocab()));
  all.push_back(make_subject("llama3 (hand-built)", tessera_fuzz::llama3_vocab()));
  // A space prefix: decode drops one space at the start of the text only.
  all.push_back(make_subject("spm (hand-built)", tessera_fuzz::spm_vocab(), RoundTrip::kWithoutSpecial));
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tessera_fuzz::FuzzInput in(data, size);
  const Subject& s = subjects()[in.u8() % subjects().size()];
  const uint8_t flags = in.u8();
  const bool decode = flags & 2, add_bos = flags & 4, parse_special = flags & 8;
  try {
    if (decode)
      check_decode(s, decode_ids(in, s.tok->n_vocab()));
    else
      check_encode(s, in.rest(), add_bos, parse_special);
  } catch (const Error& e) {
    // encode never throws; decode's errors for ids out of range are caught in check_decode.
    fail(s.name + ": unexpected tessera::Error: " + e.what());
  }
  return 0;
}
