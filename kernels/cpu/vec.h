// Small f32 vector primitives shared by the float kernels (matmul, attention,
// norms). AVX2/FMA versions are chosen at run time.
#pragma once

#include <cstdint>

namespace tsr::cpu {

float dot_f32(const float* a, const float* b, int64_t n);
// out[i] = dot(w[i], x) for i in 0..3: x is loaded once for four rows.
void dot4_f32(const float* const w[4], const float* x, int64_t n, float out[4]);
// y = y * a + x * b
void scale_add_f32(float* y, float a, const float* x, float b, int64_t n);
float sum_f32(const float* x, int64_t n);
float sum_sq_f32(const float* x, int64_t n);
// o = silu(a) * b, or silu(a) when b is null; silu(x) = x / (1 + e^-x).
// The AVX2 path uses exp_avx2 (within 2 ulp of expf).
void silu_mul_f32(const float* a, const float* b, float* o, int64_t n);

}  // namespace tsr::cpu
