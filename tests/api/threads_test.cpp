// The threading rule of tessera.h, exercised: objects of one context used
// from several threads at once (their calls serialise on the context's lock,
// and every thread still gets its own right answers), two contexts in
// parallel, and a device listing that starts backends while another thread
// executes. Run under ThreadSanitizer by scripts/test.sh (label threads), so a
// data race fails it even when the answers happen to come out right.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <string>
#include <thread>
#include <vector>

#include "tessera/tessera.h"
#include "tessera/tessera_llm.h"
#include "tests/api/silu_mul.h"
#include "tests/models/tiny_llama.h"

namespace {

using tessera::test::new_context;
using tessera::test::SiluMul;

TEST(Threads, TwoModelsOfOneContextOnTwoThreadsWhileAThirdListsDevices) {
  tsr_context* ctx = new_context();
  ASSERT_NE(ctx, nullptr);
  {
    SiluMul a(ctx, 100000), b(ctx, 33333);
    int wrong_a = 0, wrong_b = 0, listed = 0;
    std::thread ta([&] { wrong_a = a.run(1); });
    std::thread tb([&] { wrong_b = b.run(2); });
    // Listing starts every backend (Vulkan, CUDA, ...) while the models run.
    std::thread tc([&] { listed = tsr_device_count(ctx) + tsr_context_note_count(ctx); });
    ta.join();
    tb.join();
    tc.join();
    EXPECT_EQ(wrong_a, 0);
    EXPECT_EQ(wrong_b, 0);
    EXPECT_GE(listed, 1);
  }
  tsr_context_destroy(ctx);
}

TEST(Threads, TwoContextsRunInParallel) {
  int wrong[2] = {0, 0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t)
    threads.emplace_back([&wrong, t] {
      tsr_context* ctx = new_context();
      {
        SiluMul m(ctx, 512 + t);
        wrong[t] = m.run(t);
      }
      tsr_context_destroy(ctx);
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong[0], 0);
  EXPECT_EQ(wrong[1], 0);
}

// The tiny llama written to a temporary file and loaded into a new context
// (n_ctx 64); everything is released at scope exit.
struct TinyLlm {
  std::string path;
  tsr_context* ctx = nullptr;
  tsr_llm* m = nullptr;

  explicit TinyLlm(const std::string& name) {
    path = ::testing::TempDir() + name + "_" + std::to_string(::getpid()) + ".gguf";
    EXPECT_TRUE(tessera::test::write_tiny_llama(path));
    ctx = new_context();
    tsr_llm_options o{};
    o.struct_size = sizeof(o);
    o.n_ctx = 64;
    EXPECT_EQ(tsr_llm_load(ctx, path.c_str(), &o, &m), TSR_OK) << tsr_last_error();
  }
  ~TinyLlm() {
    tsr_llm_free(m);
    tsr_context_destroy(ctx);
    std::remove(path.c_str());
  }
};

// Greedy tokens of one session, alone.
std::vector<int32_t> greedy(tsr_llm* m, int32_t first, int n) {
  tsr_llm_sampling sp{};
  sp.struct_size = sizeof(sp);
  sp.ignore_eos = 1;
  tsr_llm_session* s = nullptr;
  if (tsr_llm_session_create(m, &sp, &s) != TSR_OK) return {};
  std::vector<int32_t> out;
  const int32_t prompt[3] = {first, first + 1, first + 2};
  auto on_token = [](int32_t tok, const char*, int32_t, void* user) -> int32_t {
    static_cast<std::vector<int32_t>*>(user)->push_back(tok);
    return 0;
  };
  if (tsr_llm_generate(s, prompt, 3, n, on_token, &out, nullptr) != TSR_OK) out.clear();
  tsr_llm_session_free(s);
  return out;
}

TEST(Threads, TwoSessionsOfOneModelGenerateOnTwoThreadsAsTheyDoAlone) {
  TinyLlm tiny("threads_tiny");
  tsr_llm* m = tiny.m;
  ASSERT_NE(m, nullptr);
  const std::vector<int32_t> alone_a = greedy(m, 40, 12), alone_b = greedy(m, 90, 12);
  ASSERT_EQ(alone_a.size(), 12u);
  ASSERT_NE(alone_a, alone_b);  // different prompts: the check below can tell them apart
  std::vector<int32_t> par_a, par_b;
  std::thread ta([&] { par_a = greedy(m, 40, 12); });
  std::thread tb([&] { par_b = greedy(m, 90, 12); });
  ta.join();
  tb.join();
  EXPECT_EQ(par_a, alone_a);
  EXPECT_EQ(par_b, alone_b);
}

// An engine's usual shape: one thread steps a batch while request threads
// tokenize (the tokenizer is read-only after load and takes no lock). The
// batch's logits match a run with no tokenizing beside it, and every
// tokenization gives the same tokens.
TEST(Threads, BatchStepsWhileAnotherThreadTokenizes) {
  TinyLlm tiny("threads_batch");
  tsr_llm* m = tiny.m;
  ASSERT_NE(m, nullptr);
  tsr_llm_info info{};
  info.struct_size = sizeof(info);
  ASSERT_EQ(tsr_llm_get_info(m, &info), TSR_OK);

  // 24 steps of two sequences fed one token each; the logits of the last.
  auto run_batch = [&]() -> std::vector<float> {
    tsr_llm_batch* b = nullptr;
    if (tsr_llm_batch_create(m, 2, &b) != TSR_OK) return {};
    std::vector<float> out;
    for (int32_t step = 0; step < 24; ++step) {
      const int32_t t0 = 10 + step, t1 = 200 - step;
      const int32_t* toks[2] = {&t0, &t1};
      const int32_t n[2] = {1, 1};
      if (tsr_llm_batch_eval(b, toks, n) != TSR_OK) break;
    }
    const float* l = nullptr;
    if (tsr_llm_batch_logits(b, 1, &l) == TSR_OK) out.assign(l, l + info.n_vocab);
    tsr_llm_batch_free(b);
    return out;
  };
  auto tokenize = [&]() -> std::vector<int32_t> {
    const char text[] = "Hello world, hello tokenizer";
    int32_t toks[64];
    int32_t n = 0;
    if (tsr_llm_tokenize(m, text, sizeof(text) - 1, 1, 0, toks, 64, &n) != TSR_OK) return {};
    return std::vector<int32_t>(toks, toks + n);
  };
  const std::vector<float> alone = run_batch();
  const std::vector<int32_t> want = tokenize();
  ASSERT_EQ(alone.size(), static_cast<size_t>(info.n_vocab));
  ASSERT_FALSE(want.empty());

  std::vector<float> stepped;
  int differing = 0;
  std::thread tb([&] { stepped = run_batch(); });
  std::thread tt([&] {
    for (int i = 0; i < 200; ++i) differing += tokenize() != want;
  });
  tb.join();
  tt.join();
  EXPECT_EQ(stepped, alone);
  EXPECT_EQ(differing, 0);
}

}  // namespace
