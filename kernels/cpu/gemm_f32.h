// Prefill matmul for many tokens: out[n][m] = sum_k W[m][k] * X[n][k] with W
// in any weight dtype and X, out in f32.
//
// Why this shape: prefill multiplies each weight row by hundreds of tokens,
// so dequantizing a weight row once to f32 costs 1/N of the arithmetic, and
// the product then runs on FMA at close to the core's peak with activations
// kept exact (decode's integer path has to quantize them). X is packed once
// per execute into groups of 16 tokens laid out k-major ([K][16]); a 6x16
// register tile (12 accumulators, 6 weight broadcasts and 2 loads per k)
// multiplies 6 dequantized weight rows by one group. Tasks are blocks of
// kGemmRowBlock weight rows, dequantized into per-thread scratch and then swept
// across every token group, so a packed group is reused from L1/L2 by all the
// row tiles of a block.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tsr::cpu {

class ThreadPool;

constexpr int64_t kGemmTokens = 16;    // tokens per packed group
constexpr int64_t kGemmRowBlock = 48;  // weight rows per task (8 tiles of 6)

// Floats of packed X for N tokens of K.
inline int64_t gemm_packed_x_floats(int64_t N, int64_t K) {
  return (N + kGemmTokens - 1) / kGemmTokens * kGemmTokens * K;
}

// Writes token row (K floats) as token j (< kGemmTokens) of a packed group
// (kGemmTokens * K floats, 32-byte aligned). Tokens of a partial last group
// that are never written must be zeroed by the caller.
void gemm_pack_token(const float* row, int64_t K, int64_t j, float* group);

// rows (<= kGemmRowBlock) dequantized weight rows wd (row r at wd + r * K)
// times all N tokens of packed: out[n * out_stride + r] for r < rows, n < N.
void gemm_rows(const float* wd, int64_t rows, int64_t K, const float* packed, int64_t N, float* out,
               int64_t out_stride);

}  // namespace tsr::cpu
