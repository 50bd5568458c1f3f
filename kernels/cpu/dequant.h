// Block formats (q8_0, q4_0, q4_1, q5_0, q5_1, q2_K..q6_K) to f32, AVX2 when present. The prefill
// matmul dequantizes every weight row it touches once per execute, so this
// runs at a few cycles per block instead of the per-element reference codecs
// in the kit's quant.cpp, which remain the fallback and the test reference.
#pragma once

#include <cstdint>

namespace tsr::cpu {

// n elements (whole blocks) of contiguous blocks at src into dst. Returns
// false for any other dtype, or when the CPU has no AVX2 (dst untouched):
// callers then use the dtype's reference to_float.
bool dequantize_row_fast(const void* src, int32_t dtype, int64_t n, float* dst);

}  // namespace tsr::cpu
