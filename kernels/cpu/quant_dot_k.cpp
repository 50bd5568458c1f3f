#include "cpu/quant_dot_k.h"

#include <immintrin.h>

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "cpu/quant_unpack_avx2.h"
#include "tessera/kit/half.h"
#include "tessera/kit/quant.h"
#include "tessera/tessera_types.h"

namespace tsr::cpu {
namespace {

// Bounds for the integer sums below (activation quants |x| <= 32767): a
// 16-element half of q6_K with its scale folded in is at most
// 16 * 32 * 128 * 32767 ~ 2.1e9, past int32, so the scalar code sums scaled
// halves in int64; the SIMD lanes hold two products each (<= 2.7e8).

// ---- scalar -------------------------------------------------------------------

float dot_q5_0_scalar(int64_t n, const void* w, const BlockQ16Act* x) {
  const auto* b = static_cast<const BlockQ5_0*>(w);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK; ++i) {
    uint32_t qh;
    std::memcpy(&qh, b[i].qh, 4);
    int32_t acc = 0;
    for (int j = 0; j < kQK; ++j) acc += (q5_at(b[i].qs, qh, j) - 16) * x[i].qs[j];
    sum += static_cast<float>(acc) * (f16_to_f32(b[i].d) * x[i].d);
  }
  return sum;
}

float dot_q5_1_scalar(int64_t n, const void* w, const BlockQ16Act* x) {
  const auto* b = static_cast<const BlockQ5_1*>(w);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK; ++i) {
    uint32_t qh;
    std::memcpy(&qh, b[i].qh, 4);
    int32_t acc = 0;
    for (int j = 0; j < kQK; ++j) acc += q5_at(b[i].qs, qh, j) * x[i].qs[j];
    sum += static_cast<float>(acc) * (f16_to_f32(b[i].d) * x[i].d) + f16_to_f32(b[i].m) * x[i].s;
  }
  return sum;
}

// Shared by the 16-element-sub-block formats: sum over a chunk of
// scale(half) * sum(q * x) with q from Q(l), plus, for q2_K, the min term.
template <typename Q>
int64_t chunk_dot16(const int* sc, const int16_t* xq, Q q) {
  int64_t acc = 0;
  for (int h = 0; h < 2; ++h) {
    int32_t s = 0;
    for (int l = 16 * h; l < 16 * h + 16; ++l) s += q(l) * xq[l];
    acc += static_cast<int64_t>(sc[h]) * s;
  }
  return acc;
}

float dot_q2_K_scalar(int64_t n, const void* w, const BlockQ16Act* x) {
  const auto* b = static_cast<const BlockQ2_K*>(w);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQKK; ++i) {
    const float d = f16_to_f32(b[i].d), dmin = f16_to_f32(b[i].dmin);
    for (int c = 0; c < 8; ++c) {
      const BlockQ16Act& xb = x[8 * i + c];
      const int sc[2] = {b[i].scales[2 * c] & 0x0f, b[i].scales[2 * c + 1] & 0x0f};
      const int mn[2] = {b[i].scales[2 * c] >> 4, b[i].scales[2 * c + 1] >> 4};
      const int64_t q = chunk_dot16(sc, xb.qs, [&](int l) { return q2k_q(b[i], c, l); });
      const int64_t m = chunk_dot16(mn, xb.qs, [](int) { return 1; });
      sum += xb.d * (d * static_cast<float>(q) - dmin * static_cast<float>(m));
    }
  }
  return sum;
}

float dot_q3_K_scalar(int64_t n, const void* w, const BlockQ16Act* x) {
  const auto* b = static_cast<const BlockQ3_K*>(w);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQKK; ++i) {
    const float d = f16_to_f32(b[i].d);
    for (int c = 0; c < 8; ++c) {
      const int sc[2] = {q3k_scale(2 * c, b[i].scales), q3k_scale(2 * c + 1, b[i].scales)};
      const int64_t q = chunk_dot16(sc, x[8 * i + c].qs, [&](int l) { return q3k_q(b[i], c, l); });
      sum += d * x[8 * i + c].d * static_cast<float>(q);
    }
  }
  return sum;
}

