#include "cpu/quant_dot.h"

#include <immintrin.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <type_traits>

#include "cpu/convert.h"
#include "cpu/quant_dot_k.h"
#include "tessera/kit/half.h"
#include "tessera/tessera_types.h"

namespace tsr::cpu {
namespace {

// Overflow bound for the int32 block sums below: 32 products of |w| <= 128 and
// |x| <= 32767 total at most 134,213,632 < 2^27. The AVX2 lanes hold 4 products
// each (< 2^24), so they also convert to float exactly.
constexpr float kQ16Max = 32767.0f;

// Scale of a block with largest magnitude amax, and its inverse. A block whose
// scale would be subnormal (amax < ~3.9e-34) becomes all zeros: 1 / d could
// overflow there, and such activations are far below anything that matters.
inline void block_scale(float amax, float& d, float& id) {
  d = amax / kQ16Max;
  if (!(d >= FLT_MIN)) d = 0.0f;
  id = d != 0.0f ? 1.0f / d : 0.0f;
}

// ---- scalar -----------------------------------------------------------------

float dot_q8_0_scalar(int64_t n, const void* w, const BlockQ16Act* x) {
  const auto* b = static_cast<const BlockQ8_0*>(w);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK; ++i) {
    int32_t acc = 0;
    for (int j = 0; j < kQK; ++j) acc += b[i].qs[j] * x[i].qs[j];
    sum += static_cast<float>(acc) * (f16_to_f32(b[i].d) * x[i].d);
  }
  return sum;
}

float dot_q4_0_scalar(int64_t n, const void* w, const BlockQ16Act* x) {
  const auto* b = static_cast<const BlockQ4_0*>(w);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK; ++i) {
    int32_t acc = 0;
    for (int j = 0; j < kQK / 2; ++j) {
      acc += ((b[i].qs[j] & 0x0f) - 8) * x[i].qs[j];
      acc += ((b[i].qs[j] >> 4) - 8) * x[i].qs[j + kQK / 2];
    }
    sum += static_cast<float>(acc) * (f16_to_f32(b[i].d) * x[i].d);
  }
  return sum;
}

// sum_j (q_j d + m) * (y_j dx) = d dx sum(q y) + m (dx sum(y)), the last
// factor precomputed per activation block (BlockQ16Act::s).
float dot_q4_1_scalar(int64_t n, const void* w, const BlockQ16Act* x) {
  const auto* b = static_cast<const BlockQ4_1*>(w);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK; ++i) {
    int32_t acc = 0;
    for (int j = 0; j < kQK / 2; ++j) {
      acc += (b[i].qs[j] & 0x0f) * x[i].qs[j];
      acc += (b[i].qs[j] >> 4) * x[i].qs[j + kQK / 2];
    }
    sum += static_cast<float>(acc) * (f16_to_f32(b[i].d) * x[i].d) + f16_to_f32(b[i].m) * x[i].s;
  }
  return sum;
}

void quantize_q16_act_scalar(const float* x, BlockQ16Act* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i) {
    float amax = 0.0f;
    for (int j = 0; j < kQK; ++j) amax = std::max(amax, std::fabs(x[i * kQK + j]));
    float d, id;
    block_scale(amax, d, id);
    y[i].d = d;
    int32_t sum = 0;
    for (int j = 0; j < kQK; ++j) {
      const float q = std::clamp(std::nearbyint(x[i * kQK + j] * id), -kQ16Max, kQ16Max);
      y[i].qs[j] = static_cast<int16_t>(q);
      sum += y[i].qs[j];
    }
    y[i].s = d * static_cast<float>(sum);
  }
}

// ---- AVX2 -------------------------------------------------------------------

#define TSR_AVX2 __attribute__((target("avx2,fma,f16c")))

TSR_AVX2 inline int32_t hsum_i32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
  return _mm_cvtsi128_si32(s);
}

TSR_AVX2 inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// A weight block as int16: w0 = elements 0..15, w1 = elements 16..31.
TSR_AVX2 inline void widen(const BlockQ8_0& b, __m256i& w0, __m256i& w1) {
  w0 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b.qs)));
  w1 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b.qs + 16)));
}

// q4 packs element j in the low nibble of byte j and element j + 16 in the high one.
TSR_AVX2 inline void widen_nibbles(const uint8_t* qs, __m256i& w0, __m256i& w1) {
  const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m128i mask = _mm_set1_epi8(0x0f);
  w0 = _mm256_cvtepu8_epi16(_mm_and_si128(q, mask));
  w1 = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(q, 4), mask));
}

