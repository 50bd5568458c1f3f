// A small model the threading tests share: y = silu(x * w), run with inputs
// that depend on a seed and checked against a plain loop.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "tessera/tessera.h"

namespace tessera::test {

inline constexpr int kIterations = 40;

// y = silu(x * w) over n elements, compiled on device (strict).
struct SiluMul {
  tsr_graph* g = nullptr;
  tsr_model* m = nullptr;
  tsr_tensor x{}, w{}, y{};
  int64_t n = 0;

  SiluMul(tsr_context* ctx, int64_t n_elems, const char* device = "cpu") : n(n_elems) {
    const int64_t ne[1] = {n};
    EXPECT_EQ(tsr_graph_create(ctx, &g), TSR_OK);
    EXPECT_EQ(tsr_graph_input(g, "x", TSR_DTYPE_F32, 1, ne, &x), TSR_OK);
    EXPECT_EQ(tsr_graph_input(g, "w", TSR_DTYPE_F32, 1, ne, &w), TSR_OK);
    tsr_tensor in[2] = {x, w}, p{};
    EXPECT_EQ(tsr_graph_op(g, TSR_OP_MUL, in, 2, nullptr, &p), TSR_OK);
    EXPECT_EQ(tsr_graph_op(g, TSR_OP_SILU, &p, 1, nullptr, &y), TSR_OK);
    EXPECT_EQ(tsr_graph_output(g, y), TSR_OK);
    const char* devices[] = {device};
    tsr_compile_options co{sizeof(co), devices, 1, TSR_COMPILE_STRICT};
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
inline tsr_context* new_context() {
  tsr_context_options o{sizeof(o), 2, nullptr, 0};
  tsr_context* ctx = nullptr;
  EXPECT_EQ(tsr_context_create(&o, &ctx), TSR_OK) << tsr_last_error();
  return ctx;
}

}  // namespace tessera::test
