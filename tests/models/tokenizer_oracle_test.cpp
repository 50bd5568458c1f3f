// SmolLM2's tokenizer against Hugging Face tokenizers: the ids in
// tokenizer_oracle.json were written by tokenizer_oracle.py from the same GGUF
// vocabulary (see that script to regenerate). Skips when the model file is
// not on this machine.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "models/tokenizer.h"
#include "tests/models/json_lite.h"
#include "tests/models/tokenizer_test_util.h"

namespace tessera::models {
namespace {

std::string model_path() { return test::model_path("TESSERA_SMOLLM2", "SmolLM2-135M-Instruct.Q4_1.gguf"); }
using test::printable;

class SmolLM2Tokenizer : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string path = model_path();
    if (!std::filesystem::exists(path))
      GTEST_SKIP() << "model file " << path << " is missing (set TESSERA_SMOLLM2)";
    tsr_gguf* f = nullptr;
    ASSERT_EQ(tsr_gguf_open(path.c_str(), &f), TSR_OK) << tsr_last_error();
    file_.reset(f);
    vocab_ = Tokenizer::read_vocab(f);
    tok_ = Tokenizer::from_gguf(f);
  }
  struct Close {
    void operator()(tsr_gguf* f) const { tsr_gguf_close(f); }
  };
  std::unique_ptr<tsr_gguf, Close> file_;
  TokenizerVocab vocab_;
  std::unique_ptr<Tokenizer> tok_;
};

TEST_F(SmolLM2Tokenizer, matches_hugging_face_tokenizers_and_round_trips) {
  std::ifstream in(TESSERA_TOKENIZER_ORACLE_JSON);
  ASSERT_TRUE(in) << "cannot read " << TESSERA_TOKENIZER_ORACLE_JSON;
  std::stringstream ss;
  ss << in.rdbuf();
  const tsr::test::Json doc = tsr::test::Json::parse(ss.str());
  ASSERT_EQ(static_cast<int32_t>(doc["n_vocab"].number), tok_->n_vocab());
  ASSERT_EQ(vocab_.pre, "smollm");

  std::map<std::string, std::unique_ptr<Tokenizer>> by_pre;
  int checked = 0, mismatched = 0;
  for (const tsr::test::Json& c : doc["cases"].array) {
    const std::string& pre = c["pre"].string;
    const std::string& text = c["text"].string;
    const bool parse_special = c["parse_special"].boolean;
    std::vector<int32_t> want;
    for (const tsr::test::Json& id : c["ids"].array) want.push_back(static_cast<int32_t>(id.number));
    std::unique_ptr<Tokenizer>& tok = by_pre[pre];
    if (!tok) {
      TokenizerVocab v = vocab_;
      v.pre = pre;
      tok = Tokenizer::from_vocab(std::move(v));
    }
    const std::vector<int32_t> got = tok->encode(text, /*add_bos=*/false, parse_special);
    ++checked;
    if (got != want) ++mismatched;
    EXPECT_EQ(got, want) << "pre " << pre << ", parse_special " << parse_special << ", text '"
                         << printable(text) << "'";
    EXPECT_EQ(tok->decode(got), text) << "pre " << pre << ", text '" << printable(text) << "'";
  }
  EXPECT_GT(checked, 150);
  std::printf("[oracle] %d strings checked, %d differ from Hugging Face tokenizers\n", checked, mismatched);
}

TEST_F(SmolLM2Tokenizer, reads_special_tokens_and_chat_template) {
  EXPECT_EQ(tok_->bos(), 1);
  EXPECT_EQ(tok_->eos(), 2);
  EXPECT_EQ(tok_->token_id("<|im_end|>"), 2);
  EXPECT_TRUE(tok_->is_end_of_generation(2));                                // <|im_end|>
  EXPECT_TRUE(tok_->is_end_of_generation(tok_->token_id("<|endoftext|>")));  // 0
  EXPECT_FALSE(tok_->is_end_of_generation(tok_->token_id("<|im_start|>")));
  EXPECT_FALSE(tok_->is_end_of_generation(19556));  // "Hello"
  // tokenizer.ggml.add_bos_token is false for SmolLM2.
  EXPECT_EQ(tok_->encode("Hello", true, true), std::vector<int32_t>{19556});

  // The template adds its default system message when the first message is not one.
  EXPECT_EQ(
      tok_->apply_chat_template({{"user", "What is 2+2?"}}, true),
      "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
      "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n");
  EXPECT_EQ(
      tok_->apply_chat_template({{"system", "Be brief."}, {"user", "Hi"}, {"assistant", "Hello!"}}, false),
      "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
      "<|im_start|>assistant\nHello!<|im_end|>\n");
  const std::vector<int32_t> ids =
      tok_->encode(tok_->apply_chat_template({{"user", "Hi"}}, true), false, true);
  // system, user, assistant: each turn opens with the single <|im_start|> token.
  EXPECT_EQ(std::count(ids.begin(), ids.end(), tok_->token_id("<|im_start|>")), 3);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), tok_->token_id("<|im_end|>")), 2);
  EXPECT_EQ(ids[0], tok_->token_id("<|im_start|>"));
}

TEST_F(SmolLM2Tokenizer, encodes_a_long_text_quickly) {
  std::string text;
  for (int i = 0; i < 20000; ++i) text += "The quick brown fox, number " + std::to_string(i) + ", jumps! ";
  text += std::string(100000, 'x');  // one 100 kB word
  const auto t0 = std::chrono::steady_clock::now();
  const std::vector<int32_t> ids = tok_->encode(text, false, true);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(tok_->decode(ids), text);
  EXPECT_LT(s, 5.0) << text.size() << " bytes took " << s << " s";
  std::printf("[perf] %zu bytes -> %zu tokens in %.3f s\n", text.size(), ids.size(), s);
}

}  // namespace
}  // namespace tessera::models
