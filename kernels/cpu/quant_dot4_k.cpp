// Four-row decode kernels (QDot4Fn) for q4_K, q5_K and q6_K, and at AVX-512
// for the 32-element formats q5_0, q5_1 and q4_0: the matvec's inner loop.
// Why separate from the one-row versions in quant_dot_k.cpp: a decode step
// streams every weight once, so these must run at memory speed, and one row
// alone cannot (one core measured 2.2-3.1x faster with four rows:
// BM_matvec_k in benchmarks/micro). Per super-block (256 elements) they
//  - read the activation blocks' scales once for all four rows;
//  - decode each row's sub-block scales with a few word operations and fold
//    them, the f16 super-scales and the activation scales into one float
//    factor per chunk (one vector multiply instead of scalar work per chunk);
//  - take the affine formats' min terms as one FMA of eight mins against
//    eight activation sums;
//  - keep four independent FMA chains, so no chunk waits on the previous
//    one's latency.
// Integer sums per chunk stay exact as in quant_dot_k.cpp, so these agree
// with the one-row versions up to float rounding of the chunk additions.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "cpu/quant_dot_k.h"
#include "tessera/kit/quant.h"
#include "tessera/tessera_types.h"

#ifndef TSR_AVX2
#define TSR_AVX2 __attribute__((target("avx2,fma,f16c")))
#endif
#define TSR_AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma,f16c")))

// GCC 12's AVX-512 intrinsics start from _mm512_undefined_*() (`__Y = __Y`),
// which its flow analysis reports as uninitialized once the accumulators
// live in arrays; the values are always written before use.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace tsr::cpu {
namespace {

template <typename Block>
struct Rows {
  const Block* b[4];
  std::ptrdiff_t ahead;  // bytes from a row's block to the same block 8 rows on

  explicit Rows(const void* const w[4]) {
    for (int r = 0; r < 4; ++r) b[r] = static_cast<const Block*>(w[r]);
    // Callers pass consecutive rows of one matrix, so two calls from now read
    // 8 row strides further on: prefetch there. A wrong guess (rows not evenly
    // spaced) only wastes a prefetch.
    ahead = 8 * (reinterpret_cast<const char*>(w[1]) - reinterpret_cast<const char*>(w[0]));
  }
  TSR_AVX2 void prefetch(int64_t i) const {
    for (int r = 0; r < 4; ++r) {
      const char* p = reinterpret_cast<const char*>(b[r] + i) + ahead;
      for (std::size_t off = 0; off < sizeof(Block); off += 64) _mm_prefetch(p + off, _MM_HINT_T0);
    }
  }
};

// The eight activation scales (d) and scaled sums (s) of one super-block.
TSR_AVX2 inline void x_scales(const BlockQ16Act* x, __m256& d, __m256& s) {
  d = _mm256_setr_ps(x[0].d, x[1].d, x[2].d, x[3].d, x[4].d, x[5].d, x[6].d, x[7].d);
  s = _mm256_setr_ps(x[0].s, x[1].s, x[2].s, x[3].s, x[4].s, x[5].s, x[6].s, x[7].s);
}

// q4_K / q5_K: the eight 6-bit scales and mins (k4_scale_min) as floats.
// Words u0 = bytes 0..3, u1 = 4..7, u2 = 8..11: sub-blocks 0..3 are the low
// 6 bits of u0 (scales) and u1 (mins); 4..7 take their low 4 bits from the
// nibbles of u2 and their top 2 bits from the top bits of u0 / u1.
TSR_AVX2 inline void k4_scales(const uint8_t* s, __m256& sc, __m256& mn) {
  uint32_t u[3];
  std::memcpy(u, s, 12);
  constexpr uint32_t kLow6 = 0x3f3f3f3f, kLow4 = 0x0f0f0f0f, kLow2 = 0x03030303;
  const uint64_t scb = (u[0] & kLow6) | static_cast<uint64_t>((u[2] & kLow4) | (((u[0] >> 6) & kLow2) << 4))
                                            << 32;
  const uint64_t mnb =
      (u[1] & kLow6) | static_cast<uint64_t>(((u[2] >> 4) & kLow4) | (((u[1] >> 6) & kLow2) << 4)) << 32;
  sc = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_cvtsi64_si128(static_cast<int64_t>(scb))));
  mn = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_cvtsi64_si128(static_cast<int64_t>(mnb))));
}

