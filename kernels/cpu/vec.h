// Small f32 vector primitives shared by the float kernels (matmul, attention,
// norms). AVX2/FMA versions are chosen at run time.
#pragma once

#include <cmath>
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
// o = gelu(a) * b, or gelu(a) when b is null (tanh form).
void gelu_mul_f32(const float* a, const float* b, float* o, int64_t n);
// o = cap * tanh(a / cap).
void softcap_f32(const float* a, float cap, float* o, int64_t n);

constexpr float kGeluK = 0.7978845608028654f;  // sqrt(2 / pi)
constexpr float kGeluC3 = 0.044715f;
inline float gelu_scalar(float x) {
  return 0.5f * x * (1.0f + std::tanh(kGeluK * (x + kGeluC3 * x * x * x)));
}

}  // namespace tsr::cpu
