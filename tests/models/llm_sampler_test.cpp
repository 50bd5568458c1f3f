// Sampling on any logits (tsr_llm_sampler), logit bias, prefix copies between
// sessions and stop strings: each checked against what a plain session does.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "tests/models/llm_test_fixture.h"

namespace {

const std::vector<int32_t> kPrompt = {5, 72, 101, 108, 258, 111, 32, 87, 111, 259, 100, 33, 7};

class LlmSampler : public tessera::test::TinyLlmTest {
 protected:
  static std::vector<float> last_logits(const tsr_llm_session* s, int32_t n_vocab) {
    const float* p = nullptr;
    int32_t rows = 0;
    EXPECT_EQ(tsr_llm_session_logits(s, &p, &rows), TSR_OK) << tsr_last_error();
    return rows ? std::vector<float>(p + static_cast<size_t>(rows - 1) * n_vocab,
                                     p + static_cast<size_t>(rows) * n_vocab)
                : std::vector<float>();
  }
  static int32_t first_token(tsr_llm_session* s) {
    int32_t tok = -1;
    auto keep = [](int32_t t, const char*, int32_t, void* u) -> int32_t {
      *static_cast<int32_t*>(u) = t;
      return 1;
    };
    EXPECT_EQ(tsr_llm_generate(s, nullptr, 0, 1, keep, &tok, nullptr), TSR_OK) << tsr_last_error();
    return tok;
  }
  static constexpr int32_t kVocab = 261;
};

// A sampler with a session's settings and seed draws the token that session
// draws from the same logits and history.
TEST_F(LlmSampler, draws_what_a_session_draws) {
  tsr_llm* m = load();
  ASSERT_NE(m, nullptr);
  tsr_llm_sampling sp{sizeof sp};
  sp.temperature = 1.0f;
  sp.top_k = 40;
  sp.repeat_penalty = 1.2f;
  sp.seed = 7;
  tsr_llm_session* s = session(m, sp);
  ASSERT_EQ(tsr_llm_session_eval(s, kPrompt.data(), static_cast<int32_t>(kPrompt.size()), 0), TSR_OK);
  const std::vector<float> logits = last_logits(s, kVocab);
  tsr_llm_sampler* sampler = nullptr;
  ASSERT_EQ(tsr_llm_sampler_create(&sp, &sampler), TSR_OK) << tsr_last_error();
  int32_t drawn = -1;
  ASSERT_EQ(tsr_llm_sampler_sample(sampler, logits.data(), kVocab, kPrompt.data(),
                                   static_cast<int32_t>(kPrompt.size()), &drawn),
            TSR_OK)
      << tsr_last_error();
  EXPECT_EQ(drawn, first_token(s));
  // Reset returns to the seed: the same draw again.
  int32_t again = -1;
  ASSERT_EQ(tsr_llm_sampler_reset(sampler), TSR_OK);
  ASSERT_EQ(tsr_llm_sampler_sample(sampler, logits.data(), kVocab, kPrompt.data(),
                                   static_cast<int32_t>(kPrompt.size()), &again),
            TSR_OK);
  EXPECT_EQ(again, drawn);
  EXPECT_EQ(tsr_llm_sampler_sample(sampler, logits.data(), 0, nullptr, 0, &again), TSR_ERR_INVALID_ARGUMENT);
  tsr_llm_sampler_free(sampler);
}

// Banning the argmax makes greedy sampling pick the runner-up, in a session
// and on a caller's logits.
TEST_F(LlmSampler, a_logit_bias_bans_the_argmax) {
  tsr_llm* m = load();
  ASSERT_NE(m, nullptr);
  tsr_llm_session* s = session(m);
  ASSERT_EQ(tsr_llm_session_eval(s, kPrompt.data(), static_cast<int32_t>(kPrompt.size()), 0), TSR_OK);
  const std::vector<float> logits = last_logits(s, kVocab);
  std::vector<int32_t> order(kVocab);
  for (int32_t i = 0; i < kVocab; ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return logits[a] > logits[b]; });
  const int32_t best = order[0], second = order[1];
  const float ban = -INFINITY;
  ASSERT_EQ(tsr_llm_session_set_logit_bias(s, &best, &ban, 1), TSR_OK) << tsr_last_error();
  EXPECT_EQ(first_token(s), second);

  tsr_llm_sampling greedy{sizeof greedy};
  tsr_llm_sampler* sampler = nullptr;
  ASSERT_EQ(tsr_llm_sampler_create(&greedy, &sampler), TSR_OK);
  int32_t t = -1;
  ASSERT_EQ(tsr_llm_sampler_sample(sampler, logits.data(), kVocab, nullptr, 0, &t), TSR_OK);
  EXPECT_EQ(t, best);
  const float boost = 1000.0f;
  ASSERT_EQ(tsr_llm_sampler_set_logit_bias(sampler, &order[5], &boost, 1), TSR_OK);
  ASSERT_EQ(tsr_llm_sampler_sample(sampler, logits.data(), kVocab, nullptr, 0, &t), TSR_OK);
  EXPECT_EQ(t, order[5]);
  tsr_llm_sampler_free(sampler);

  const int32_t outside = kVocab;
  EXPECT_EQ(tsr_llm_session_set_logit_bias(s, &outside, &ban, 1), TSR_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(tsr_last_error()).find("261, outside the vocabulary"), std::string::npos)
      << tsr_last_error();
}