TSR_AVX2 inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// Per row and super-block: f[c] = d * sc[c] * dx[c] for the chunk sums, and
// the min term dmin * mn[c] * sx[c] added into accm.
template <typename Block>
TSR_AVX2 inline void k4_factors(const Block& b, __m256 xd, __m256 xs, float* f, __m256& accm) {
  __m256 sc, mn;
  k4_scales(b.scales, sc, mn);
  const __m256 d = _mm256_set1_ps(_cvtsh_ss(b.d)), dmin = _mm256_set1_ps(_cvtsh_ss(b.dmin));
  _mm256_storeu_ps(f, _mm256_mul_ps(_mm256_mul_ps(d, sc), xd));
  accm = _mm256_fmadd_ps(_mm256_mul_ps(dmin, mn), xs, accm);
}

// q6_K: f[j] = d * scale[j] * dx[j / 2] for its sixteen 16-element sub-blocks.
TSR_AVX2 inline void q6k_factors(const BlockQ6_K& b, __m256 xd, float* f) {
  const __m128i s8 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.scales));
  const __m256 d = _mm256_set1_ps(_cvtsh_ss(b.d));
  // dx repeated per pair: [x0 x0 x1 x1 x2 x2 x3 x3] and [x4 x4 ... x7 x7].
  const __m256 lo = _mm256_permutevar8x32_ps(xd, _mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3));
  const __m256 hi = _mm256_permutevar8x32_ps(xd, _mm256_setr_epi32(4, 4, 5, 5, 6, 6, 7, 7));
  const __m256 s0 = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(s8));
  const __m256 s1 = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_unpackhi_epi64(s8, s8)));
  _mm256_storeu_ps(f, _mm256_mul_ps(_mm256_mul_ps(d, s0), lo));
  _mm256_storeu_ps(f + 8, _mm256_mul_ps(_mm256_mul_ps(d, s1), hi));
}

// ---- AVX2 -----------------------------------------------------------------------
// A chunk is two ymm of 16 int16 weights against the activation's two halves.

TSR_AVX2 inline __m256i load_u8x16(const uint8_t* p) {
  return _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}
TSR_AVX2 inline __m256i load_x(const BlockQ16Act& x, int half) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.qs + 16 * half));
}

// Chunks 2k (low nibbles) and 2k + 1 (high) of a q4_K / q5_K super-block as
// int16 halves: lo[h], hi[h] hold elements 16h .. 16h + 15.
TSR_AVX2 inline void k4_pair(const BlockQ4_K& b, int k, __m256i lo[2], __m256i hi[2]) {
  for (int h = 0; h < 2; ++h) {
    const __m256i q = load_u8x16(b.qs + 32 * k + 16 * h);
    lo[h] = _mm256_and_si256(q, _mm256_set1_epi16(0x0f));
    hi[h] = _mm256_srli_epi16(q, 4);
  }
}
// q5_K: the nibbles and fifth bits are combined on 32 bytes at once, then
// widened (the 16-bit shifts are safe: the byte masks drop what crosses a byte).
TSR_AVX2 inline __m256i bit_to_4(__m256i qh, int bit) {
  const __m256i v = bit <= 4 ? _mm256_sll_epi16(qh, _mm_cvtsi32_si128(4 - bit))
                             : _mm256_srl_epi16(qh, _mm_cvtsi32_si128(bit - 4));
  return _mm256_and_si256(v, _mm256_set1_epi8(0x10));
}
TSR_AVX2 inline void k4_pair(const BlockQ5_K& b, int k, __m256i lo[2], __m256i hi[2]) {
  const __m256i m4 = _mm256_set1_epi8(0x0f);
  const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qs + 32 * k));
  const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qh));
  const __m256i l8 = _mm256_or_si256(_mm256_and_si256(q, m4), bit_to_4(qh, 2 * k));
  const __m256i h8 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 4), m4), bit_to_4(qh, 2 * k + 1));
  lo[0] = _mm256_cvtepu8_epi16(_mm256_castsi256_si128(l8));
  lo[1] = _mm256_cvtepu8_epi16(_mm256_extracti128_si256(l8, 1));
  hi[0] = _mm256_cvtepu8_epi16(_mm256_castsi256_si128(h8));
  hi[1] = _mm256_cvtepu8_epi16(_mm256_extracti128_si256(h8, 1));
}

