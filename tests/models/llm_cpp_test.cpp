// The C++ wrapper of the LLM API (tessera_llm.hpp) on the tiny llama: what it
// returns equals what the C API gives, errors arrive as tessera::Error with
// the C API's code and message, and an exception thrown by a token callback
// stops generation and comes back out of generate without crossing C.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "tessera/tessera_llm.hpp"
#include "tests/models/llm_test_fixture.h"
#include "tests/models/tiny_llama.h"

namespace {

class LlmCpp : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = ::testing::TempDir() + "tiny_llama_cpp_" + std::to_string(::getpid()) + ".gguf";
    ASSERT_TRUE(tessera::test::write_tiny_llama(path_));
  }
  void TearDown() override { std::remove(path_.c_str()); }
  std::string path_;
};

const std::vector<int32_t> kPrompt = {5, 72, 101, 108, 258, 111, 32, 87, 111, 259, 100, 33, 7};

TEST_F(LlmCpp, tokenize_and_pieces_round_trip) {
  tessera::Context ctx;
  tessera::Llm llm(ctx, path_);
  EXPECT_EQ(llm.info().n_vocab, 261);
  const std::string text = "Hello world";
  const std::vector<int32_t> toks = llm.tokenize(text, /*add_bos=*/false);
  ASSERT_FALSE(toks.empty());
  std::string back;
  for (int32_t t : toks) back += llm.token_to_piece(t);
  EXPECT_EQ(back, text);
  // A text longer than the first guess of the buffer needs no retry loop
  // from the caller.
  const std::string longer(300, 'a');
  EXPECT_FALSE(llm.tokenize(longer).empty());
}

TEST_F(LlmCpp, generate_truncate_and_stats) {
  tessera::Context ctx;
  tessera::Llm llm(ctx, path_);
  tessera::LlmSession s(llm);
  std::vector<int32_t> first;
  const tsr_llm_stats st = s.generate(kPrompt, 6, [&](int32_t tok, std::string_view) {
    first.push_back(tok);
    return false;
  });
  EXPECT_EQ(st.finish_reason, TSR_LLM_FINISH_LENGTH);
  ASSERT_EQ(first.size(), 6u);
  EXPECT_EQ(s.n_past(), static_cast<int32_t>(kPrompt.size()) + 6);

  s.truncate(static_cast<int32_t>(kPrompt.size()) - 1);
  std::vector<int32_t> again;
  s.generate(std::span<const int32_t>(&kPrompt.back(), 1), 6, [&](int32_t tok, std::string_view) {
    again.push_back(tok);
    return false;
  });
  EXPECT_EQ(again, first);

  // A state saved here and loaded into a new session continues alike.
  s.truncate(static_cast<int32_t>(kPrompt.size()));
  s.eval(std::span<const int32_t>(&first[0], 1));
  tessera::LlmSession restored(llm);
  restored.load_state(s.save_state());
  EXPECT_EQ(restored.n_past(), s.n_past());
  std::vector<int32_t> a, b;
  s.generate({}, 4, [&](int32_t tok, std::string_view) { return a.push_back(tok), false; });
  restored.generate({}, 4, [&](int32_t tok, std::string_view) { return b.push_back(tok), false; });
  EXPECT_EQ(a, std::vector<int32_t>(first.begin() + 1, first.begin() + 5));
  EXPECT_EQ(b, a);

  try {
    s.truncate(1000);
    ADD_FAILURE() << "truncate past n_past did not throw";
  } catch (const tessera::Error& e) {
    EXPECT_EQ(e.code(), TSR_ERR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(e.what()).find("n_keep 1000"), std::string::npos) << e.what();
  }
}

TEST_F(LlmCpp, a_callback_exception_stops_generation_and_is_rethrown) {
  tessera::Context ctx;
  tessera::Llm llm(ctx, path_);
  tessera::LlmSession s(llm);
  int calls = 0;
  EXPECT_THROW(s.generate(kPrompt, 10,
                          [&](int32_t, std::string_view) -> bool {
                            if (++calls == 3) throw std::runtime_error("client went away");
                            return false;
                          }),
               std::runtime_error);
  EXPECT_EQ(calls, 3);
  // The session stays usable: the stopping token went into the cache.
  EXPECT_EQ(s.n_past(), static_cast<int32_t>(kPrompt.size()) + 3);
  const tsr_llm_stats st = s.generate({}, 2);
  EXPECT_EQ(st.n_generated, 2);
}

TEST_F(LlmCpp, callbacks_stop_a_prefill) {
  tessera::Context ctx;
  tessera::LlmOptions o;
  o.n_batch = 4;
  tessera::Llm llm(ctx, path_, o);
  tessera::LlmSession s(llm);
  int steps = 0;
  s.set_callbacks([&] { return steps >= 2; }, [&](int32_t, int32_t) { ++steps; });
  try {
    s.eval(kPrompt);
    ADD_FAILURE() << "the eval was not aborted";
  } catch (const tessera::Error& e) {
    EXPECT_EQ(e.code(), TSR_ERR_ABORTED) << e.what();
  }
  EXPECT_EQ(s.n_past(), 8);  // two steps of 4
  s.set_callbacks({});
  s.eval(std::span<const int32_t>(kPrompt).subspan(8));
  EXPECT_EQ(s.n_past(), static_cast<int32_t>(kPrompt.size()));
}

TEST_F(LlmCpp, batch_logits_equal_a_session) {
  tessera::Context ctx;
  tessera::Llm llm(ctx, path_);
  tessera::LlmBatch b(llm, 2);
  const std::vector<int32_t> other = {5, 200, 17};
  b.eval({kPrompt, other});
  EXPECT_EQ(b.n_past(0), static_cast<int32_t>(kPrompt.size()));
  tessera::LlmSession s(llm);
  s.eval(other);
  const std::span<const float> want = s.logits(), got = b.logits(1);
  EXPECT_LT(tessera::test::rel_diff(want, got), 1e-5);
  // A sampler on a batch sequence's logits: greedy is the argmax.
  tessera::LlmSampler greedy;
  EXPECT_EQ(greedy.sample(got), static_cast<int32_t>(std::max_element(got.begin(), got.end()) - got.begin()));
  EXPECT_THROW(b.eval({kPrompt}), tessera::Error);  // one list for two sequences
  b.truncate(0, 4);
  EXPECT_EQ(b.n_past(0), 4);
}

}  // namespace
