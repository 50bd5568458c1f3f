#include "kernels/cpu/quant_dot.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "core/half.h"
#include "kernels/cpu/convert.h"
#include "tessera/tessera_types.h"

namespace tsr::cpu {
namespace {

// ---- scalar -----------------------------------------------------------------

float dot_q8_0_scalar(int64_t n, const void* w, const BlockQ8Act* x) {
  const auto* b = static_cast<const BlockQ8_0*>(w);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK; ++i) {
    int32_t acc = 0;
    for (int j = 0; j < kQK; ++j) acc += b[i].qs[j] * x[i].qs[j];
    sum += static_cast<float>(acc) * f16_to_f32(b[i].d) * x[i].d;
  }
  return sum;
}

float dot_q4_0_scalar(int64_t n, const void* w, const BlockQ8Act* x) {
  const auto* b = static_cast<const BlockQ4_0*>(w);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK; ++i) {
    int32_t acc = 0;
    for (int j = 0; j < kQK / 2; ++j) {
      acc += ((b[i].qs[j] & 0x0f) - 8) * x[i].qs[j];
      acc += ((b[i].qs[j] >> 4) - 8) * x[i].qs[j + kQK / 2];
    }
    sum += static_cast<float>(acc) * f16_to_f32(b[i].d) * x[i].d;
  }
  return sum;
}

// sum_j (q_j d + m) * (y_j dx) = d dx sum(q y) + m dx sum(y)
float dot_q4_1_scalar(int64_t n, const void* w, const BlockQ8Act* x) {
  const auto* b = static_cast<const BlockQ4_1*>(w);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK; ++i) {
    int32_t acc = 0, ysum = 0;
    for (int j = 0; j < kQK / 2; ++j) {
      acc += (b[i].qs[j] & 0x0f) * x[i].qs[j];
      acc += (b[i].qs[j] >> 4) * x[i].qs[j + kQK / 2];
      ysum += x[i].qs[j] + x[i].qs[j + kQK / 2];
    }
    const float dx = x[i].d;
    sum += static_cast<float>(acc) * f16_to_f32(b[i].d) * dx +
           static_cast<float>(ysum) * f16_to_f32(b[i].m) * dx;
  }
  return sum;
}

// ---- AVX2 -------------------------------------------------------------------

#define TSR_AVX2 __attribute__((target("avx2,fma,f16c")))

TSR_AVX2 inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// 8 x i32 partial sums of a (signed) . b (signed), 32 bytes each.
TSR_AVX2 inline __m256i dot_i8(__m256i a, __m256i b) {
  const __m256i ax = _mm256_sign_epi8(a, a);
  const __m256i sb = _mm256_sign_epi8(b, a);
  return _mm256_madd_epi16(_mm256_maddubs_epi16(ax, sb), _mm256_set1_epi16(1));
}

// 32 nibbles of a q4 block in element order: low nibbles then high nibbles.
TSR_AVX2 inline __m256i unpack_nibbles(const uint8_t* qs) {
  const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m128i lo = _mm_and_si128(q, _mm_set1_epi8(0x0f));
  const __m128i hi = _mm_and_si128(_mm_srli_epi16(q, 4), _mm_set1_epi8(0x0f));
  return _mm256_set_m128i(hi, lo);
}

TSR_AVX2 float dot_q8_0_avx2(int64_t n, const void* w, const BlockQ8Act* x) {
  const auto* b = static_cast<const BlockQ8_0*>(w);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / kQK; ++i) {
    const __m256i qw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b[i].qs));
    const __m256i qx = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[i].qs));
    const __m256 d = _mm256_set1_ps(_cvtsh_ss(b[i].d) * x[i].d);
    acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(dot_i8(qw, qx)), acc);
  }
  return hsum(acc);
}

TSR_AVX2 float dot_q4_0_avx2(int64_t n, const void* w, const BlockQ8Act* x) {
  const auto* b = static_cast<const BlockQ4_0*>(w);
  __m256 acc = _mm256_setzero_ps();
  const __m256i eight = _mm256_set1_epi8(8);
  for (int64_t i = 0; i < n / kQK; ++i) {
    const __m256i qw = _mm256_sub_epi8(unpack_nibbles(b[i].qs), eight);
    const __m256i qx = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[i].qs));
    const __m256 d = _mm256_set1_ps(_cvtsh_ss(b[i].d) * x[i].d);
    acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(dot_i8(qw, qx)), acc);
  }
  return hsum(acc);
}