TSR_AVX2 inline __m256 madd_f(__m256i w0, __m256i w1, __m256i x0, __m256i x1) {
  return _mm256_cvtepi32_ps(_mm256_add_epi32(_mm256_madd_epi16(w0, x0), _mm256_madd_epi16(w1, x1)));
}

template <typename Block>
TSR_AVX2 void dot4_k_affine_avx2(int64_t n, const void* const w[4], const BlockQ16Act* x, float out[4]) {
  const Rows<Block> rows(w);
  __m256 acc[4], accm[4];
  for (int r = 0; r < 4; ++r) acc[r] = accm[r] = _mm256_setzero_ps();
  alignas(32) float f[4][8];
  for (int64_t i = 0; i < n / kQKK; ++i) {
    rows.prefetch(i);
    const BlockQ16Act* xb = x + 8 * i;
    __m256 xd, xs;
    x_scales(xb, xd, xs);
    for (int r = 0; r < 4; ++r) k4_factors(rows.b[r][i], xd, xs, f[r], accm[r]);
    for (int k = 0; k < 4; ++k) {
      const __m256i x00 = load_x(xb[2 * k], 0), x01 = load_x(xb[2 * k], 1);
      const __m256i x10 = load_x(xb[2 * k + 1], 0), x11 = load_x(xb[2 * k + 1], 1);
      for (int r = 0; r < 4; ++r) {
        __m256i lo[2], hi[2];
        k4_pair(rows.b[r][i], k, lo, hi);
        acc[r] = _mm256_fmadd_ps(_mm256_broadcast_ss(&f[r][2 * k]), madd_f(lo[0], lo[1], x00, x01), acc[r]);
        acc[r] =
            _mm256_fmadd_ps(_mm256_broadcast_ss(&f[r][2 * k + 1]), madd_f(hi[0], hi[1], x10, x11), acc[r]);
      }
    }
  }
  for (int r = 0; r < 4; ++r) out[r] = hsum(acc[r]) - hsum(accm[r]);
}

TSR_AVX2 inline __m256i hsel(__m256i qh, int t) {
  // (qh >> 2t & 3) << 4 for t = 0..3 without a variable shift direction.
  return t < 2 ? _mm256_slli_epi16(qh, 4 - 2 * t) : _mm256_srli_epi16(qh, 2 * t - 4);
}

// q6_K at AVX2: the bit work is done on a chunk's 32 bytes at once (shifts
// on 16-bit lanes are safe under the byte masks), the quant made signed as a
// byte, and only then widened to the two int16 halves.
TSR_AVX2 void dot4_q6_K_avx2(int64_t n, const void* const w[4], const BlockQ16Act* x, float out[4]) {
  const Rows<BlockQ6_K> rows(w);
  __m256 acc[4];
  for (int r = 0; r < 4; ++r) acc[r] = _mm256_setzero_ps();
  alignas(32) float f[4][16];
  const __m256i m4 = _mm256_set1_epi8(0x0f), m2 = _mm256_set1_epi8(0x30), k32 = _mm256_set1_epi8(32);
  for (int64_t i = 0; i < n / kQKK; ++i) {
    rows.prefetch(i);
    const BlockQ16Act* xb = x + 8 * i;
    __m256 xd, xs;
    x_scales(xb, xd, xs);
    for (int r = 0; r < 4; ++r) q6k_factors(rows.b[r][i], xd, f[r]);
    for (int c = 0; c < 8; ++c) {
      const int h = c / 4, t = c % 4;
      const __m256i x0 = load_x(xb[c], 0), x1 = load_x(xb[c], 1);
      for (int r = 0; r < 4; ++r) {
        const BlockQ6_K& b = rows.b[r][i];
        const __m256i ql = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.ql + 64 * h + 32 * (t % 2)));
        const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qh + 32 * h));
        const __m256i lo = _mm256_and_si256(t < 2 ? ql : _mm256_srli_epi16(ql, 4), m4);
        const __m256i q8 = _mm256_sub_epi8(_mm256_or_si256(lo, _mm256_and_si256(hsel(qh, t), m2)), k32);
        const __m256i w0 = _mm256_cvtepi8_epi16(_mm256_castsi256_si128(q8));
        const __m256i w1 = _mm256_cvtepi8_epi16(_mm256_extracti128_si256(q8, 1));
        acc[r] = _mm256_fmadd_ps(_mm256_broadcast_ss(&f[r][2 * c]),
                                 _mm256_cvtepi32_ps(_mm256_madd_epi16(w0, x0)), acc[r]);
        acc[r] = _mm256_fmadd_ps(_mm256_broadcast_ss(&f[r][2 * c + 1]),
                                 _mm256_cvtepi32_ps(_mm256_madd_epi16(w1, x1)), acc[r]);
      }
    }
  }
  for (int r = 0; r < 4; ++r) out[r] = hsum(acc[r]);
}

