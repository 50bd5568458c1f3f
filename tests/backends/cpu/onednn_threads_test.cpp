// The CPU backend's oneDNN calls keep to the context's thread count: Debian's
// oneDNN runs on OpenMP, whose teams default to every core, so before the
// bound a context of one thread ran prefill matmuls on all of them (and a
// context of N competed with its own pool). After a 256-token f32 and a q4_1
// matmul (both oneDNN paths) on a context of one thread, this thread's OpenMP
// thread count is 1; with two, 2.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "tessera/tessera.h"

extern "C" int omp_get_max_threads(void) __attribute__((weak));
extern "C" void omp_set_num_threads(int) __attribute__((weak));

namespace {

// Runs matmul(w [K, M] of wtype, x f32 [K, N]) on the CPU of a context with
// n_threads workers.
void run_matmul(int n_threads, int32_t wtype, std::string* driver) {
  constexpr int64_t K = 64, M = 64, N = 256;
  tsr_context_options o{sizeof o, n_threads, nullptr, 0};
  tsr_context* ctx = nullptr;
  ASSERT_EQ(tsr_context_create(&o, &ctx), TSR_OK) << tsr_last_error();
  tsr_device_info info{};
  info.struct_size = sizeof info;
  ASSERT_EQ(tsr_device_get_info(ctx, 0, &info), TSR_OK);
  *driver = info.props.driver;
  // q4_1 blocks: 32 weights in 20 bytes (f16 scale and min, 16 bytes of nibbles).
  std::vector<uint8_t> w(wtype == TSR_DTYPE_F32 ? K * M * 4 : K * M / 32 * 20, 0);
  if (wtype == TSR_DTYPE_F32)
    for (size_t i = 0; i < w.size() / 4; ++i) reinterpret_cast<float*>(w.data())[i] = 0.01f * (i % 7);
  std::vector<float> x(K * N, 0.5f);
  tsr_graph* g = nullptr;
  ASSERT_EQ(tsr_graph_create(ctx, &g), TSR_OK);
  const int64_t wne[2] = {K, M}, xne[2] = {K, N};
  tsr_tensor wt, xt, y;
  ASSERT_EQ(tsr_graph_weight(g, "w", wtype, 2, wne, w.data(), w.size(), &wt), TSR_OK) << tsr_last_error();
  ASSERT_EQ(tsr_graph_input(g, "x", TSR_DTYPE_F32, 2, xne, &xt), TSR_OK);
  const tsr_tensor in[2] = {wt, xt};
  tsr_op_params p{};
  ASSERT_EQ(tsr_graph_op(g, TSR_OP_MATMUL, in, 2, &p, &y), TSR_OK) << tsr_last_error();
  ASSERT_EQ(tsr_graph_output(g, y), TSR_OK);
  const char* devices[] = {"cpu"};
  tsr_compile_options co{sizeof co, devices, 1, TSR_COMPILE_STRICT};
  tsr_model* m = nullptr;
  ASSERT_EQ(tsr_compile(ctx, g, &co, &m), TSR_OK) << tsr_last_error();
  ASSERT_EQ(tsr_model_set_input(m, xt, x.data(), x.size() * 4), TSR_OK);
  ASSERT_EQ(tsr_model_execute(m, nullptr, 0), TSR_OK) << tsr_last_error();
  tsr_model_destroy(m);
  tsr_graph_destroy(g);
  tsr_context_destroy(ctx);
}

TEST(OnednnThreads, PrefillMatmulKeepsToTheContextThreadCount) {
  if (!omp_get_max_threads || !omp_set_num_threads) GTEST_SKIP() << "no OpenMP runtime in the process";
  for (const int32_t wtype : {TSR_DTYPE_F32, TSR_DTYPE_Q4_1}) {
    for (const int n : {1, 2}) {
      omp_set_num_threads(7);  // what an unbounded call would leave
      std::string driver;
      run_matmul(n, wtype, &driver);
      if (driver.find("oneDNN") == std::string::npos) GTEST_SKIP() << "oneDNN not in this build: " << driver;
      EXPECT_EQ(omp_get_max_threads(), n) << "wtype " << wtype << ", context of " << n << " threads";
    }
  }
}

}  // namespace
