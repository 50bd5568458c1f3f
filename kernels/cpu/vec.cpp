#include "cpu/vec.h"

#include <immintrin.h>

#include <cmath>

#include "cpu/convert.h"
#include "cpu/simd_math.h"

namespace tsr::cpu {
namespace {

#define TSR_AVX2 __attribute__((target("avx2,fma")))

TSR_AVX2 inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

TSR_AVX2 void silu_mul_avx2(const float* a, const float* b, float* o, int64_t n) {
  const __m256 one = _mm256_set1_ps(1.0f), sign = _mm256_set1_ps(-0.0f);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 x = _mm256_loadu_ps(a + i);
    __m256 y = _mm256_div_ps(x, _mm256_add_ps(one, exp_avx2(_mm256_xor_ps(x, sign))));
    if (b) y = _mm256_mul_ps(y, _mm256_loadu_ps(b + i));
    _mm256_storeu_ps(o + i, y);
  }
  for (; i < n; ++i) {
    const float y = a[i] / (1.0f + std::exp(-a[i]));
    o[i] = b ? y * b[i] : y;
  }
}

// gelu(x) = 0.5 x (1 + tanh(z)) = x * sigmoid(2z), z = sqrt(2/pi) (x + 0.044715 x^3):
// silu's form with a cubic argument, so it shares exp_avx2.
TSR_AVX2 void gelu_mul_avx2(const float* a, const float* b, float* o, int64_t n) {
  const __m256 one = _mm256_set1_ps(1.0f), m2k = _mm256_set1_ps(-2.0f * kGeluK), c3 = _mm256_set1_ps(kGeluC3);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 x = _mm256_loadu_ps(a + i);
    const __m256 x2 = _mm256_mul_ps(x, x);
    const __m256 z = _mm256_mul_ps(m2k, _mm256_mul_ps(x, _mm256_fmadd_ps(c3, x2, one)));  // -2z
    __m256 y = _mm256_div_ps(x, _mm256_add_ps(one, exp_avx2(z)));
    if (b) y = _mm256_mul_ps(y, _mm256_loadu_ps(b + i));
    _mm256_storeu_ps(o + i, y);
  }
  for (; i < n; ++i) o[i] = b ? gelu_scalar(a[i]) * b[i] : gelu_scalar(a[i]);
}

// c tanh(x / c). tanh |y| = (1 - e^-2|y|) / (1 + e^-2|y|), which cancels for
// small |y|: below 1/8 the odd Taylor series (to y^7, error < 2e-10 relative)
// is used instead.
TSR_AVX2 void softcap_avx2(const float* a, float cap, float* o, int64_t n) {
  const __m256 one = _mm256_set1_ps(1.0f), c = _mm256_set1_ps(cap), inv = _mm256_set1_ps(1.0f / cap);
  const __m256 sign = _mm256_set1_ps(-0.0f), m2 = _mm256_set1_ps(-2.0f), small = _mm256_set1_ps(0.125f);
  const __m256 t3 = _mm256_set1_ps(-1.0f / 3.0f), t5 = _mm256_set1_ps(2.0f / 15.0f),
               t7 = _mm256_set1_ps(-17.0f / 315.0f);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 y = _mm256_mul_ps(_mm256_loadu_ps(a + i), inv);
    const __m256 ay = _mm256_andnot_ps(sign, y);
    const __m256 e = exp_avx2(_mm256_mul_ps(m2, ay));
    const __m256 big = _mm256_div_ps(_mm256_sub_ps(one, e), _mm256_add_ps(one, e));
    const __m256 y2 = _mm256_mul_ps(ay, ay);
    const __m256 poly =
        _mm256_mul_ps(ay, _mm256_fmadd_ps(y2, _mm256_fmadd_ps(y2, _mm256_fmadd_ps(y2, t7, t5), t3), one));
    const __m256 t = _mm256_blendv_ps(big, poly, _mm256_cmp_ps(ay, small, _CMP_LT_OQ));
    _mm256_storeu_ps(o + i, _mm256_mul_ps(c, _mm256_or_ps(t, _mm256_and_ps(sign, y))));
  }
  for (; i < n; ++i) o[i] = cap * std::tanh(a[i] / cap);
}

