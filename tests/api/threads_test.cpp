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
#include "tests/models/tiny_llama.h"

namespace {

constexpr int kIterations = 40;

// y = silu(x * w) over n elements, compiled on the cpu.
struct SiluMul {
  tsr_graph* g = nullptr;
  tsr_model* m = nullptr;
  tsr_tensor x{}, w{}, y{};
  int64_t n = 0;

  SiluMul(tsr_context* ctx, int64_t n_elems) : n(n_elems) {
    const int64_t ne[1] = {n};
    EXPECT_EQ(tsr_graph_create(ctx, &g), TSR_OK);
    EXPECT_EQ(tsr_graph_input(g, "x", TSR_DTYPE_F32, 1, ne, &x), TSR_OK);
    EXPECT_EQ(tsr_graph_input(g, "w", TSR_DTYPE_F32, 1, ne, &w), TSR_OK);
    tsr_tensor in[2] = {x, w}, p{};
    EXPECT_EQ(tsr_graph_op(g, TSR_OP_MUL, in, 2, nullptr, &p), TSR_OK);
    EXPECT_EQ(tsr_graph_op(g, TSR_OP_SILU, &p, 1, nullptr, &y), TSR_OK);
    EXPECT_EQ(tsr_graph_output(g, y), TSR_OK);
    const char* devices[] = {"cpu"};
    tsr_compile_options co{sizeof(co), devices, 1, 0};
    EXPECT_EQ(tsr_compile(ctx, g, &co, &m), TSR_OK) << tsr_last_error();
  }
  ~SiluMul() {
    tsr_model_destroy(m);
    tsr_graph_destroy(g);
  }

  // Runs with inputs that depend on (seed, iteration) and counts wrong outputs.
  int run(int seed) {
    int wrong = 0;
    std::vector<float> xs(n), ws(n), ys(n);
    for (int it = 0; it < kIterations; ++it) {
      for (int64_t i = 0; i < n; ++i) {
        xs[i] = static_cast<float>((i * 7 + it * 13 + seed) % 23) / 11.0f - 1.0f;
        ws[i] = static_cast<float>((i * 5 + it + seed * 3) % 17) / 8.0f - 1.0f;
      }
      if (tsr_model_set_input(m, x, xs.data(), n * 4) != TSR_OK ||
          tsr_model_set_input(m, w, ws.data(), n * 4) || tsr_model_execute(m, nullptr, 0) != TSR_OK ||
          tsr_model_get_output(m, y, ys.data(), n * 4) != TSR_OK)
        return -1;
      for (int64_t i = 0; i < n; ++i) {
        const float p = xs[i] * ws[i];
        const float want = p / (1.0f + std::exp(-p));
        wrong += std::fabs(ys[i] - want) > 1e-5f * (1.0f + std::fabs(want));
      }
    }
    return wrong;
  }
};

// Two CPU worker threads: the backend's pool is then shared state too.
tsr_context* new_context() {
  tsr_context_options o{sizeof(o), 2, nullptr, 0};
  tsr_context* ctx = nullptr;
  EXPECT_EQ(tsr_context_create(&o, &ctx), TSR_OK) << tsr_last_error();
  return ctx;
}

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