TSR_AVX2 float dot_q4_1_avx2(int64_t n, const void* w, const BlockQ8Act* x) {
  const auto* b = static_cast<const BlockQ4_1*>(w);
  __m256 acc = _mm256_setzero_ps();
  float acc_m = 0.0f;
  const __m256i ones8 = _mm256_set1_epi8(1);
  const __m256i ones16 = _mm256_set1_epi16(1);
  for (int64_t i = 0; i < n / kQK; ++i) {
    const __m256i qw = unpack_nibbles(b[i].qs);  // unsigned 0..15
    const __m256i qx = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[i].qs));
    const __m256i p = _mm256_madd_epi16(_mm256_maddubs_epi16(qw, qx), ones16);
    const float dx = x[i].d;
    acc = _mm256_fmadd_ps(_mm256_set1_ps(_cvtsh_ss(b[i].d) * dx), _mm256_cvtepi32_ps(p), acc);
    const __m256i ys = _mm256_madd_epi16(_mm256_maddubs_epi16(ones8, qx), ones16);
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(ys), _mm256_extracti128_si256(ys, 1));
    s = _mm_hadd_epi32(s, s);
    s = _mm_hadd_epi32(s, s);
    acc_m += static_cast<float>(_mm_cvtsi128_si32(s)) * _cvtsh_ss(b[i].m) * dx;
  }
  return hsum(acc) + acc_m;
}

TSR_AVX2 void quantize_q8_0_avx2(const float* x, BlockQ8Act* y, int64_t n) {
  const __m256 sign_mask = _mm256_set1_ps(-0.0f);
  for (int64_t i = 0; i < n / kQK; ++i) {
    __m256 v[4];
    __m256 amax = _mm256_setzero_ps();
    for (int k = 0; k < 4; ++k) {
      v[k] = _mm256_loadu_ps(x + i * kQK + 8 * k);
      amax = _mm256_max_ps(amax, _mm256_andnot_ps(sign_mask, v[k]));
    }
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(amax), _mm256_extractf128_ps(amax, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    const float d = _mm_cvtss_f32(m) / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = d;
    const __m256 mul = _mm256_set1_ps(id);
    __m256i q[4];
    for (int k = 0; k < 4; ++k)
      q[k] = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v[k], mul), _MM_FROUND_TO_NEAREST_INT));
    // i32 -> i16 -> i8 packs interleave 128-bit lanes; undo with a permute.
    const __m256i q01 = _mm256_packs_epi32(q[0], q[1]);
    const __m256i q23 = _mm256_packs_epi32(q[2], q[3]);
    __m256i q8 = _mm256_packs_epi16(q01, q23);
    q8 = _mm256_permutevar8x32_epi32(q8, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y[i].qs), q8);
  }
}

void quantize_q8_0_scalar(const float* x, BlockQ8Act* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i) {
    float amax = 0.0f;
    for (int j = 0; j < kQK; ++j) amax = std::max(amax, std::fabs(x[i * kQK + j]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = d;
    for (int j = 0; j < kQK; ++j) y[i].qs[j] = static_cast<int8_t>(std::nearbyint(x[i * kQK + j] * id));
  }
}

}  // namespace

QDotFn qdot_scalar(int32_t wtype) {
  switch (wtype) {
    case TSR_DTYPE_Q8_0:
      return dot_q8_0_scalar;
    case TSR_DTYPE_Q4_0:
      return dot_q4_0_scalar;
    case TSR_DTYPE_Q4_1:
      return dot_q4_1_scalar;
    default:
      return nullptr;
  }
}

QDotFn qdot_best(int32_t wtype) {
  if (!cpu_has_f16c()) return qdot_scalar(wtype);
  switch (wtype) {
    case TSR_DTYPE_Q8_0:
      return dot_q8_0_avx2;
    case TSR_DTYPE_Q4_0:
      return dot_q4_0_avx2;
    case TSR_DTYPE_Q4_1:
      return dot_q4_1_avx2;
    default:
      return nullptr;
  }
}

void quantize_row_q8_act(const float* x, BlockQ8Act* y, int64_t n) {
  if (cpu_has_f16c())
    quantize_q8_0_avx2(x, y, n);
  else
    quantize_q8_0_scalar(x, y, n);
}

}  // namespace tsr::cpu
