// AVX2 unpacking of the 5-bit and k-quant block formats into integer
// lanes, following the chunk layouts of tessera/kit/quant.h. Shared by the dot
// products (quant_dot_k.cpp) and the row dequantizer (dequant.cpp); every
// function is inline with the AVX2 target, so callers dispatch at run time.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "tessera/kit/quant.h"

#ifndef TSR_AVX2
#define TSR_AVX2 __attribute__((target("avx2,fma,f16c")))
#endif

namespace tsr::cpu::unpack {

TSR_AVX2 inline __m128i load128(const void* p) { return _mm_loadu_si128(static_cast<const __m128i*>(p)); }
TSR_AVX2 inline __m128i bits(__m128i v, int shift, int mask) {
  return _mm_and_si128(_mm_srl_epi16(v, _mm_cvtsi32_si128(shift)), _mm_set1_epi8(static_cast<char>(mask)));
}
TSR_AVX2 inline __m256i widen(__m128i u8) { return _mm256_cvtepu8_epi16(u8); }

// The 32 high bits of a q5 block as bytes 0x10 / 0x00: element j's bit is bit j of qh.
TSR_AVX2 inline void q5_high(const uint8_t* qh_bytes, __m128i& h0, __m128i& h1) {
  uint32_t qh;
  std::memcpy(&qh, qh_bytes, 4);
  const __m128i sel = _mm_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
  const __m128i bit = _mm_set1_epi64x(static_cast<int64_t>(0x8040201008040201ull));
  const __m128i v = _mm_cvtsi32_si128(static_cast<int>(qh));
  const __m128i lo = _mm_shuffle_epi8(v, sel);
  const __m128i hi = _mm_shuffle_epi8(v, _mm_add_epi8(sel, _mm_set1_epi8(2)));
  const __m128i ten = _mm_set1_epi8(0x10);
  h0 = _mm_and_si128(_mm_cmpeq_epi8(_mm_and_si128(lo, bit), bit), ten);
  h1 = _mm_and_si128(_mm_cmpeq_epi8(_mm_and_si128(hi, bit), bit), ten);
}

// A q5 block's 32 quants (0..31) as int16: elements 0..15 and 16..31.
TSR_AVX2 inline void q5_quants(const uint8_t* qs, const uint8_t* qh, __m256i& w0, __m256i& w1) {
  __m128i h0, h1;
  q5_high(qh, h0, h1);
  const __m128i v = load128(qs);
  w0 = widen(_mm_or_si128(bits(v, 0, 0x0f), h0));
  w1 = widen(_mm_or_si128(bits(v, 4, 0x0f), h1));
}

// q4_K / q5_K chunk quants as u8 halves (elements 0..15, 16..31).
TSR_AVX2 inline void k4_quants(const BlockQ4_K& b, int c, __m128i& q0, __m128i& q1) {
  const uint8_t* p = b.qs + 32 * (c / 2);
  q0 = bits(load128(p), 4 * (c % 2), 0x0f);
  q1 = bits(load128(p + 16), 4 * (c % 2), 0x0f);
}
TSR_AVX2 inline void k4_quants(const BlockQ5_K& b, int c, __m128i& q0, __m128i& q1) {
  const uint8_t* p = b.qs + 32 * (c / 2);
  const __m128i h0 = _mm_slli_epi16(bits(load128(b.qh), c, 1), 4);
  const __m128i h1 = _mm_slli_epi16(bits(load128(b.qh + 16), c, 1), 4);
  q0 = _mm_or_si128(bits(load128(p), 4 * (c % 2), 0x0f), h0);
  q1 = _mm_or_si128(bits(load128(p + 16), 4 * (c % 2), 0x0f), h1);
}

// 16-element-sub-block formats: signed int16 quants of a chunk (callers
// fold in each half's integer scale: |q * scale| <= 32 * 128 fits int16).
TSR_AVX2 inline void q6k_quants(const BlockQ6_K& b, int c, __m256i& w0, __m256i& w1) {
  const int h = c / 4, t = c % 4;
  const uint8_t* ql = b.ql + 64 * h + 32 * (t % 2);
  const uint8_t* qh = b.qh + 32 * h;
  const __m256i k32 = _mm256_set1_epi16(32);
  for (int half = 0; half < 2; ++half) {
    const __m128i lo = bits(load128(ql + 16 * half), 4 * (t / 2), 0x0f);
    const __m128i hi = _mm_slli_epi16(bits(load128(qh + 16 * half), 2 * t, 3), 4);
    (half ? w1 : w0) = _mm256_sub_epi16(widen(_mm_or_si128(lo, hi)), k32);
  }
}
TSR_AVX2 inline void q3k_quants(const BlockQ3_K& b, int c, __m256i& w0, __m256i& w1) {
  const uint8_t* qs = b.qs + 32 * (c / 4);
  const __m256i k4 = _mm256_set1_epi16(4);
  for (int half = 0; half < 2; ++half) {
    const __m128i lo = bits(load128(qs + 16 * half), 2 * (c % 4), 3);
    const __m128i hi = _mm_slli_epi16(bits(load128(b.hmask + 16 * half), c, 1), 2);
    (half ? w1 : w0) = _mm256_sub_epi16(widen(_mm_or_si128(lo, hi)), k4);
  }
}
TSR_AVX2 inline void q2k_quants(const BlockQ2_K& b, int c, __m256i& w0, __m256i& w1) {
  const uint8_t* qs = b.qs + 32 * (c / 4);
  w0 = widen(bits(load128(qs), 2 * (c % 4), 3));
  w1 = widen(bits(load128(qs + 16), 2 * (c % 4), 3));
}

}  // namespace tsr::cpu::unpack