// A prefix copied from another session continues as that session does.
TEST_F(LlmSampler, a_copied_prefix_continues_like_its_source) {
  tsr_llm* m = load(64);
  ASSERT_NE(m, nullptr);
  const int32_t n = static_cast<int32_t>(kPrompt.size());
  tsr_llm_session* a = session(m);
  ASSERT_EQ(tsr_llm_session_eval(a, kPrompt.data(), n, 0), TSR_OK);
  tsr_llm_session* b = session(m);
  ASSERT_EQ(tsr_llm_session_eval(b, kPrompt.data() + 3, 4, 0), TSR_OK);  // something to replace
  ASSERT_EQ(tsr_llm_session_copy_prefix(a, b, 10), TSR_OK) << tsr_last_error();
  int32_t n_past = -1;
  ASSERT_EQ(tsr_llm_session_n_past(b, &n_past), TSR_OK);
  EXPECT_EQ(n_past, 10);
  ASSERT_EQ(tsr_llm_session_eval(b, kPrompt.data() + 10, n - 10, 0), TSR_OK) << tsr_last_error();
  EXPECT_LT(tessera::test::rel_diff(last_logits(a, kVocab), last_logits(b, kVocab)), 1e-5);
  EXPECT_EQ(first_token(b), first_token(a));

  EXPECT_EQ(tsr_llm_session_copy_prefix(a, b, 100), TSR_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(tsr_last_error()).find("n 100 is outside [0, the source's n_past"), std::string::npos)
      << tsr_last_error();
}

// A stop string split across pieces is held back, never shown, and ends
// the stream with the text before it.
TEST_F(LlmSampler, the_stop_matcher_holds_back_a_split_stop_string) {
  const char* stops[] = {"</s>", "STOP"};
  tsr_llm_stop_matcher* m = nullptr;
  ASSERT_EQ(tsr_llm_stop_matcher_create(stops, 2, &m), TSR_OK) << tsr_last_error();
  std::string shown;
  auto feed = [&](const char* piece) {
    const char* text = nullptr;
    int32_t n = 0, stopped = 0;
    EXPECT_EQ(
        tsr_llm_stop_matcher_feed(m, piece, static_cast<int32_t>(std::strlen(piece)), &text, &n, &stopped),
        TSR_OK);
    shown.append(text, static_cast<size_t>(n));
    return stopped;
  };
  EXPECT_EQ(feed("Hel"), 0);
  EXPECT_EQ(feed("lo <"), 0);
  EXPECT_EQ(shown, "Hello ");  // "<" may begin "</s>"
  EXPECT_EQ(feed("x ST"), 0);
  EXPECT_EQ(shown, "Hello <x ");
  EXPECT_EQ(feed("O"), 0);
  EXPECT_EQ(feed("P and more"), 1);
  EXPECT_EQ(shown, "Hello <x ");
  tsr_llm_stop_matcher_free(m);

  // Without a stop, flush releases what was held.
  ASSERT_EQ(tsr_llm_stop_matcher_create(stops, 2, &m), TSR_OK);
  shown.clear();
  EXPECT_EQ(feed("end </"), 0);
  const char* rest = nullptr;
  int32_t n = 0;
  ASSERT_EQ(tsr_llm_stop_matcher_flush(m, &rest, &n), TSR_OK);
  shown.append(rest, static_cast<size_t>(n));
  EXPECT_EQ(shown, "end </");
  tsr_llm_stop_matcher_free(m);
}

// A session with a stop string ends at the token that completes it.
TEST_F(LlmSampler, generation_ends_at_a_stop_string) {
  tsr_llm* m = load();
  ASSERT_NE(m, nullptr);
  struct Pieces {
    std::vector<std::string> p;
  } plain, stopped;
  auto keep = [](int32_t, const char* piece, int32_t n, void* u) -> int32_t {
    static_cast<Pieces*>(u)->p.emplace_back(piece, static_cast<size_t>(n));
    return 0;
  };
  tsr_llm_sampling sp{sizeof sp};
  sp.ignore_eos = 1;
  const int32_t n = static_cast<int32_t>(kPrompt.size());
  ASSERT_EQ(tsr_llm_generate(session(m, sp), kPrompt.data(), n, 8, keep, &plain, nullptr), TSR_OK);
  ASSERT_EQ(plain.p.size(), 8u);
  // The text up to a token with a non-empty piece: it completes there first.
  size_t k = 2;
  while (k < 7 && plain.p[k].empty()) ++k;
  std::string stop;
  for (size_t i = 0; i <= k; ++i) stop += plain.p[i];
  ASSERT_FALSE(plain.p[k].empty());
  tsr_llm_session* s = session(m, sp);
  const char* stops[] = {stop.c_str()};
  ASSERT_EQ(tsr_llm_session_set_stop_strings(s, stops, 1), TSR_OK) << tsr_last_error();
  tsr_llm_stats st{sizeof st};
  ASSERT_EQ(tsr_llm_generate(s, kPrompt.data(), n, 8, keep, &stopped, &st), TSR_OK) << tsr_last_error();
  EXPECT_EQ(st.finish_reason, TSR_LLM_FINISH_STOP_STRING);
  EXPECT_STREQ(tsr_llm_finish_reason_name(st.finish_reason), "stop_string");
  EXPECT_EQ(st.n_generated, static_cast<int32_t>(k + 1));
}

}  // namespace