// ---- AVX-512 --------------------------------------------------------------------
// A chunk is one zmm of 32 int16 weights: one madd, one convert and one FMA
// per 32 elements and row; the two chunks sharing a byte range of a q4_K /
// q5_K super-block come from one 32-byte load.

TSR_AVX512 inline __m512i load_u8x32(const uint8_t* p) {
  return _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}
TSR_AVX512 inline __m512i load_x512(const BlockQ16Act& x) { return _mm512_loadu_si512(x.qs); }
TSR_AVX512 inline __m512 madd_f512(__m512i w, __m512i x) {
  return _mm512_cvtepi32_ps(_mm512_madd_epi16(w, x));
}
TSR_AVX512 inline float hsum512(__m512 v) {
  return hsum(_mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1)));
}

// q5_K's fifth bit of chunk c is bit c of qh[l]: add 16 where a mask test finds it (the nibble has no bit 4).
template <typename Block>
TSR_AVX512 inline void k_pair512(const Block& b, int k, __m512i& lo, __m512i& hi) {
  const __m512i q = load_u8x32(b.qs + 32 * k);
  lo = _mm512_and_si512(q, _mm512_set1_epi16(0x0f));
  hi = _mm512_srli_epi16(q, 4);
  if constexpr (std::is_same_v<Block, BlockQ5_K>) {
    const __m512i qh = load_u8x32(b.qh);
    const __m512i sixteen = _mm512_set1_epi16(16);
    lo = _mm512_mask_add_epi16(
        lo, _mm512_test_epi16_mask(qh, _mm512_set1_epi16(static_cast<int16_t>(1 << (2 * k)))), lo, sixteen);
    hi = _mm512_mask_add_epi16(
        hi, _mm512_test_epi16_mask(qh, _mm512_set1_epi16(static_cast<int16_t>(1 << (2 * k + 1)))), hi,
        sixteen);
  }
}

template <typename Block>
TSR_AVX512 void dot4_k_affine_avx512(int64_t n, const void* const w[4], const BlockQ16Act* x, float out[4]) {
  const Rows<Block> rows(w);
  __m512 acc[4];
  __m256 accm[4];
  for (int r = 0; r < 4; ++r) {
    acc[r] = _mm512_setzero_ps();
    accm[r] = _mm256_setzero_ps();
  }
  alignas(32) float f[4][8];
  for (int64_t i = 0; i < n / kQKK; ++i) {
    rows.prefetch(i);
    const BlockQ16Act* xb = x + 8 * i;
    __m256 xd, xs;
    x_scales(xb, xd, xs);
    for (int r = 0; r < 4; ++r) k4_factors(rows.b[r][i], xd, xs, f[r], accm[r]);
    for (int k = 0; k < 4; ++k) {
      const __m512i x0 = load_x512(xb[2 * k]), x1 = load_x512(xb[2 * k + 1]);
      for (int r = 0; r < 4; ++r) {
        __m512i lo, hi;
        k_pair512(rows.b[r][i], k, lo, hi);
        acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(f[r][2 * k]), madd_f512(lo, x0), acc[r]);
        acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(f[r][2 * k + 1]), madd_f512(hi, x1), acc[r]);
      }
    }
  }
  for (int r = 0; r < 4; ++r) out[r] = hsum512(acc[r]) - hsum(accm[r]);
}

