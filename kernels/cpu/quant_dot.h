// Integer block dot products for quantized matmul: a weight row in q8_0, q4_0
// or q4_1 times an activation row quantized once to 8-bit blocks. AVX2 versions are
// selected at run time; the scalar versions are the fallback and the test
// reference.
#pragma once

#include <cstdint>

#include "core/quant.h"

namespace tsr::cpu {

// Activation block: like q8_0 but with an f32 scale. q8_0's f16 scale goes
// subnormal for blocks whose largest value is below ~7.8e-3 and then loses
// precision (conformance caught ~1e-4 NMSE at activations of 1e-4); the
// activation side is internal, so it need not be GGUF's format.
struct BlockQ8Act {
  float d;
  int8_t qs[kQK];
};

// n: elements (multiple of 32). w: n/32 weight blocks; x: n/32 activation blocks.
using QDotFn = float (*)(int64_t n, const void* w, const BlockQ8Act* x);

// Best available implementation for weight dtype (q8_0, q4_0, q4_1), or null.
QDotFn qdot_best(int32_t wtype);
// Portable scalar implementation, or null.
QDotFn qdot_scalar(int32_t wtype);

// Activation quantization: q8_0's scale rule (amax / 127) with the scale kept
// in f32; values round to nearest even.
void quantize_row_q8_act(const float* x, BlockQ8Act* y, int64_t n);

}  // namespace tsr::cpu