TSR_AVX2 inline void widen(const BlockQ4_0& b, __m256i& w0, __m256i& w1) {
  widen_nibbles(b.qs, w0, w1);
  const __m256i eight = _mm256_set1_epi16(8);
  w0 = _mm256_sub_epi16(w0, eight);
  w1 = _mm256_sub_epi16(w1, eight);
}

TSR_AVX2 inline void load_x(const BlockQ16Act& x, __m256i& x0, __m256i& x1) {
  x0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.qs));
  x1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.qs + 16));
}

// 8 x i32 lanes whose sum is the block's exact integer dot product.
TSR_AVX2 inline __m256i block_dot(__m256i w0, __m256i w1, __m256i x0, __m256i x1) {
  return _mm256_add_epi32(_mm256_madd_epi16(w0, x0), _mm256_madd_epi16(w1, x1));
}

// acc += d_w d_x * (block lanes).
template <typename Block>
TSR_AVX2 inline __m256 block_step(__m256 acc, const Block& b, const BlockQ16Act& x) {
  __m256i w0, w1, x0, x1;
  widen(b, w0, w1);
  load_x(x, x0, x1);
  const __m256 d = _mm256_set1_ps(_cvtsh_ss(b.d) * x.d);
  return _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(block_dot(w0, w1, x0, x1)), acc);
}

// Symmetric weights (q8_0, q4_0). Two accumulators hide the FMA latency.
template <typename Block>
TSR_AVX2 float dot_sym_avx2(int64_t n, const void* w, const BlockQ16Act* x) {
  const auto* b = static_cast<const Block*>(w);
  const int64_t nb = n / kQK;
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 2 <= nb; i += 2) {
    acc0 = block_step(acc0, b[i], x[i]);
    acc1 = block_step(acc1, b[i + 1], x[i + 1]);
  }
  if (i < nb) acc0 = block_step(acc0, b[i], x[i]);
  return hsum(_mm256_add_ps(acc0, acc1));
}

TSR_AVX2 float dot_q4_1_avx2(int64_t n, const void* w, const BlockQ16Act* x) {
  const auto* b = static_cast<const BlockQ4_1*>(w);
  __m256 acc = _mm256_setzero_ps();
  float acc_m = 0.0f;
  for (int64_t i = 0; i < n / kQK; ++i) {
    __m256i w0, w1, x0, x1;
    widen_nibbles(b[i].qs, w0, w1);  // unsigned 0..15
    load_x(x[i], x0, x1);
    acc = _mm256_fmadd_ps(_mm256_set1_ps(_cvtsh_ss(b[i].d) * x[i].d),
                          _mm256_cvtepi32_ps(block_dot(w0, w1, x0, x1)), acc);
    acc_m += _cvtsh_ss(b[i].m) * x[i].s;
  }
  return hsum(acc) + acc_m;
}

// Four rows at once (QDot4Fn). Per block the activation (qs, and its d and
// s as one 8-byte load) is read once for all four rows. Each row then costs:
// nibbles widened from one 16-byte load, two madds, a convert and an FMA,
// and its scales as one f16 pair converted and multiplied by the activation
// pair in a single xmm op:
//   [d_w, m_w] * [d_x, s_x] = [block scale, min term]
// The min term accumulates in lane 1 of a per-row xmm. q4_0 (q5_0) is q4_1 (q5_1) with
// m_w = -8 d_w (-16 d_w), its quants read unsigned; q8_0 has no min term.
TSR_AVX2 inline __m128 f16_pair(const void* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return _mm_cvtph_ps(_mm_cvtsi32_si128(static_cast<int>(v)));
}

template <typename Block>
constexpr bool kAffine = std::is_same_v<Block, BlockQ4_1> || std::is_same_v<Block, BlockQ5_1>;
template <typename Block>
constexpr bool kFiveBit = std::is_same_v<Block, BlockQ5_0> || std::is_same_v<Block, BlockQ5_1>;

template <typename Block>
TSR_AVX2 inline __m128 block_scales(const Block& b, __m128 xs) {
  if constexpr (kAffine<Block>) {
    return _mm_mul_ps(f16_pair(&b.d), xs);  // [d dx, m sx]
  } else {
    const __m128 d = _mm_cvtph_ps(_mm_set1_epi16(static_cast<int16_t>(b.d)));
    return _mm_mul_ps(d, xs);  // [d dx, d * (-8 sx)] for q4_0 (-16 for q5_0); lane 1 unused for q8_0
  }
}

