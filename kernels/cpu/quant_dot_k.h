// Integer dot products of the 5-bit and k-quant weight formats (q5_0, q5_1,
// q2_K ... q6_K) against 16-bit activation blocks (quant_dot.h). Each format
// has a scalar version (the fallback and test reference) and SIMD versions
// per instruction set, chosen at run time by quant_dot.cpp.
//
// Every version computes, per 32-element chunk, the exact integer sum of
// weight quant x activation quant (with the integer sub-block scale folded
// into the weight) and then one float multiply-add by the chunk's scales; so
// versions differ only in the float rounding of how chunk sums are added.
#pragma once

#include <cstdint>

#include "cpu/quant_dot.h"

namespace tsr::cpu {

enum class QDotIsa { kScalar, kAvx2, kAvx512 };

// Dot product for weight dtype at one instruction set, or null when the
// dtype is not one of this file's or that set has no version of it.
QDotFn qdot_k(int32_t wtype, QDotIsa isa);

// Four-row version (decode matvec, quant_dot4_k.cpp): q4_K, q5_K and q6_K at
// AVX2 and AVX-512; q5_0, q5_1 and q4_0 at AVX-512 (their AVX2 ones are in
// quant_dot.cpp); null otherwise: callers then use qdot_k per row.
QDot4Fn qdot4_k(int32_t wtype, QDotIsa isa);

}  // namespace tsr::cpu