// q6_K: a half (128 elements, chunks t = 0..3) reads ql[0..63] and qh[0..31]
// once; each chunk's madd lanes 0..7 hold elements 0..15 (sub-block 2c) and
// lanes 8..15 elements 16..31 (sub-block 2c + 1), so its factor vector is the
// two sub-blocks' factors each repeated eight times.
TSR_AVX512 void dot4_q6_K_avx512(int64_t n, const void* const w[4], const BlockQ16Act* x, float out[4]) {
  const Rows<BlockQ6_K> rows(w);
  __m512 acc[4];
  for (int r = 0; r < 4; ++r) acc[r] = _mm512_setzero_ps();
  alignas(64) float f[4][16];
  const __m512i m4 = _mm512_set1_epi16(0x0f), m2 = _mm512_set1_epi16(0x30), k32 = _mm512_set1_epi16(32);
  for (int64_t i = 0; i < n / kQKK; ++i) {
    rows.prefetch(i);
    const BlockQ16Act* xb = x + 8 * i;
    __m256 xd, xs;
    x_scales(xb, xd, xs);
    for (int r = 0; r < 4; ++r) q6k_factors(rows.b[r][i], xd, f[r]);
    for (int h = 0; h < 2; ++h) {
      __m512i xv[4];
      for (int t = 0; t < 4; ++t) xv[t] = load_x512(xb[4 * h + t]);
      for (int r = 0; r < 4; ++r) {
        const BlockQ6_K& b = rows.b[r][i];
        const __m512i ql0 = load_u8x32(b.ql + 64 * h), ql1 = load_u8x32(b.ql + 64 * h + 32);
        const __m512i qh = load_u8x32(b.qh + 32 * h);
        const __m512 fv = _mm512_load_ps(f[r]);
        for (int t = 0; t < 4; ++t) {
          const __m512i ql = t % 2 ? ql1 : ql0;
          const __m512i lo = _mm512_and_si512(t < 2 ? ql : _mm512_srli_epi16(ql, 4), m4);
          const __m512i hb = t < 2 ? _mm512_slli_epi16(qh, 4 - 2 * t) : _mm512_srli_epi16(qh, 2 * t - 4);
          const __m512i q = _mm512_sub_epi16(_mm512_ternarylogic_epi32(lo, hb, m2, 0xf8), k32);
          const int j = 2 * (4 * h + t);
          const __m512 fc = _mm512_permutexvar_ps(_mm512_setr_epi32(j, j, j, j, j, j, j, j, j + 1, j + 1,
                                                                    j + 1, j + 1, j + 1, j + 1, j + 1, j + 1),
                                                  fv);
          acc[r] = _mm512_fmadd_ps(fc, madd_f512(q, xv[t]), acc[r]);
        }
      }
    }
  }
  for (int r = 0; r < 4; ++r) out[r] = hsum512(acc[r]);
}

// q5_0 / q5_1: one 32-element block per zmm. The 16 quant bytes, broadcast
// to both ymm halves and shifted by 0 and 4, become 32 nibbles in element
// order (low nibbles are elements 0..15, high 16..31); the qh word is itself
// the mask of elements whose bit 4 is set. The four rows' f16 scales are
// converted and multiplied by the activation's in one xmm op each, so a
// row's FMA takes its factor as a broadcast from memory; q5_0 is q5_1 with
// m = -16 d.
template <typename Block>
TSR_AVX512 inline __m128 f16_of_rows(const Rows<Block>& rows, int64_t i, std::size_t offset) {
  uint16_t h[4];
  for (int r = 0; r < 4; ++r) std::memcpy(&h[r], reinterpret_cast<const char*>(&rows.b[r][i]) + offset, 2);
  uint64_t v;
  std::memcpy(&v, h, 8);
  return _mm_cvtph_ps(_mm_cvtsi64_si128(static_cast<int64_t>(v)));
}