// q4_K and q5_K: one (scale, min) pair per chunk; Q(b, c, l) is the quant.
template <typename Block, int (*Q)(const Block&, int, int)>
float dot_k_affine_scalar(int64_t n, const void* w, const BlockQ16Act* x) {
  const auto* b = static_cast<const Block*>(w);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQKK; ++i) {
    const float d = f16_to_f32(b[i].d), dmin = f16_to_f32(b[i].dmin);
    for (int c = 0; c < 8; ++c) {
      const BlockQ16Act& xb = x[8 * i + c];
      int sc, m;
      k4_scale_min(c, b[i].scales, sc, m);
      int32_t acc = 0;
      for (int l = 0; l < 32; ++l) acc += Q(b[i], c, l) * xb.qs[l];
      sum += d * sc * xb.d * static_cast<float>(acc) - dmin * m * xb.s;
    }
  }
  return sum;
}

inline int q4k_of(const BlockQ4_K& b, int c, int l) { return q4k_q(b.qs, c, l); }

float dot_q6_K_scalar(int64_t n, const void* w, const BlockQ16Act* x) {
  const auto* b = static_cast<const BlockQ6_K*>(w);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQKK; ++i) {
    const float d = f16_to_f32(b[i].d);
    for (int c = 0; c < 8; ++c) {
      const int sc[2] = {b[i].scales[2 * c], b[i].scales[2 * c + 1]};
      const int64_t q = chunk_dot16(sc, x[8 * i + c].qs, [&](int l) { return q6k_q(b[i], c, l); });
      sum += d * x[8 * i + c].d * static_cast<float>(q);
    }
  }
  return sum;
}

// ---- AVX2 ---------------------------------------------------------------------

using namespace unpack;  // NOLINT: the unpackers are this file's vocabulary

TSR_AVX2 inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// acc += f * (exact integer chunk sum), the sum kept as 8 int32 lanes.
TSR_AVX2 inline __m256 chunk_fma(__m256 acc, float f, __m256i w0, __m256i w1, const BlockQ16Act& xb) {
  const __m256i x0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb.qs));
  const __m256i x1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb.qs + 16));
  const __m256i p = _mm256_add_epi32(_mm256_madd_epi16(w0, x0), _mm256_madd_epi16(w1, x1));
  return _mm256_fmadd_ps(_mm256_set1_ps(f), _mm256_cvtepi32_ps(p), acc);
}

template <bool kMin>
TSR_AVX2 float dot_q5_avx2(int64_t n, const void* w, const BlockQ16Act* x) {
  using Block = std::conditional_t<kMin, BlockQ5_1, BlockQ5_0>;
  const auto* b = static_cast<const Block*>(w);
  __m256 acc = _mm256_setzero_ps();
  float acc_m = 0.0f;
  const __m256i off = _mm256_set1_epi16(kMin ? 0 : 16);
  for (int64_t i = 0; i < n / kQK; ++i) {
    __m256i w0, w1;
    q5_quants(b[i].qs, b[i].qh, w0, w1);
    w0 = _mm256_sub_epi16(w0, off);
    w1 = _mm256_sub_epi16(w1, off);
    acc = chunk_fma(acc, _cvtsh_ss(b[i].d) * x[i].d, w0, w1, x[i]);
    if constexpr (kMin) acc_m += _cvtsh_ss(b[i].m) * x[i].s;
  }
  return hsum(acc) + acc_m;
}

template <typename Block>
TSR_AVX2 float dot_k_affine_avx2(int64_t n, const void* w, const BlockQ16Act* x) {
  const auto* b = static_cast<const Block*>(w);
  __m256 acc = _mm256_setzero_ps();
  float acc_m = 0.0f;
  for (int64_t i = 0; i < n / kQKK; ++i) {
    const float d = _cvtsh_ss(b[i].d), dmin = _cvtsh_ss(b[i].dmin);
    for (int c = 0; c < 8; ++c) {
      const BlockQ16Act& xb = x[8 * i + c];
      int sc, m;
      k4_scale_min(c, b[i].scales, sc, m);
      __m128i q0, q1;
      k4_quants(b[i], c, q0, q1);
      acc = chunk_fma(acc, d * static_cast<float>(sc) * xb.d, widen(q0), widen(q1), xb);
      acc_m += dmin * static_cast<float>(m) * xb.s;
    }
  }
  return hsum(acc) - acc_m;
}