// A q5 block's 32 quants as bytes in element order: the nibbles (qs
// broadcast to both lanes, the upper shifted by 4) and bit 4 of element j,
// bit j of the qh word (its byte j / 8 spread over lanes by a shuffle, then
// tested against the bit of j % 8).
TSR_AVX2 inline __m256i q5_bytes(const uint8_t* qs, const uint8_t* qh_bytes) {
  const __m256i q = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(qs)));
  const __m256i nib = _mm256_and_si256(_mm256_srlv_epi32(q, _mm256_setr_epi32(0, 0, 0, 0, 4, 4, 4, 4)),
                                       _mm256_set1_epi8(0x0f));
  uint32_t qh;
  std::memcpy(&qh, qh_bytes, 4);
  const __m256i spread =
      _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int>(qh)),
                          _mm256_setr_epi64x(0, 0x0101010101010101, 0x0202020202020202, 0x0303030303030303));
  const __m256i bit = _mm256_set1_epi64x(static_cast<int64_t>(0x8040201008040201ull));
  const __m256i high =
      _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit), _mm256_set1_epi8(0x10));
  return _mm256_or_si256(nib, high);
}

template <typename Block>
TSR_AVX2 inline __m256i block_dot_x(const Block& b, __m256i x0, __m256i x1) {
  __m256i w0, w1;
  if constexpr (std::is_same_v<Block, BlockQ8_0>) {
    widen(b, w0, w1);
  } else if constexpr (kFiveBit<Block>) {
    const __m256i q = q5_bytes(b.qs, b.qh);
    w0 = _mm256_cvtepu8_epi16(_mm256_castsi256_si128(q));
    w1 = _mm256_cvtepu8_epi16(_mm256_extracti128_si256(q, 1));
  } else {
    const __m256i q = _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b.qs)));
    w0 = _mm256_and_si256(q, _mm256_set1_epi16(0x0f));
    w1 = _mm256_srli_epi16(q, 4);
  }
  return block_dot(w0, w1, x0, x1);
}

template <typename Block>
TSR_AVX2 void dot4_avx2(int64_t n, const void* const w[4], const BlockQ16Act* x, float out[4]) {
  constexpr bool kHasMin = !std::is_same_v<Block, BlockQ8_0>;
  const Block* b0 = static_cast<const Block*>(w[0]);
  const Block* b1 = static_cast<const Block*>(w[1]);
  const Block* b2 = static_cast<const Block*>(w[2]);
  const Block* b3 = static_cast<const Block*>(w[3]);
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  __m128 m0 = _mm_setzero_ps(), m1 = m0, m2 = m0, m3 = m0;
  // Symmetric formats are affine ones with m_w = -offset d_w.
  constexpr float kOffset = std::is_same_v<Block, BlockQ4_0>   ? 8.0f
                            : std::is_same_v<Block, BlockQ5_0> ? 16.0f
                                                               : 0.0f;
  const __m128 sym_min = _mm_setr_ps(1.0f, -kOffset, 0.0f, 0.0f);
  // Callers pass consecutive rows of one matrix, so the next call reads 4
  // row strides further on: prefetch that. One core's demand misses alone
  // streamed q8_0 weights from DRAM at ~5 GB/s against ~18 GB/s from cache.
  // A wrong guess (rows not evenly spaced) only wastes a prefetch.
  const std::ptrdiff_t ahead =
      8 * (reinterpret_cast<const char*>(w[1]) - reinterpret_cast<const char*>(w[0]));
  for (int64_t i = 0; i < n / kQK; ++i) {
    _mm_prefetch(reinterpret_cast<const char*>(b0 + i) + ahead, _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(b1 + i) + ahead, _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(b2 + i) + ahead, _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(b3 + i) + ahead, _MM_HINT_T0);
    __m256i x0, x1;
    load_x(x[i], x0, x1);
    __m128 xs = _mm_castpd_ps(_mm_load_sd(reinterpret_cast<const double*>(&x[i].d)));  // [dx, sx]
    if constexpr (kOffset != 0.0f) xs = _mm_mul_ps(xs, sym_min);
#define TSR_ROW(r)                                                                                          \
  {                                                                                                         \
    const __m128 sc = block_scales(b##r[i], xs);                                                            \
    if constexpr (kHasMin) m##r = _mm_add_ps(m##r, sc);                                                     \
    a##r =                                                                                                  \
        _mm256_fmadd_ps(_mm256_broadcastss_ps(sc), _mm256_cvtepi32_ps(block_dot_x(b##r[i], x0, x1)), a##r); \
  }
    TSR_ROW(0) TSR_ROW(1) TSR_ROW(2) TSR_ROW(3)
#undef TSR_ROW
  }
  const __m128 m[4] = {m0, m1, m2, m3};
  const __m256 a[4] = {a0, a1, a2, a3};
  for (int r = 0; r < 4; ++r) out[r] = hsum(a[r]) + (kHasMin ? _mm_cvtss_f32(_mm_movehdup_ps(m[r])) : 0.0f);
}

template <QDotFn F>
void dot4_by_rows(int64_t n, const void* const w[4], const BlockQ16Act* x, float out[4]) {
  for (int r = 0; r < 4; ++r) out[r] = F(n, w[r], x);
}

TSR_AVX2 void quantize_q16_act_avx2(const float* x, BlockQ16Act* y, int64_t n) {
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
    float d, id;
    block_scale(_mm_cvtss_f32(m), d, id);
    y[i].d = d;
    const __m256 mul = _mm256_set1_ps(id);
    __m256i q[4];
    for (int k = 0; k < 4; ++k)
      q[k] = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v[k], mul), _MM_FROUND_TO_NEAREST_INT));
    // |v * id| <= 32767 up to rounding, so the saturating pack acts as the
    // scalar clamp. packs interleaves 128-bit lanes; undo with a permute.
    __m256i sum = _mm256_setzero_si256();
    for (int k = 0; k < 2; ++k) {
      const __m256i p = _mm256_permute4x64_epi64(_mm256_packs_epi32(q[2 * k], q[2 * k + 1]), 0xd8);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(y[i].qs + 16 * k), p);
      sum = _mm256_add_epi32(sum, _mm256_madd_epi16(p, _mm256_set1_epi16(1)));
    }
    y[i].s = d * static_cast<float>(hsum_i32(sum));
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
      return qdot_k(wtype, QDotIsa::kScalar);
  }
}

