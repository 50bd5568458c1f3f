// Integer block dot products for quantized matmul: a weight row in q8_0, q4_0
// or q4_1 times an activation row quantized once to 16-bit blocks. AVX2
// versions are selected at run time; the scalar versions are the fallback and
// the test reference. Both compute the same exact int32 sum per block, so they
// differ only by float rounding in how the scaled block sums are added up.
//
// Usage:
//   std::vector<BlockQ16Act> xq(n / kQK);
//   quantize_row_q16_act(x, xq.data(), n);
//   float y = qdot_best(TSR_DTYPE_Q4_1)(n, w_row, xq.data());
#pragma once

#include <cstdint>

#include "tessera/kit/quant.h"

namespace tsr::cpu {

// Activation block: 16-bit values with an f32 scale. Why 16 bits: with 8-bit
// activations (q8_0's amax / 127) SmolLM2's logits moved ~4% of their scale
// away from the float oracle, enough to flip top-1 and greedy tokens at near
// ties; 16 bits bring the rounding error per element to amax / 65534 (about
// 2e-5 relative). The cost is half of the int8 maddubs throughput in the block
// dot (16 instead of 32 products per instruction) and twice the activation
// scratch, while staying in exact integer arithmetic. The scale is f32, not
// f16, because the activation side is internal and need not be GGUF's format.
struct BlockQ16Act {
  float d;          // amax / 32767; 0 for an all-zero (or subnormal) block
  float s;          // d * sum(qs): q4_1's min term needs only this per block
  int16_t qs[kQK];  // round-to-nearest-even of x / d, in [-32767, 32767]
};

// n: elements (multiple of 32). w: n/32 weight blocks; x: n/32 activation blocks.
// Pure function; safe to call from any thread.
using QDotFn = float (*)(int64_t n, const void* w, const BlockQ16Act* x);

// Best available implementation for a block weight dtype (q8_0, q4_0, q4_1
// here; q5_0, q5_1, q2_K ... q6_K in quant_dot_k.h), or null for any other.
QDotFn qdot_best(int32_t wtype);

// Four weight rows against one activation row: out[r] = dot(w[r], x). The
// decode matvec's inner loop; the activation block is loaded once for all
// four rows and the rows' latency chains overlap.
using QDot4Fn = void (*)(int64_t n, const void* const w[4], const BlockQ16Act* x, float out[4]);
// Null for dtypes without a four-row kernel: callers use qdot_best per row.
QDot4Fn qdot4_best(int32_t wtype);
// Portable scalar implementation, or null.
QDotFn qdot_scalar(int32_t wtype);

// Activation quantization of n floats (multiple of 32) into n/32 blocks:
// d = amax / 32767 in f32, values round to nearest even.
void quantize_row_q16_act(const float* x, BlockQ16Act* y, int64_t n);

}  // namespace tsr::cpu