TSR_AVX2 float dot_q6_K_avx2(int64_t n, const void* w, const BlockQ16Act* x) {
  const auto* b = static_cast<const BlockQ6_K*>(w);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / kQKK; ++i) {
    const float d = _cvtsh_ss(b[i].d);
    for (int c = 0; c < 8; ++c) {
      __m256i w0, w1;
      q6k_quants(b[i], c, w0, w1);
      w0 = _mm256_mullo_epi16(w0, _mm256_set1_epi16(b[i].scales[2 * c]));
      w1 = _mm256_mullo_epi16(w1, _mm256_set1_epi16(b[i].scales[2 * c + 1]));
      acc = chunk_fma(acc, d * x[8 * i + c].d, w0, w1, x[8 * i + c]);
    }
  }
  return hsum(acc);
}

TSR_AVX2 float dot_q3_K_avx2(int64_t n, const void* w, const BlockQ16Act* x) {
  const auto* b = static_cast<const BlockQ3_K*>(w);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / kQKK; ++i) {
    const float d = _cvtsh_ss(b[i].d);
    for (int c = 0; c < 8; ++c) {
      __m256i w0, w1;
      q3k_quants(b[i], c, w0, w1);
      w0 = _mm256_mullo_epi16(w0, _mm256_set1_epi16(static_cast<int16_t>(q3k_scale(2 * c, b[i].scales))));
      w1 = _mm256_mullo_epi16(w1, _mm256_set1_epi16(static_cast<int16_t>(q3k_scale(2 * c + 1, b[i].scales))));
      acc = chunk_fma(acc, d * x[8 * i + c].d, w0, w1, x[8 * i + c]);
    }
  }
  return hsum(acc);
}

// q2_K's min term is an integer dot too: sum over halves of min * sum(x).
TSR_AVX2 float dot_q2_K_avx2(int64_t n, const void* w, const BlockQ16Act* x) {
  const auto* b = static_cast<const BlockQ2_K*>(w);
  __m256 acc = _mm256_setzero_ps(), acc_m = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / kQKK; ++i) {
    const float d = _cvtsh_ss(b[i].d), dmin = _cvtsh_ss(b[i].dmin);
    for (int c = 0; c < 8; ++c) {
      const BlockQ16Act& xb = x[8 * i + c];
      const int s0 = b[i].scales[2 * c], s1 = b[i].scales[2 * c + 1];
      __m256i w0, w1;
      q2k_quants(b[i], c, w0, w1);
      w0 = _mm256_mullo_epi16(w0, _mm256_set1_epi16(static_cast<int16_t>(s0 & 0x0f)));
      w1 = _mm256_mullo_epi16(w1, _mm256_set1_epi16(static_cast<int16_t>(s1 & 0x0f)));
      acc = chunk_fma(acc, d * xb.d, w0, w1, xb);
      acc_m = chunk_fma(acc_m, dmin * xb.d, _mm256_set1_epi16(static_cast<int16_t>(s0 >> 4)),
                        _mm256_set1_epi16(static_cast<int16_t>(s1 >> 4)), xb);
    }
  }
  return hsum(acc) - hsum(acc_m);
}

// ---- AVX-512 (F + BW) -----------------------------------------------------------
// A chunk is one zmm of 32 int16 weights against the activation block's 32
// int16 quants: one madd, one convert and one FMA per 32 elements. The bit
// unpacking stays 128-bit as in the AVX2 code. VNNI's vpdpwssd would only fuse
// the madd with an integer add, and the per-32 activation scale leaves no
// integer sum to carry from chunk to chunk, so it is not used here.

#define TSR_AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx2,fma,f16c")))

TSR_AVX512 inline __m512i join(__m128i q0, __m128i q1) {
  return _mm512_cvtepu8_epi16(_mm256_inserti128_si256(_mm256_castsi128_si256(q0), q1, 1));
}
TSR_AVX512 inline __m512i join16(__m256i w0, __m256i w1) {
  return _mm512_inserti64x4(_mm512_zextsi256_si512(w0), w1, 1);
}
// GCC 12's _mm512_reduce_add_ps warns about an uninitialized temporary.
TSR_AVX512 inline float hsum512(__m512 v) {
  const __m256 s = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
  return hsum(s);
}
TSR_AVX512 inline __m512 chunk_fma512(__m512 acc, float f, __m512i wv, const BlockQ16Act& xb) {
  const __m512i xv = _mm512_loadu_si512(xb.qs);
  return _mm512_fmadd_ps(_mm512_set1_ps(f), _mm512_cvtepi32_ps(_mm512_madd_epi16(wv, xv)), acc);
}