QDotFn qdot_best(int32_t wtype) {
  if (!cpu_has_f16c()) return qdot_scalar(wtype);
  switch (wtype) {
    case TSR_DTYPE_Q8_0:
      return dot_sym_avx2<BlockQ8_0>;
    case TSR_DTYPE_Q4_0:
      return dot_sym_avx2<BlockQ4_0>;
    case TSR_DTYPE_Q4_1:
      return dot_q4_1_avx2;
    default:
      if (cpu_has_avx512bw())
        if (QDotFn f = qdot_k(wtype, QDotIsa::kAvx512)) return f;
      return qdot_k(wtype, QDotIsa::kAvx2);
  }
}

QDot4Fn qdot4_best(int32_t wtype) {
  const bool simd = cpu_has_f16c();
  switch (wtype) {
    case TSR_DTYPE_Q8_0:
      return simd ? dot4_avx2<BlockQ8_0> : dot4_by_rows<dot_q8_0_scalar>;
    case TSR_DTYPE_Q4_0:
      if (simd && cpu_has_avx512bw()) return qdot4_k(wtype, QDotIsa::kAvx512);
      return simd ? dot4_avx2<BlockQ4_0> : dot4_by_rows<dot_q4_0_scalar>;
    case TSR_DTYPE_Q4_1:
      return simd ? dot4_avx2<BlockQ4_1> : dot4_by_rows<dot_q4_1_scalar>;
    case TSR_DTYPE_Q5_0:
    case TSR_DTYPE_Q5_1:
      if (!simd) return nullptr;
      if (cpu_has_avx512bw()) return qdot4_k(wtype, QDotIsa::kAvx512);
      return wtype == TSR_DTYPE_Q5_0 ? dot4_avx2<BlockQ5_0> : dot4_avx2<BlockQ5_1>;
    default:
      if (!simd) return nullptr;
      if (cpu_has_avx512bw())
        if (QDot4Fn f = qdot4_k(wtype, QDotIsa::kAvx512)) return f;
      return qdot4_k(wtype, QDotIsa::kAvx2);
  }
}

void quantize_row_q16_act(const float* x, BlockQ16Act* y, int64_t n) {
  if (cpu_has_f16c())
    quantize_q16_act_avx2(x, y, n);
  else
    quantize_q16_act_scalar(x, y, n);
}

}  // namespace tsr::cpu