template <typename Block>
TSR_AVX512 void dot4_q5_avx512(int64_t n, const void* const w[4], const BlockQ16Act* x, float out[4]) {
  constexpr bool kMin = std::is_same_v<Block, BlockQ5_1>;
  constexpr bool kFive = std::is_same_v<Block, BlockQ5_0> || std::is_same_v<Block, BlockQ5_1>;
  constexpr float kOffset = kFive ? -16.0f : -8.0f;  // symmetric formats: m = offset * d
  const Rows<Block> rows(w);
  __m512 acc[4];
  for (int r = 0; r < 4; ++r) acc[r] = _mm512_setzero_ps();
  __m128 accm = _mm_setzero_ps();  // min terms, lane r for row r
  const __m256i m4 = _mm256_set1_epi8(0x0f), shift = _mm256_setr_epi32(0, 0, 0, 0, 4, 4, 4, 4);
  const __m512i sixteen = _mm512_set1_epi16(16);
  alignas(16) float f[4];
  for (int64_t i = 0; i < n / kQK; ++i) {
    if (i % 4 == 0) rows.prefetch(i);  // four blocks are 72 to 96 bytes: about two lines
    const __m512i xv = load_x512(x[i]);
    const __m128 d = f16_of_rows(rows, i, offsetof(Block, d));
    _mm_store_ps(f, _mm_mul_ps(d, _mm_set1_ps(x[i].d)));
    if constexpr (kMin)
      accm = _mm_fmadd_ps(f16_of_rows(rows, i, offsetof(Block, m)), _mm_set1_ps(x[i].s), accm);
    else
      accm = _mm_fmadd_ps(d, _mm_set1_ps(kOffset * x[i].s), accm);
    for (int r = 0; r < 4; ++r) {
      const Block& b = rows.b[r][i];
      const __m256i q = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b.qs)));
      const __m512i nib = _mm512_cvtepu8_epi16(_mm256_and_si256(_mm256_srlv_epi32(q, shift), m4));
      __m512i wq = nib;
      if constexpr (kFive) {
        uint32_t qh;
        std::memcpy(&qh, b.qh, 4);
        wq = _mm512_mask_add_epi16(nib, _cvtu32_mask32(qh), nib, sixteen);
      }
      acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(f[r]), madd_f512(wq, xv), acc[r]);
    }
  }
  alignas(16) float m[4];
  _mm_store_ps(m, accm);
  for (int r = 0; r < 4; ++r) out[r] = hsum512(acc[r]) + m[r];
}

}  // namespace

QDot4Fn qdot4_k(int32_t wtype, QDotIsa isa) {
  switch (isa) {
    case QDotIsa::kScalar:
      return nullptr;
    case QDotIsa::kAvx2:
      switch (wtype) {
        case TSR_DTYPE_Q4_K:
          return dot4_k_affine_avx2<BlockQ4_K>;
        case TSR_DTYPE_Q5_K:
          return dot4_k_affine_avx2<BlockQ5_K>;
        case TSR_DTYPE_Q6_K:
          return dot4_q6_K_avx2;
        default:
          return nullptr;
      }
    case QDotIsa::kAvx512:
      switch (wtype) {
        case TSR_DTYPE_Q5_0:
          return dot4_q5_avx512<BlockQ5_0>;
        case TSR_DTYPE_Q5_1:
          return dot4_q5_avx512<BlockQ5_1>;
        case TSR_DTYPE_Q4_0:
          return dot4_q5_avx512<BlockQ4_0>;
        case TSR_DTYPE_Q4_K:
          return dot4_k_affine_avx512<BlockQ4_K>;
        case TSR_DTYPE_Q5_K:
          return dot4_k_affine_avx512<BlockQ5_K>;
        case TSR_DTYPE_Q6_K:
          return dot4_q6_K_avx512;
        default:
          return nullptr;
      }
  }
  return nullptr;
}

}  // namespace tsr::cpu
