// Gemma 3's SentencePiece tokenizer against Google's sentencepiece: the ids in
// tokenizer_oracle_gemma.json were written by tokenizer_oracle_gemma.py from
// the same GGUF vocabulary (see that script for how the reference is built and
// to regenerate). Skips when the model file is not on this machine
// (scripts/fetch-model.sh gemma3 fetches it).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "models/tokenizer.h"
#include "tests/models/json_lite.h"
#include "tests/models/tokenizer_test_util.h"

namespace tessera::models {
namespace {

std::string model_path() { return test::model_path("TESSERA_GEMMA3", "gemma-3-270m-q4_k_m.gguf"); }
using test::printable;

using Ids = std::vector<int32_t>;

class GemmaTokenizer : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string path = model_path();
    if (!std::filesystem::exists(path))
      GTEST_SKIP() << "model file " << path
                   << " is missing (scripts/fetch-model.sh gemma3 fetches it, or set TESSERA_GEMMA3)";
    tsr_gguf* f = nullptr;
    ASSERT_EQ(tsr_gguf_open(path.c_str(), &f), TSR_OK) << tsr_last_error();
    tok_ = Tokenizer::from_gguf(f);
    tsr_gguf_close(f);
  }
  std::unique_ptr<Tokenizer> tok_;
};

TEST_F(GemmaTokenizer, matches_sentencepiece_and_round_trips) {
  std::ifstream in(TESSERA_TOKENIZER_ORACLE_GEMMA_JSON);
  ASSERT_TRUE(in) << "cannot read " << TESSERA_TOKENIZER_ORACLE_GEMMA_JSON;
  std::stringstream ss;
  ss << in.rdbuf();
  const tsr::test::Json doc = tsr::test::Json::parse(ss.str());
  ASSERT_EQ(static_cast<int32_t>(doc["n_vocab"].number), tok_->n_vocab());

  int checked = 0, mismatched = 0;
  for (const tsr::test::Json& c : doc["cases"].array) {
    const std::string& text = c["text"].string;
    const bool parse_special = c["parse_special"].boolean;
    Ids want;
    for (const tsr::test::Json& id : c["ids"].array) want.push_back(static_cast<int32_t>(id.number));
    const Ids got = tok_->encode(text, /*add_bos=*/false, parse_special);
    ++checked;
    if (got != want) ++mismatched;
    EXPECT_EQ(got, want) << "parse_special " << parse_special << ", text '" << printable(text) << "'";
    // SentencePiece reads a literal U+2581 as a space and decodes it as one.
    std::string decoded = text;
    for (size_t at; (at = decoded.find("\xE2\x96\x81")) != std::string::npos;) decoded.replace(at, 3, " ");
    EXPECT_EQ(tok_->decode(got), decoded) << "text '" << printable(text) << "'";
    // tokenizer.ggml.add_bos_token is true: BOS (2) comes first, once.
    if (want.empty() || want[0] != 2) want.insert(want.begin(), 2);
    EXPECT_EQ(tok_->encode(text, /*add_bos=*/true, parse_special), want)
        << "text '" << printable(text) << "'";
  }
  EXPECT_GT(checked, 80);
  std::printf("[oracle] %d strings checked, %d differ from sentencepiece\n", checked, mismatched);
}

TEST_F(GemmaTokenizer, reads_special_tokens) {
  EXPECT_EQ(tok_->bos(), 2);
  EXPECT_EQ(tok_->eos(), 1);
  EXPECT_EQ(tok_->token_id("<start_of_turn>"), 105);
  EXPECT_EQ(tok_->token_id("<end_of_turn>"), 106);
  EXPECT_TRUE(tok_->is_end_of_generation(1));    // <eos>
  EXPECT_TRUE(tok_->is_end_of_generation(106));  // <end_of_turn> ends a model turn
  EXPECT_FALSE(tok_->is_end_of_generation(105));
  EXPECT_FALSE(tok_->is_end_of_generation(2));
  // BOS written in the text is not doubled by add_bos.
  EXPECT_EQ(tok_->encode("<bos>Hello", true, true), Ids({2, 9259}));
  EXPECT_EQ(tok_->decode({2, 9259, 1902}), "<bos>Hello world");
}

TEST_F(GemmaTokenizer, invalid_utf8_falls_back_to_bytes_and_round_trips) {
  // Not in the oracle: Python strings cannot hold these bytes. Each invalid
  // byte is a character of its own, in no piece: <0xFF> is 493, <0xFE> 492.
  const std::string text = "a\xFF\xFE b\xE2\x96";
  const Ids ids = tok_->encode(text, false, false);
  EXPECT_NE(std::find(ids.begin(), ids.end(), 493), ids.end());
  EXPECT_NE(std::find(ids.begin(), ids.end(), 492), ids.end());
  EXPECT_EQ(tok_->decode(ids), text);
}

TEST_F(GemmaTokenizer, chat_template_comes_from_the_architecture_and_encodes_as_sentencepiece_does) {
  // The file has no tokenizer.chat_template; general.architecture gemma3 determines it.
  const std::string text =
      tok_->apply_chat_template({{"system", "You are brief."}, {"user", "What is 2+2?"}}, true);
  EXPECT_EQ(text,
            "<bos><start_of_turn>user\nYou are brief.\n\nWhat is 2+2?<end_of_turn>\n<start_of_turn>model\n");
  // The oracle's ids for this text (tokenizer_oracle_gemma.json): one BOS, though add_bos is set.
  EXPECT_EQ(tok_->encode(text, /*add_bos=*/true, /*parse_special=*/true),
            Ids({2,      105,    2364,   107,    3048,   659, 8652, 236761, 108,  3689, 563,
                 236743, 236778, 236862, 236778, 236881, 106, 107,  105,    4368, 107}));
}

TEST_F(GemmaTokenizer, encodes_a_long_text_quickly) {
  // Spaces, newlines and '<' start user-defined or control tokens: every one
  // of them is a place where the special-token matcher looks.
  std::string text;
  for (int i = 0; i < 20000; ++i)
    text += "The <b>quick</b> fox,  number " + std::to_string(i) + ",\n\n jumps! ";
  const auto t0 = std::chrono::steady_clock::now();
  const Ids ids = tok_->encode(text, false, true);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(tok_->decode(ids), text);
  EXPECT_LT(s, 5.0) << text.size() << " bytes took " << s << " s";
  std::printf("[perf] %zu bytes -> %zu tokens in %.3f s\n", text.size(), ids.size(), s);
}

}  // namespace
}  // namespace tessera::models
