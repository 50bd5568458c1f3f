#include "cpu/gemm_f32.h"

#include <immintrin.h>

#include <algorithm>

#include "cpu/convert.h"

namespace tsr::cpu {
namespace {

#define TSR_AVX2 __attribute__((target("avx2,fma")))

constexpr int kTileRows = 6;

// The accumulators are named variables, not an array: with an array GCC 12
// kept a copy on the stack and stored all twelve every iteration (measured
// 31 GFLOP/s per core instead of the FMA-bound rate).
#define TSR_TILE_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5)

// MR weight rows x 16 tokens over all of K, then scattered to out: the output
// is token-major, so row r of the tile is a column there. The scatter is
// 16 * MR stores against 16 * MR * K multiply-adds.
template <int MR>
TSR_AVX2 void tile_avx2(const float* wd, int64_t K, const float* xg, int64_t n_valid, float* out,
                        int64_t out_stride) {
#define TSR_DECL(r) __m256 c##r##0 = _mm256_setzero_ps(), c##r##1 = _mm256_setzero_ps();
  TSR_TILE_ROWS(TSR_DECL)
#undef TSR_DECL
  for (int64_t k = 0; k < K; ++k) {
    const __m256 x0 = _mm256_load_ps(xg + k * kGemmTokens);
    const __m256 x1 = _mm256_load_ps(xg + k * kGemmTokens + 8);
#define TSR_FMA(r)                                        \
  if constexpr (MR > r) {                                 \
    const __m256 b = _mm256_broadcast_ss(wd + r * K + k); \
    c##r##0 = _mm256_fmadd_ps(b, x0, c##r##0);            \
    c##r##1 = _mm256_fmadd_ps(b, x1, c##r##1);            \
  }
    TSR_TILE_ROWS(TSR_FMA)
#undef TSR_FMA
  }
  alignas(32) float t[kTileRows][kGemmTokens];
#define TSR_STORE(r)                    \
  if constexpr (MR > r) {               \
    _mm256_store_ps(t[r], c##r##0);     \
    _mm256_store_ps(t[r] + 8, c##r##1); \
  }
  TSR_TILE_ROWS(TSR_STORE)
#undef TSR_STORE
  for (int64_t n = 0; n < n_valid; ++n)
    for (int r = 0; r < MR; ++r) out[n * out_stride + r] = t[r][n];
}
#undef TSR_TILE_ROWS

void tile_scalar(const float* wd, int rows, int64_t K, const float* xg, int64_t n_valid, float* out,
                 int64_t out_stride) {
  for (int r = 0; r < rows; ++r)
    for (int64_t n = 0; n < n_valid; ++n) {
      float s = 0.0f;
      for (int64_t k = 0; k < K; ++k) s += wd[r * K + k] * xg[k * kGemmTokens + n];
      out[n * out_stride + r] = s;
    }
}

using TileFn = void (*)(const float*, int64_t, const float*, int64_t, float*, int64_t);
constexpr TileFn kTiles[kTileRows + 1] = {nullptr,      tile_avx2<1>, tile_avx2<2>, tile_avx2<3>,
                                          tile_avx2<4>, tile_avx2<5>, tile_avx2<6>};

}  // namespace

void gemm_pack_token(const float* row, int64_t K, int64_t j, float* group) {
  // Token-major to k-major: a sequential read and a 64-byte-stride write; a
  // group is 16 * K floats, small enough to stay in cache while it fills.
  for (int64_t k = 0; k < K; ++k) group[k * kGemmTokens + j] = row[k];
}

void gemm_rows(const float* wd, int64_t rows, int64_t K, const float* packed, int64_t N, float* out,
               int64_t out_stride) {
  const bool simd = cpu_has_avx2_fma();
  const int64_t groups = (N + kGemmTokens - 1) / kGemmTokens;
  for (int64_t g = 0; g < groups; ++g) {
    const float* xg = packed + g * kGemmTokens * K;
    const int64_t nv = std::min<int64_t>(kGemmTokens, N - g * kGemmTokens);
    float* og = out + g * kGemmTokens * out_stride;
    for (int64_t r0 = 0; r0 < rows; r0 += kTileRows) {
      const int mr = static_cast<int>(std::min<int64_t>(kTileRows, rows - r0));
      if (simd)
        kTiles[mr](wd + r0 * K, K, xg, nv, og + r0, out_stride);
      else
        tile_scalar(wd + r0 * K, mr, K, xg, nv, og + r0, out_stride);
    }
  }
}

}  // namespace tsr::cpu
