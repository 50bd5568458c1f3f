// Integer block dot products for quantized matmul: a weight row in q8_0, q4_0
// or q4_1 times an activation row quantized once to q8_0. AVX2 versions are
// selected at run time; the scalar versions are the fallback and the test
// reference.
#pragma once

#include <cstdint>

#include "core/quant.h"

namespace tsr::cpu {

// n: elements (multiple of 32). w: n/32 weight blocks; x: n/32 BlockQ8_0.
using QDotFn = float (*)(int64_t n, const void* w, const BlockQ8_0* x);

// Best available implementation for weight dtype (q8_0, q4_0, q4_1), or null.
QDotFn qdot_best(int32_t wtype);
// Portable scalar implementation, or null.
QDotFn qdot_scalar(int32_t wtype);

// Activation quantization (f32 -> q8_0), the same scale rule as
// core/quant.h; ties may round differently (nearest even) in the SIMD path.
void quantize_row_q8_0_fast(const float* x, BlockQ8_0* y, int64_t n);

}  // namespace tsr::cpu
