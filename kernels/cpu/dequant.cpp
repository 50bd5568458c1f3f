#include "cpu/dequant.h"

#include <immintrin.h>

#include <type_traits>

#include "cpu/convert.h"
#include "cpu/quant_unpack_avx2.h"
#include "tessera/kit/dtype.h"
#include "tessera/kit/quant.h"
#include "tessera/tessera_types.h"

namespace tsr::cpu {
namespace {

TSR_AVX2 inline float f16(uint16_t h) { return _cvtsh_ss(h); }

// Stores 16 int16 lanes of v, times d plus m, as 16 floats at dst.
TSR_AVX2 inline void store16(__m256i v, __m256 d, __m256 m, float* dst) {
  const __m256 lo = _mm256_cvtepi32_ps(_mm256_cvtepi16_epi32(_mm256_castsi256_si128(v)));
  const __m256 hi = _mm256_cvtepi32_ps(_mm256_cvtepi16_epi32(_mm256_extracti128_si256(v, 1)));
  _mm256_storeu_ps(dst, _mm256_fmadd_ps(lo, d, m));
  _mm256_storeu_ps(dst + 8, _mm256_fmadd_ps(hi, d, m));
}

// The 32 nibbles of a q4 block as int16: element j of 0..15 is byte j's low
// nibble, j + 16 its high nibble.
TSR_AVX2 inline void nibbles(const uint8_t* qs, __m256i& lo, __m256i& hi) {
  const __m256i b = _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(qs)));
  lo = _mm256_and_si256(b, _mm256_set1_epi16(0x0f));
  hi = _mm256_srli_epi16(b, 4);
}

TSR_AVX2 void q4_0_avx2(const BlockQ4_0* b, int64_t nb, float* y) {
  for (int64_t i = 0; i < nb; ++i, y += kQK) {
    const __m256 d = _mm256_set1_ps(f16(b[i].d));
    const __m256 m = _mm256_mul_ps(d, _mm256_set1_ps(-8.0f));
    __m256i lo, hi;
    nibbles(b[i].qs, lo, hi);
    store16(lo, d, m, y);
    store16(hi, d, m, y + 16);
  }
}

TSR_AVX2 void q4_1_avx2(const BlockQ4_1* b, int64_t nb, float* y) {
  for (int64_t i = 0; i < nb; ++i, y += kQK) {
    const __m256 d = _mm256_set1_ps(f16(b[i].d));
    const __m256 m = _mm256_set1_ps(f16(b[i].m));
    __m256i lo, hi;
    nibbles(b[i].qs, lo, hi);
    store16(lo, d, m, y);
    store16(hi, d, m, y + 16);
  }
}

TSR_AVX2 void q8_0_avx2(const BlockQ8_0* b, int64_t nb, float* y) {
  const __m256 zero = _mm256_setzero_ps();
  for (int64_t i = 0; i < nb; ++i, y += kQK) {
    const __m256 d = _mm256_set1_ps(f16(b[i].d));
    for (int h = 0; h < 2; ++h) {
      const __m256i v =
          _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b[i].qs + 16 * h)));
      store16(v, d, zero, y + 16 * h);
    }
  }
}

// ---- 5-bit and k-quants (unpackers shared with quant_dot_k.cpp) ----------------

using unpack::k4_quants;
using unpack::q2k_quants;
using unpack::q3k_quants;
using unpack::q5_quants;
using unpack::q6k_quants;
using unpack::widen;

TSR_AVX2 inline __m256 bcast(float v) { return _mm256_set1_ps(v); }

template <bool kMin>
TSR_AVX2 void q5_avx2(const void* src, int64_t nb, float* y) {
  using Block = std::conditional_t<kMin, BlockQ5_1, BlockQ5_0>;
  const auto* b = static_cast<const Block*>(src);
  for (int64_t i = 0; i < nb; ++i, y += kQK) {
    const float d = f16(b[i].d);
    float mv = -16.0f * d;
    if constexpr (kMin) mv = f16(b[i].m);
    const __m256 m = bcast(mv);
    __m256i w0, w1;
    q5_quants(b[i].qs, b[i].qh, w0, w1);
    store16(w0, bcast(d), m, y);
    store16(w1, bcast(d), m, y + 16);
  }
}

template <typename Block>
TSR_AVX2 void k_affine_avx2(const void* src, int64_t nb, float* y) {
  const auto* b = static_cast<const Block*>(src);
  for (int64_t i = 0; i < nb; ++i) {
    const float d = f16(b[i].d), dmin = f16(b[i].dmin);
    for (int c = 0; c < 8; ++c, y += 32) {
      int sc, m;
      k4_scale_min(c, b[i].scales, sc, m);
      __m128i q0, q1;
      k4_quants(b[i], c, q0, q1);
      const __m256 vd = bcast(d * static_cast<float>(sc)), vm = bcast(-dmin * static_cast<float>(m));
      store16(widen(q0), vd, vm, y);
      store16(widen(q1), vd, vm, y + 16);
    }
  }
}

