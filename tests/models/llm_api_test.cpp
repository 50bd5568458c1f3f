// The LLM API (tessera_llm.h) on a tiny random llama GGUF: loading, the KV
// cache across compiled steps (one chunk, several chunks and token by token
// give the same logits), seeded generation, and errors that name their values.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tessera/tessera_llm.h"
#include "tests/models/llm_test_fixture.h"
#include "tests/models/tiny_llama.h"

namespace {

class LlmApi : public tessera::test::TinyLlmTest {
 protected:
  static std::vector<float> rows(const tsr_llm_session* s, int32_t n_vocab, int32_t* n_rows = nullptr) {
    const float* p = nullptr;
    int32_t r = 0;
    EXPECT_EQ(tsr_llm_session_logits(s, &p, &r), TSR_OK) << tsr_last_error();
    if (n_rows) *n_rows = r;
    return std::vector<float>(p, p + static_cast<size_t>(r) * n_vocab);
  }
  // Max |a - b| over max |a|.
  static double rel_diff(const float* a, const float* b, size_t n) {
    double d = 0.0, m = 0.0;
    for (size_t i = 0; i < n; ++i) {
      d = std::max(d, static_cast<double>(std::fabs(a[i] - b[i])));
      m = std::max(m, static_cast<double>(std::fabs(a[i])));
    }
    return d / std::max(m, 1e-30);
  }
  static int32_t n_vocab(const tsr_llm* m) {
    tsr_llm_info info{sizeof info};
    EXPECT_EQ(tsr_llm_get_info(m, &info), TSR_OK);
    return info.n_vocab;
  }
};

const std::vector<int32_t> kPrompt = {5, 72, 101, 108, 258, 111, 32, 87, 111, 259, 100, 33, 7};

TEST_F(LlmApi, load_reports_the_hyperparameters) {
  std::vector<float> fractions;
  tsr_llm_options o{sizeof o};
  o.progress = [](float f, void* u) { static_cast<std::vector<float>*>(u)->push_back(f); };
  o.progress_user = &fractions;
  tsr_llm* m = nullptr;
  ASSERT_EQ(tsr_llm_load(ctx_, path_.c_str(), &o, &m), TSR_OK) << tsr_last_error();
  models_.push_back(m);
  tsr_llm_info info{sizeof info};
  ASSERT_EQ(tsr_llm_get_info(m, &info), TSR_OK);
  EXPECT_STREQ(info.architecture, "llama");
  EXPECT_EQ(info.n_vocab, 261);
  EXPECT_EQ(info.n_embd, 64);
  EXPECT_EQ(info.n_layer, 2);
  EXPECT_EQ(info.n_head, 4);
  EXPECT_EQ(info.n_head_kv, 2);
  EXPECT_EQ(info.n_ff, 96);
  EXPECT_EQ(info.n_ctx_train, 512);
  EXPECT_EQ(info.n_ctx, 512) << "n_ctx 0 is min(training context, 2048)";
  EXPECT_GT(info.weight_bytes, 0u);
  ASSERT_GE(fractions.size(), 3u);
  EXPECT_EQ(fractions.front(), 0.0f);
  EXPECT_EQ(fractions.back(), 1.0f);
  EXPECT_TRUE(std::is_sorted(fractions.begin(), fractions.end()));
  EXPECT_NE(std::string(tsr_llm_placement(m)).find("cpu"), std::string::npos) << tsr_llm_placement(m);
}

TEST_F(LlmApi, tokenize_round_trips_through_pieces) {
  tsr_llm* m = load();
  ASSERT_NE(m, nullptr);
  const std::string text = "hello, world";
  int32_t ids[64], n = 0;
  ASSERT_EQ(tsr_llm_tokenize(m, text.c_str(), static_cast<int64_t>(text.size()), 0, 0, ids, 64, &n), TSR_OK)
      << tsr_last_error();
  ASSERT_GT(n, 0);
  EXPECT_LT(n, static_cast<int32_t>(text.size())) << "the merges 'h e' and 'l l' apply";
  std::string back;
  for (int32_t i = 0; i < n; ++i) {
    char buf[32];
    int32_t len = 0;
    ASSERT_EQ(tsr_llm_token_to_piece(m, ids[i], buf, sizeof buf, &len), TSR_OK) << tsr_last_error();
    back.append(buf, len);
  }
  EXPECT_EQ(back, text);
  int32_t small[1];
  EXPECT_EQ(tsr_llm_tokenize(m, text.c_str(), -1, 0, 0, small, 1, &n), TSR_ERR_INVALID_ARGUMENT);
  EXPECT_GT(n, 1) << "the full count is reported when the buffer is too small";
}

// The KV cache is shared by the compiled steps: feeding the prompt at once,
// in chunks of 4 (steps of 4 and 1 tokens) or one token at a time must give
// the same logits at every position.
TEST_F(LlmApi, chunked_and_token_by_token_eval_match_one_chunk) {
  tsr_llm* whole = load(0, 0);
  tsr_llm* chunked = load(0, 4);
  ASSERT_TRUE(whole && chunked);
  const int32_t V = n_vocab(whole);
  const int32_t n = static_cast<int32_t>(kPrompt.size());

  tsr_llm_session* a = session(whole);
  ASSERT_EQ(tsr_llm_session_eval(a, kPrompt.data(), n, 1), TSR_OK) << tsr_last_error();
  int32_t rows_a = 0;
  const std::vector<float> la = rows(a, V, &rows_a);
  ASSERT_EQ(rows_a, n);

  tsr_llm_session* b = session(chunked);
  ASSERT_EQ(tsr_llm_session_eval(b, kPrompt.data(), n, 1), TSR_OK) << tsr_last_error();
  int32_t rows_b = 0;
  const std::vector<float> lb = rows(b, V, &rows_b);
  ASSERT_EQ(rows_b, n);

  tsr_llm_session* c = session(whole);
  for (int32_t i = 0; i < n; ++i) {
    ASSERT_EQ(tsr_llm_session_eval(c, &kPrompt[i], 1, 0), TSR_OK) << tsr_last_error();
    const std::vector<float> lc = rows(c, V);
    ASSERT_EQ(lc.size(), static_cast<size_t>(V));
    EXPECT_LT(rel_diff(&la[static_cast<size_t>(i) * V], lc.data(), V), 1e-4) << "position " << i;
    EXPECT_LT(rel_diff(&la[static_cast<size_t>(i) * V], &lb[static_cast<size_t>(i) * V], V), 1e-4)
        << "position " << i;
  }
  // Last-token logits only (a different compiled step): the same last row.
  tsr_llm_session* d = session(chunked);
  ASSERT_EQ(tsr_llm_session_eval(d, kPrompt.data(), n, 0), TSR_OK) << tsr_last_error();
  int32_t rows_d = 0;
  const std::vector<float> ld = rows(d, V, &rows_d);
  ASSERT_EQ(rows_d, 1);
  EXPECT_LT(rel_diff(&la[static_cast<size_t>(n - 1) * V], ld.data(), V), 1e-4);
  // The logits are not degenerate.
  EXPECT_GT(*std::max_element(la.begin(), la.end()) - *std::min_element(la.begin(), la.end()), 0.1f);
}

TEST_F(LlmApi, sessions_have_independent_caches) {
  tsr_llm* m = load();
  ASSERT_NE(m, nullptr);
  const int32_t V = n_vocab(m);
  tsr_llm_session* a = session(m);
  tsr_llm_session* b = session(m);
  const int32_t n = static_cast<int32_t>(kPrompt.size());
  ASSERT_EQ(tsr_llm_session_eval(a, kPrompt.data(), n, 0), TSR_OK) << tsr_last_error();
  const std::vector<float> alone = rows(a, V);
  // b writes other tokens at the same positions; a's next step must not see them.
  const std::vector<int32_t> other(kPrompt.rbegin(), kPrompt.rend());
  ASSERT_EQ(tsr_llm_session_eval(b, other.data(), n, 0), TSR_OK) << tsr_last_error();
  const int32_t next = 42;
  ASSERT_EQ(tsr_llm_session_eval(a, &next, 1, 0), TSR_OK);
  const std::vector<float> a_next = rows(a, V);
  tsr_llm_session* c = session(m);
  ASSERT_EQ(tsr_llm_session_eval(c, kPrompt.data(), n, 0), TSR_OK);
  ASSERT_EQ(tsr_llm_session_eval(c, &next, 1, 0), TSR_OK);
  EXPECT_EQ(rows(c, V), a_next);
  // Reset forgets the cache: the prompt again gives the first logits.
  ASSERT_EQ(tsr_llm_session_reset(a), TSR_OK);
  ASSERT_EQ(tsr_llm_session_eval(a, kPrompt.data(), n, 0), TSR_OK);
  EXPECT_EQ(rows(a, V), alone);
}

struct Collected {
  std::vector<int32_t> tokens;
};

int32_t collect(int32_t token, const char*, int32_t, void* user) {
  static_cast<Collected*>(user)->tokens.push_back(token);
  return 0;
}

TEST_F(LlmApi, generate_with_a_seed_is_reproducible) {
  tsr_llm* m = load();
  ASSERT_NE(m, nullptr);
  tsr_llm_sampling sp{sizeof sp};
  sp.temperature = 1.5f;
  sp.top_k = 50;
  sp.top_p = 0.95f;
  sp.seed = 1234;
  const int32_t n = static_cast<int32_t>(kPrompt.size());
  Collected r1, r2, r3;
  tsr_llm_stats st{sizeof st};
  tsr_llm_session* s1 = session(m, sp);
  ASSERT_EQ(tsr_llm_generate(s1, kPrompt.data(), n, 20, collect, &r1, &st), TSR_OK) << tsr_last_error();
  tsr_llm_session* s2 = session(m, sp);
  ASSERT_EQ(tsr_llm_generate(s2, kPrompt.data(), n, 20, collect, &r2, nullptr), TSR_OK) << tsr_last_error();
  EXPECT_EQ(r1.tokens, r2.tokens);
  EXPECT_FALSE(r1.tokens.empty());
  EXPECT_EQ(st.n_prompt, n);
  EXPECT_EQ(st.n_generated, static_cast<int32_t>(r1.tokens.size()));
  EXPECT_GT(st.prefill_tokens_per_second, 0.0);
  // Reset restores the seed too.
  ASSERT_EQ(tsr_llm_session_reset(s1), TSR_OK);
  ASSERT_EQ(tsr_llm_generate(s1, kPrompt.data(), n, 20, collect, &r3, nullptr), TSR_OK);
  EXPECT_EQ(r1.tokens, r3.tokens);
  // A different seed samples differently (20 tokens at temperature 1.5).
  sp.seed = 99;
  Collected r4;
  tsr_llm_session* s4 = session(m, sp);
  ASSERT_EQ(tsr_llm_generate(s4, kPrompt.data(), n, 20, collect, &r4, nullptr), TSR_OK);
  EXPECT_NE(r1.tokens, r4.tokens);
}

int32_t session_n_past(const tsr_llm_session* s) {
  int32_t n = -1;
  EXPECT_EQ(tsr_llm_session_n_past(s, &n), TSR_OK) << tsr_last_error();
  return n;
}

// Rolling back to the prompt minus its last token and feeding that token again
// regenerates the same tokens, penalties included: the repetition history is
// cut with the cache (a history that kept the first generation's tokens
// would penalise them the second time).
TEST_F(LlmApi, truncate_then_regenerate_gives_the_same_tokens) {
  tsr_llm* m = load();
  ASSERT_NE(m, nullptr);
  tsr_llm_sampling sp{sizeof sp};
  sp.repeat_penalty = 1.5f;
  sp.repeat_last_n = 64;
  const int32_t n = static_cast<int32_t>(kPrompt.size());
  tsr_llm_session* s = session(m, sp);
  Collected first, again, tail;
  tsr_llm_stats st{sizeof st};
  ASSERT_EQ(tsr_llm_generate(s, kPrompt.data(), n, 8, collect, &first, &st), TSR_OK) << tsr_last_error();
  ASSERT_EQ(first.tokens.size(), 8u);
  EXPECT_EQ(st.finish_reason, TSR_LLM_FINISH_LENGTH);
  EXPECT_EQ(session_n_past(s), n + 8);

  ASSERT_EQ(tsr_llm_session_truncate(s, n - 1), TSR_OK) << tsr_last_error();
  EXPECT_EQ(session_n_past(s), n - 1);
  ASSERT_EQ(tsr_llm_generate(s, &kPrompt.back(), 1, 8, collect, &again, nullptr), TSR_OK) << tsr_last_error();
  EXPECT_EQ(again.tokens, first.tokens);

  // Back to the middle of the generated text: the rest follows again.
  ASSERT_EQ(tsr_llm_session_truncate(s, n + 2), TSR_OK) << tsr_last_error();
  ASSERT_EQ(tsr_llm_generate(s, &first.tokens[2], 1, 5, collect, &tail, nullptr), TSR_OK) << tsr_last_error();
  EXPECT_EQ(tail.tokens, std::vector<int32_t>(first.tokens.begin() + 3, first.tokens.end()));
}

TEST_F(LlmApi, truncate_past_the_cache_or_generating_without_logits_is_refused) {
  tsr_llm* m = load();
  ASSERT_NE(m, nullptr);
  tsr_llm_session* s = session(m);
  ASSERT_EQ(tsr_llm_session_eval(s, kPrompt.data(), 5, 0), TSR_OK) << tsr_last_error();
  EXPECT_EQ(tsr_llm_session_truncate(s, 6), TSR_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(tsr_last_error()).find("n_keep 6 is outside [0, n_past = 5]"), std::string::npos)
      << tsr_last_error();
  EXPECT_EQ(tsr_llm_session_truncate(s, -1), TSR_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(session_n_past(s), 5);
  ASSERT_EQ(tsr_llm_session_truncate(s, 3), TSR_OK);
  EXPECT_EQ(tsr_llm_generate(s, nullptr, 0, 4, nullptr, nullptr, nullptr), TSR_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(tsr_last_error()).find("truncated"), std::string::npos) << tsr_last_error();
}

int32_t stop_at_second(int32_t token, const char*, int32_t, void* user) {
  auto* c = static_cast<Collected*>(user);
  c->tokens.push_back(token);
  return c->tokens.size() == 2 ? 1 : 0;
}

TEST_F(LlmApi, generation_says_why_it_stopped) {
  const int32_t n = static_cast<int32_t>(kPrompt.size());
  tsr_llm* m = load();
  ASSERT_NE(m, nullptr);
  tsr_llm_stats st{sizeof st};
  Collected r;
  ASSERT_EQ(tsr_llm_generate(session(m), kPrompt.data(), n, 3, collect, &r, &st), TSR_OK) << tsr_last_error();
  EXPECT_EQ(st.finish_reason, TSR_LLM_FINISH_LENGTH);
  EXPECT_EQ(st.n_generated, 3);

  Collected two;
  tsr_llm_session* s = session(m);
  ASSERT_EQ(tsr_llm_generate(s, kPrompt.data(), n, 10, stop_at_second, &two, &st), TSR_OK)
      << tsr_last_error();
  EXPECT_EQ(st.finish_reason, TSR_LLM_FINISH_CALLBACK);
  EXPECT_EQ(two.tokens.size(), 2u);
  EXPECT_EQ(session_n_past(s), n + 2);  // the stopping token is in the cache

  tsr_llm* small = load(16);
  ASSERT_NE(small, nullptr);
  Collected full;
  tsr_llm_session* f = session(small);
  ASSERT_EQ(tsr_llm_generate(f, kPrompt.data(), n, 100, collect, &full, &st), TSR_OK) << tsr_last_error();
  EXPECT_EQ(st.finish_reason, TSR_LLM_FINISH_CONTEXT_FULL);
  EXPECT_EQ(session_n_past(f), 16);
  EXPECT_EQ(st.n_generated, 16 - n + 1);  // the last one did not fit
}

// A stats struct from before finish_reason existed is written only up to
// its own size.
TEST_F(LlmApi, stats_of_an_older_caller_are_written_to_its_size_only) {
  tsr_llm* m = load();
  ASSERT_NE(m, nullptr);
  struct {
    tsr_llm_stats st;
    int32_t guard;
  } old{};
  old.st.struct_size = offsetof(tsr_llm_stats, finish_reason);
  old.st.finish_reason = -7;
  ASSERT_EQ(tsr_llm_generate(session(m), kPrompt.data(), 4, 2, nullptr, nullptr, &old.st), TSR_OK)
      << tsr_last_error();
  EXPECT_EQ(old.st.n_generated, 2);
  EXPECT_EQ(old.st.finish_reason, -7);
}

TEST_F(LlmApi, a_successful_call_leaves_no_error_message) {
  // A failure sets the message; the next successful call clears it, even a
  // load that looked up optional keys the file does not have.
  tsr_llm* bad = nullptr;
  EXPECT_NE(tsr_llm_load(ctx_, "/nonexistent/model.gguf", nullptr, &bad), TSR_OK);
  EXPECT_STRNE(tsr_last_error(), "");
  tsr_llm* m = load();
  ASSERT_NE(m, nullptr);
  EXPECT_STREQ(tsr_last_error(), "");
}

// A second thread asks a long prefill to stop once its first step is in:
// the eval returns ABORTED with that step's tokens cached, and the session
// goes on from there to the same logits as one fed everything at once.
TEST_F(LlmApi, a_prefill_is_aborted_from_another_thread_and_the_session_goes_on) {
  tsr_llm* m = load(512, 8);  // 8 tokens per prefill step
  ASSERT_NE(m, nullptr);
  const int32_t V = n_vocab(m);
  struct Shared {
    std::mutex mu;
    std::condition_variable cv;
    bool first_step = false;
    std::atomic<bool> stop{false};
  } sh;
  tsr_llm_callbacks cb{sizeof cb};
  cb.should_abort = [](void* u) -> int32_t { return static_cast<Shared*>(u)->stop.load() ? 1 : 0; };
  cb.prefill_progress = [](int32_t, int32_t, void* u) {
    // The first step is done: hand over to the other thread and wait until
    // it has asked to stop, so the request lands mid-prefill every time.
    auto* sh = static_cast<Shared*>(u);
    std::unique_lock<std::mutex> lk(sh->mu);
    if (sh->first_step) return;
    sh->first_step = true;
    sh->cv.notify_all();
    sh->cv.wait(lk, [&] { return sh->stop.load(); });
  };
  cb.user = &sh;
  tsr_llm_session* s = session(m);
  ASSERT_EQ(tsr_llm_session_set_callbacks(s, &cb), TSR_OK) << tsr_last_error();
  std::vector<int32_t> prompt(200);
  for (size_t i = 0; i < prompt.size(); ++i) prompt[i] = static_cast<int32_t>(3 + (i * 37) % 250);
  std::thread stopper([&] {
    std::unique_lock<std::mutex> lk(sh.mu);
    sh.cv.wait(lk, [&] { return sh.first_step; });
    sh.stop = true;
    sh.cv.notify_all();
  });
  EXPECT_EQ(tsr_llm_session_eval(s, prompt.data(), 200, 0), TSR_ERR_ABORTED);
  stopper.join();
  EXPECT_NE(std::string(tsr_last_error()).find("aborted by the caller after 8 of 200 tokens"),
            std::string::npos)
      << tsr_last_error();
  EXPECT_EQ(session_n_past(s), 8);
  EXPECT_EQ(tsr_llm_generate(s, nullptr, 0, 1, nullptr, nullptr, nullptr),
            TSR_ERR_INVALID_ARGUMENT);  // no logits

  ASSERT_EQ(tsr_llm_session_set_callbacks(s, nullptr), TSR_OK);
  ASSERT_EQ(tsr_llm_session_eval(s, prompt.data() + 8, 192, 0), TSR_OK) << tsr_last_error();
  tsr_llm_session* whole = session(m);
  ASSERT_EQ(tsr_llm_session_eval(whole, prompt.data(), 200, 0), TSR_OK) << tsr_last_error();
  const std::vector<float> a = rows(s, V), b = rows(whole, V);
  ASSERT_EQ(a.size(), b.size());
  EXPECT_LT(rel_diff(a.data(), b.data(), a.size()), 1e-5);
}

// Aborted while decoding, generate ends normally with the tokens so far.
TEST_F(LlmApi, an_abort_while_decoding_ends_generation_as_aborted) {
  tsr_llm* m = load();
  ASSERT_NE(m, nullptr);
  struct Stop {
    int tokens = 0;
  } stop;
  tsr_llm_callbacks cb{sizeof cb};
  cb.should_abort = [](void* u) -> int32_t { return static_cast<Stop*>(u)->tokens >= 3 ? 1 : 0; };
  cb.user = &stop;
  tsr_llm_session* s = session(m);
  ASSERT_EQ(tsr_llm_session_set_callbacks(s, &cb), TSR_OK);
  auto count = [](int32_t, const char*, int32_t, void* u) -> int32_t {
    ++static_cast<Stop*>(u)->tokens;
    return 0;
  };
  tsr_llm_stats st{sizeof st};
  const int32_t n = static_cast<int32_t>(kPrompt.size());
  ASSERT_EQ(tsr_llm_generate(s, kPrompt.data(), n, 20, count, &stop, &st), TSR_OK) << tsr_last_error();
  EXPECT_EQ(st.finish_reason, TSR_LLM_FINISH_ABORTED);
  EXPECT_STREQ(tsr_llm_finish_reason_name(st.finish_reason), "aborted");
  EXPECT_EQ(st.n_generated, 3);
  EXPECT_EQ(session_n_past(s), n + 2);  // the third token was given out, not cached
}

TEST_F(LlmApi, load_can_be_aborted) {
  tsr_llm_options o{sizeof o};
  o.should_abort = [](void*) -> int32_t { return 1; };
  tsr_llm* m = nullptr;
  EXPECT_EQ(tsr_llm_load(ctx_, path_.c_str(), &o, &m), TSR_ERR_ABORTED);
  EXPECT_EQ(m, nullptr);
  EXPECT_NE(std::string(tsr_last_error()).find("aborted by the caller"), std::string::npos)
      << tsr_last_error();
}

TEST_F(LlmApi, greedy_generation_follows_the_argmax) {
  tsr_llm* m = load();
  ASSERT_NE(m, nullptr);
  const int32_t V = n_vocab(m);
  const int32_t n = static_cast<int32_t>(kPrompt.size());
  Collected r;
  tsr_llm_session* s = session(m);
  ASSERT_EQ(tsr_llm_generate(s, kPrompt.data(), n, 5, collect, &r, nullptr), TSR_OK) << tsr_last_error();
  ASSERT_FALSE(r.tokens.empty());
  tsr_llm_session* e = session(m);
  std::vector<int32_t> seq = kPrompt;
  ASSERT_EQ(tsr_llm_session_eval(e, seq.data(), n, 0), TSR_OK);
  for (int32_t want : r.tokens) {
    const std::vector<float> l = rows(e, V);
    EXPECT_EQ(std::max_element(l.begin(), l.end()) - l.begin(), want);
    ASSERT_EQ(tsr_llm_session_eval(e, &want, 1, 0), TSR_OK);
  }
}

TEST_F(LlmApi, prompt_longer_than_the_context_names_both_lengths) {
  tsr_llm* m = load(8);
  ASSERT_NE(m, nullptr);
  tsr_llm_session* s = session(m);
  EXPECT_EQ(
      tsr_llm_generate(s, kPrompt.data(), static_cast<int32_t>(kPrompt.size()), 4, nullptr, nullptr, nullptr),
      TSR_ERR_INVALID_ARGUMENT);
  const std::string msg = tsr_last_error();
  EXPECT_NE(msg.find("13"), std::string::npos) << msg;
  EXPECT_NE(msg.find("n_ctx = 8"), std::string::npos) << msg;
  EXPECT_EQ(tsr_llm_session_eval(s, kPrompt.data(), static_cast<int32_t>(kPrompt.size()), 0),
            TSR_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(tsr_last_error()).find("n_ctx 8"), std::string::npos) << tsr_last_error();
}

TEST_F(LlmApi, generation_stops_when_the_context_is_full) {
  tsr_llm* m = load(16);
  ASSERT_NE(m, nullptr);
  tsr_llm_session* s = session(m);
  Collected r;
  ASSERT_EQ(
      tsr_llm_generate(s, kPrompt.data(), static_cast<int32_t>(kPrompt.size()), 100, collect, &r, nullptr),
      TSR_OK)
      << tsr_last_error();
  EXPECT_LE(r.tokens.size(), 4u);
}

TEST_F(LlmApi, token_outside_the_vocabulary_is_refused) {
  tsr_llm* m = load();
  ASSERT_NE(m, nullptr);
  tsr_llm_session* s = session(m);
  const int32_t bad[2] = {1, 261};
  EXPECT_EQ(tsr_llm_session_eval(s, bad, 2, 0), TSR_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(tsr_last_error()).find("261"), std::string::npos) << tsr_last_error();
}

TEST_F(LlmApi, missing_tensor_is_named) {
  tessera::test::TinyLlamaConfig c;
  c.skip_tensors = {"blk.1.ffn_up.weight"};
  const std::string path = path_ + ".missing.gguf";
  ASSERT_TRUE(tessera::test::write_tiny_llama(path, c));
  tsr_llm* m = nullptr;
  EXPECT_EQ(tsr_llm_load(ctx_, path.c_str(), nullptr, &m), TSR_ERR_NOT_FOUND);
  EXPECT_EQ(m, nullptr);
  EXPECT_NE(std::string(tsr_last_error()).find("blk.1.ffn_up.weight"), std::string::npos) << tsr_last_error();
  std::remove(path.c_str());
}

TEST_F(LlmApi, tensor_type_tessera_does_not_compute_with_is_named) {
  tessera::test::TinyLlamaConfig c;
  c.bad_type_tensor = "blk.0.attn_v.weight";
  const std::string path = path_ + ".badtype.gguf";
  ASSERT_TRUE(tessera::test::write_tiny_llama(path, c));
  tsr_llm* m = nullptr;
  EXPECT_EQ(tsr_llm_load(ctx_, path.c_str(), nullptr, &m), TSR_ERR_UNSUPPORTED);
  const std::string msg = tsr_last_error();
  EXPECT_NE(msg.find("blk.0.attn_v.weight"), std::string::npos) << msg;
  EXPECT_NE(msg.find("q8_1"), std::string::npos) << msg;
  std::remove(path.c_str());
}

TEST_F(LlmApi, unknown_device_and_missing_file_fail_cleanly) {
  const char* devices[] = {"no-such-device"};
  tsr_llm_options o{sizeof o};
  o.devices = devices;
  o.n_devices = 1;
  tsr_llm* m = nullptr;
  EXPECT_NE(tsr_llm_load(ctx_, path_.c_str(), &o, &m), TSR_OK);
  EXPECT_EQ(m, nullptr);
  EXPECT_NE(std::string(tsr_last_error()).find("no-such-device"), std::string::npos) << tsr_last_error();
  EXPECT_NE(tsr_llm_load(ctx_, "/nonexistent/model.gguf", nullptr, &m), TSR_OK);
  EXPECT_NE(std::string(tsr_last_error()).find("/nonexistent/model.gguf"), std::string::npos)
      << tsr_last_error();
}

TEST_F(LlmApi, chat_template_is_applied) {
  tsr_llm* m = load();
  ASSERT_NE(m, nullptr);
  const char* roles[] = {"system", "user"};
  const char* contents[] = {"Be brief.", "Hi"};
  char buf[256];
  int32_t n = 0;
  ASSERT_EQ(tsr_llm_apply_chat_template(m, roles, contents, 2, 1, buf, sizeof buf, &n), TSR_OK)
      << tsr_last_error();
  EXPECT_EQ(
      std::string(buf, n),
      "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
  EXPECT_EQ(buf[n], '\0');
  EXPECT_TRUE(tsr_llm_is_end_of_generation(m, 260)) << "<|im_end|>";
}

TEST_F(LlmApi, chat_template_by_name) {
  tsr_llm* m = load();
  ASSERT_NE(m, nullptr);
  const char* roles[] = {"user"};
  const char* contents[] = {" Hi "};
  char buf[256];
  int32_t n = 0;
  // NULL and "" are the model's own template (ChatML here).
  for (const char* name : {static_cast<const char*>(nullptr), ""}) {
    ASSERT_EQ(tsr_llm_apply_chat_template_named(m, name, roles, contents, 1, 1, buf, sizeof buf, &n), TSR_OK)
        << tsr_last_error();
    EXPECT_EQ(std::string(buf, n), "<|im_start|>user\n Hi <|im_end|>\n<|im_start|>assistant\n");
  }
  // The tiny model's BOS is <|endoftext|>: Llama 3's template writes it as bos_token.
  ASSERT_EQ(tsr_llm_apply_chat_template_named(m, "llama3", roles, contents, 1, 0, buf, sizeof buf, &n),
            TSR_OK)
      << tsr_last_error();
  EXPECT_EQ(std::string(buf, n), "<|endoftext|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>");
  EXPECT_EQ(tsr_llm_apply_chat_template_named(m, "alpaca", roles, contents, 1, 1, buf, sizeof buf, &n),
            TSR_ERR_INVALID_ARGUMENT);
  const std::string msg = tsr_last_error();
  EXPECT_NE(msg.find("'alpaca'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("chatml, gemma, llama3"), std::string::npos) << msg;
  // Buffer too small: *out_n is the length needed, as for tsr_llm_apply_chat_template.
  EXPECT_EQ(tsr_llm_apply_chat_template_named(m, "gemma", roles, contents, 1, 1, buf, 4, &n),
            TSR_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(n, static_cast<int32_t>(std::string("<|endoftext|><start_of_turn>user\nHi<end_of_turn>\n"
                                                "<start_of_turn>model\n")
                                        .size()));
}

}  // namespace