template <typename Block>
TSR_AVX512 float dot_k_affine_avx512(int64_t n, const void* w, const BlockQ16Act* x) {
  const auto* b = static_cast<const Block*>(w);
  __m512 acc = _mm512_setzero_ps();
  float acc_m = 0.0f;
  for (int64_t i = 0; i < n / kQKK; ++i) {
    const float d = _cvtsh_ss(b[i].d), dmin = _cvtsh_ss(b[i].dmin);
    for (int c = 0; c < 8; ++c) {
      const BlockQ16Act& xb = x[8 * i + c];
      int sc, m;
      k4_scale_min(c, b[i].scales, sc, m);
      __m128i q0, q1;
      k4_quants(b[i], c, q0, q1);
      acc = chunk_fma512(acc, d * static_cast<float>(sc) * xb.d, join(q0, q1), xb);
      acc_m += dmin * static_cast<float>(m) * xb.s;
    }
  }
  return hsum512(acc) - acc_m;
}

TSR_AVX512 float dot_q6_K_avx512(int64_t n, const void* w, const BlockQ16Act* x) {
  const auto* b = static_cast<const BlockQ6_K*>(w);
  __m512 acc = _mm512_setzero_ps();
  for (int64_t i = 0; i < n / kQKK; ++i) {
    const float d = _cvtsh_ss(b[i].d);
    for (int c = 0; c < 8; ++c) {
      __m256i w0, w1;
      q6k_quants(b[i], c, w0, w1);
      const __m512i sc =
          join16(_mm256_set1_epi16(b[i].scales[2 * c]), _mm256_set1_epi16(b[i].scales[2 * c + 1]));
      acc = chunk_fma512(acc, d * x[8 * i + c].d, _mm512_mullo_epi16(join16(w0, w1), sc), x[8 * i + c]);
    }
  }
  return hsum512(acc);
}

}  // namespace

QDotFn qdot_k(int32_t wtype, QDotIsa isa) {
  switch (isa) {
    case QDotIsa::kScalar:
      switch (wtype) {
        case TSR_DTYPE_Q5_0:
          return dot_q5_0_scalar;
        case TSR_DTYPE_Q5_1:
          return dot_q5_1_scalar;
        case TSR_DTYPE_Q2_K:
          return dot_q2_K_scalar;
        case TSR_DTYPE_Q3_K:
          return dot_q3_K_scalar;
        case TSR_DTYPE_Q4_K:
          return dot_k_affine_scalar<BlockQ4_K, q4k_of>;
        case TSR_DTYPE_Q5_K:
          return dot_k_affine_scalar<BlockQ5_K, q5k_q>;
        case TSR_DTYPE_Q6_K:
          return dot_q6_K_scalar;
        default:
          return nullptr;
      }
    case QDotIsa::kAvx2:
      switch (wtype) {
        case TSR_DTYPE_Q5_0:
          return dot_q5_avx2<false>;
        case TSR_DTYPE_Q5_1:
          return dot_q5_avx2<true>;
        case TSR_DTYPE_Q2_K:
          return dot_q2_K_avx2;
        case TSR_DTYPE_Q3_K:
          return dot_q3_K_avx2;
        case TSR_DTYPE_Q4_K:
          return dot_k_affine_avx2<BlockQ4_K>;
        case TSR_DTYPE_Q5_K:
          return dot_k_affine_avx2<BlockQ5_K>;
        case TSR_DTYPE_Q6_K:
          return dot_q6_K_avx2;
        default:
          return nullptr;
      }
    case QDotIsa::kAvx512:
      switch (wtype) {
        case TSR_DTYPE_Q4_K:
          return dot_k_affine_avx512<BlockQ4_K>;
        case TSR_DTYPE_Q5_K:
          return dot_k_affine_avx512<BlockQ5_K>;
        case TSR_DTYPE_Q6_K:
          return dot_q6_K_avx512;
        default:
          return nullptr;
      }
  }
  return nullptr;
}

}  // namespace tsr::cpu