TSR_AVX2 float dot_avx2(const float* a, const float* b, int64_t n) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
  }
  for (; i + 8 <= n; i += 8) acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
  float s = hsum(_mm256_add_ps(acc0, acc1));
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

TSR_AVX2 void dot4_avx2(const float* const w[4], const float* x, int64_t n, float out[4]) {
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 xv = _mm256_loadu_ps(x + i);
    for (int r = 0; r < 4; ++r) acc[r] = _mm256_fmadd_ps(_mm256_loadu_ps(w[r] + i), xv, acc[r]);
  }
  for (int r = 0; r < 4; ++r) {
    float s = hsum(acc[r]);
    for (int64_t j = i; j < n; ++j) s += w[r][j] * x[j];
    out[r] = s;
  }
}

TSR_AVX2 void scale_add_avx2(float* y, float a, const float* x, float b, int64_t n) {
  const __m256 av = _mm256_set1_ps(a), bv = _mm256_set1_ps(b);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(y + i,
                     _mm256_fmadd_ps(_mm256_loadu_ps(x + i), bv, _mm256_mul_ps(_mm256_loadu_ps(y + i), av)));
  for (; i < n; ++i) y[i] = y[i] * a + x[i] * b;
}

TSR_AVX2 float sum_avx2(const float* x, int64_t n) {
  __m256 acc = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) acc = _mm256_add_ps(acc, _mm256_loadu_ps(x + i));
  float s = hsum(acc);
  for (; i < n; ++i) s += x[i];
  return s;
}

}  // namespace

float dot_f32(const float* a, const float* b, int64_t n) {
  if (cpu_has_avx2_fma()) return dot_avx2(a, b, n);
  float s = 0.0f;
  for (int64_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

void dot4_f32(const float* const w[4], const float* x, int64_t n, float out[4]) {
  if (cpu_has_avx2_fma()) {
    dot4_avx2(w, x, n, out);
    return;
  }
  for (int r = 0; r < 4; ++r) out[r] = dot_f32(w[r], x, n);
}

void scale_add_f32(float* y, float a, const float* x, float b, int64_t n) {
  if (cpu_has_avx2_fma()) {
    scale_add_avx2(y, a, x, b, n);
    return;
  }
  for (int64_t i = 0; i < n; ++i) y[i] = y[i] * a + x[i] * b;
}

float sum_f32(const float* x, int64_t n) {
  if (cpu_has_avx2_fma()) return sum_avx2(x, n);
  float s = 0.0f;
  for (int64_t i = 0; i < n; ++i) s += x[i];
  return s;
}

float sum_sq_f32(const float* x, int64_t n) { return dot_f32(x, x, n); }

void silu_mul_f32(const float* a, const float* b, float* o, int64_t n) {
  if (cpu_has_avx2_fma()) {
    silu_mul_avx2(a, b, o, n);
    return;
  }
  for (int64_t i = 0; i < n; ++i) {
    const float y = a[i] / (1.0f + std::exp(-a[i]));
    o[i] = b ? y * b[i] : y;
  }
}

void gelu_mul_f32(const float* a, const float* b, float* o, int64_t n) {
  if (cpu_has_avx2_fma()) {
    gelu_mul_avx2(a, b, o, n);
    return;
  }
  for (int64_t i = 0; i < n; ++i) o[i] = b ? gelu_scalar(a[i]) * b[i] : gelu_scalar(a[i]);
}

void softcap_f32(const float* a, float cap, float* o, int64_t n) {
  if (cpu_has_avx2_fma()) {
    softcap_avx2(a, cap, o, n);
    return;
  }
  for (int64_t i = 0; i < n; ++i) o[i] = cap * std::tanh(a[i] / cap);
}

}  // namespace tsr::cpu