// The 16-element-sub-block formats: signed quants times d * scale(half), q2_K
// minus dmin * min(half).
TSR_AVX2 void q6_K_avx2(const void* src, int64_t nb, float* y) {
  const auto* b = static_cast<const BlockQ6_K*>(src);
  const __m256 zero = _mm256_setzero_ps();
  for (int64_t i = 0; i < nb; ++i) {
    const float d = f16(b[i].d);
    for (int c = 0; c < 8; ++c, y += 32) {
      __m256i w0, w1;
      q6k_quants(b[i], c, w0, w1);
      store16(w0, bcast(d * b[i].scales[2 * c]), zero, y);
      store16(w1, bcast(d * b[i].scales[2 * c + 1]), zero, y + 16);
    }
  }
}

TSR_AVX2 void q3_K_avx2(const void* src, int64_t nb, float* y) {
  const auto* b = static_cast<const BlockQ3_K*>(src);
  const __m256 zero = _mm256_setzero_ps();
  for (int64_t i = 0; i < nb; ++i) {
    const float d = f16(b[i].d);
    for (int c = 0; c < 8; ++c, y += 32) {
      __m256i w0, w1;
      q3k_quants(b[i], c, w0, w1);
      store16(w0, bcast(d * static_cast<float>(q3k_scale(2 * c, b[i].scales))), zero, y);
      store16(w1, bcast(d * static_cast<float>(q3k_scale(2 * c + 1, b[i].scales))), zero, y + 16);
    }
  }
}

TSR_AVX2 void q2_K_avx2(const void* src, int64_t nb, float* y) {
  const auto* b = static_cast<const BlockQ2_K*>(src);
  for (int64_t i = 0; i < nb; ++i) {
    const float d = f16(b[i].d), dmin = f16(b[i].dmin);
    for (int c = 0; c < 8; ++c, y += 32) {
      __m256i w0, w1;
      q2k_quants(b[i], c, w0, w1);
      const int s0 = b[i].scales[2 * c], s1 = b[i].scales[2 * c + 1];
      store16(w0, bcast(d * static_cast<float>(s0 & 0x0f)), bcast(-dmin * static_cast<float>(s0 >> 4)), y);
      store16(w1, bcast(d * static_cast<float>(s1 & 0x0f)), bcast(-dmin * static_cast<float>(s1 >> 4)),
              y + 16);
    }
  }
}

using RowFn = void (*)(const void* src, int64_t nb, float* y);

// The AVX2 dequantizer of a 5-bit or k-quant dtype, or null.
RowFn k_row_avx2(int32_t dtype) {
  switch (dtype) {
    case TSR_DTYPE_Q5_0:
      return q5_avx2<false>;
    case TSR_DTYPE_Q5_1:
      return q5_avx2<true>;
    case TSR_DTYPE_Q2_K:
      return q2_K_avx2;
    case TSR_DTYPE_Q3_K:
      return q3_K_avx2;
    case TSR_DTYPE_Q4_K:
      return k_affine_avx2<BlockQ4_K>;
    case TSR_DTYPE_Q5_K:
      return k_affine_avx2<BlockQ5_K>;
    case TSR_DTYPE_Q6_K:
      return q6_K_avx2;
    default:
      return nullptr;
  }
}

}  // namespace

bool dequantize_row_fast(const void* src, int32_t dtype, int64_t n, float* dst) {
  const int64_t nb = n / kQK;
  const bool simd = cpu_has_f16c();
  switch (dtype) {
    case TSR_DTYPE_Q8_0:
      simd ? q8_0_avx2(static_cast<const BlockQ8_0*>(src), nb, dst) : dequantize_q8_0(src, dst, n);
      return true;
    case TSR_DTYPE_Q4_0:
      simd ? q4_0_avx2(static_cast<const BlockQ4_0*>(src), nb, dst) : dequantize_q4_0(src, dst, n);
      return true;
    case TSR_DTYPE_Q4_1:
      simd ? q4_1_avx2(static_cast<const BlockQ4_1*>(src), nb, dst) : dequantize_q4_1(src, dst, n);
      return true;
    default:
      break;
  }
  const RowFn k = simd ? k_row_avx2(dtype) : nullptr;
  if (!k) return false;
  k(src, n / dtype_traits(dtype)->block_size, dst);
  return true;
}

}  // namespace tsr::cpu
