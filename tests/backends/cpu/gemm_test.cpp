// The prefill GEMM (gemm_f32.h) and the fast block dequantization it feeds on
// (dequant.h), against double-precision references built here.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <random>
#include <vector>

#include "kernels/cpu/dequant.h"
#include "kernels/cpu/gemm_f32.h"
#include "tessera/kit/dtype.h"
#include "tessera/tessera_types.h"

namespace tsr::cpu {
namespace {

std::vector<float> uniform(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& e : v) e = dist(rng);
  return v;
}

struct AlignedFloats {
  explicit AlignedFloats(int64_t n)
      : p(static_cast<float*>(std::aligned_alloc(64, static_cast<size_t>((n * 4 + 63) / 64 * 64)))) {}
  ~AlignedFloats() { std::free(p); }
  float* p;
};

void check_gemm(int64_t rows, int64_t K, int64_t N) {
  const std::vector<float> w = uniform(rows * K, 1), x = uniform(N * K, 2);
  AlignedFloats packed(gemm_packed_x_floats(N, K));
  for (int64_t g = 0; g * kGemmTokens < N; ++g) {
    float* group = packed.p + g * kGemmTokens * K;
    for (int64_t j = 0; j < kGemmTokens; ++j) {
      if (g * kGemmTokens + j < N)
        gemm_pack_token(x.data() + (g * kGemmTokens + j) * K, K, j, group);
      else
        for (int64_t k = 0; k < K; ++k) group[k * kGemmTokens + j] = 0.0f;
    }
  }
  const int64_t out_stride = rows + 3;  // a gap between token rows must stay untouched
  std::vector<float> out(static_cast<size_t>(N * out_stride), -7.0f);
  gemm_rows(w.data(), rows, K, packed.p, N, out.data(), out_stride);
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t r = 0; r < rows; ++r) {
      double ref = 0.0;
      for (int64_t k = 0; k < K; ++k) ref += static_cast<double>(w[r * K + k]) * x[n * K + k];
      ASSERT_NEAR(out[n * out_stride + r], ref, 1e-5 * K)
          << "rows=" << rows << " K=" << K << " N=" << N << " at r=" << r << " n=" << n;
    }
    for (int64_t r = rows; r < out_stride; ++r) ASSERT_EQ(out[n * out_stride + r], -7.0f) << "n=" << n;
  }
}

TEST(Gemm, MatchesDoubleReference) {
  for (int64_t rows : {1, 5, 6, 7, 13, 48})
    for (int64_t N : {1, 8, 16, 17, 40}) check_gemm(rows, 64, N);
  check_gemm(48, 576, 33);
  check_gemm(3, 1, 2);
}

// q4_0 and q8_0 dequantize exactly ((q - 8) * d with one rounding); q4_1's
// q * d + m is fused into one rounding here, so it may differ from the
// reference codec by an ulp of the result.
TEST(Dequant, FastPathMatchesReferenceCodecs) {
  for (int32_t dtype : {TSR_DTYPE_Q8_0, TSR_DTYPE_Q4_0, TSR_DTYPE_Q4_1}) {
    const DtypeTraits* t = dtype_traits(dtype);
    const int64_t n = 32 * 37;
    const std::vector<float> src = uniform(n, 3);
    std::vector<uint8_t> q(static_cast<size_t>(n / 32 * t->block_bytes));
    t->from_float(src.data(), q.data(), n);
    std::vector<float> ref(n), fast(n);
    t->to_float(q.data(), ref.data(), n);
    ASSERT_TRUE(dequantize_row_fast(q.data(), dtype, n, fast.data())) << t->name;
    for (int64_t i = 0; i < n; ++i) {
      if (dtype == TSR_DTYPE_Q4_1)
        ASSERT_NEAR(fast[i], ref[i], 2e-7 * std::fabs(ref[i]) + 1e-9) << t->name << " at " << i;
      else
        ASSERT_EQ(fast[i], ref[i]) << t->name << " at " << i;
    }
  }
  float dst[32];
  EXPECT_FALSE(dequantize_row_fast(dst, TSR_DTYPE_F32, 32, dst));
}

}  // namespace
}  // namespace tsr::cpu
