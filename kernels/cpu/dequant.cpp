#include "kernels/cpu/dequant.h"

#include <immintrin.h>

#include "core/quant.h"
#include "kernels/cpu/convert.h"
#include "tessera/tessera_types.h"

namespace tsr::cpu {
namespace {

#define TSR_AVX2 __attribute__((target("avx2,fma,f16c")))

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
      return false;
  }
}

}  // namespace tsr::cpu
