#include "cpu/attention_tiled.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "cpu/convert.h"
#include "cpu/simd_math.h"
#include "cpu/thread_pool.h"

namespace tsr::cpu {
namespace {

#define TSR_AVX2 __attribute__((target("avx2,fma")))

constexpr int64_t kTileTokens = 16;
constexpr int64_t kBlock = 64;  // kv rows per block: 8 vectors of scores
constexpr float kNegInf = -std::numeric_limits<float>::infinity();

struct Layout {
  int64_t D, rows;  // rows = group * kTileTokens
  // Offsets in floats into the thread's scratch.
  int64_t q, acc, m, l, kt, vb, s, vis, first;
  int64_t total;
  Layout(int64_t D_, int64_t group) : D(D_), rows(group * kTileTokens) {
    q = 0;
    acc = q + rows * D;
    m = acc + rows * D;
    l = m + rows;
    kt = (l + rows + 7) / 8 * 8;  // 32-byte aligned for the vector loads
    vb = kt + D * kBlock;
    s = vb + kBlock * D;
    vis = s + 3 * kBlock;
    first = vis + rows;
    total = first + rows;  // visible ranges [first, vis) stored as floats (exact below 2^24)
  }
};

TSR_AVX2 float hmax(__m256 v) {
  __m128 x = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  x = _mm_max_ps(x, _mm_movehl_ps(x, x));
  x = _mm_max_ss(x, _mm_movehdup_ps(x));
  return _mm_cvtss_f32(x);
}

TSR_AVX2 float hsum(__m256 v) {
  __m128 x = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  x = _mm_add_ps(x, _mm_movehl_ps(x, x));
  x = _mm_add_ss(x, _mm_movehdup_ps(x));
  return _mm_cvtss_f32(x);
}

// 8 rows of 8 floats, transposed in registers (rows become columns).
TSR_AVX2 void transpose8(__m256 r[8]) {
  const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
  const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
  const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
  const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  const __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  const __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  r[0] = _mm256_permute2f128_ps(u0, u4, 0x20);
  r[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
  r[2] = _mm256_permute2f128_ps(u2, u6, 0x20);
  r[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
  r[4] = _mm256_permute2f128_ps(u0, u4, 0x31);
  r[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
  r[6] = _mm256_permute2f128_ps(u2, u6, 0x31);
  r[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
}

// kt[d * 64 + j] = K row j, element d, for rows j < nb of a block whose
// rows are row_stride bytes apart with contiguous f16 or f32 elements;
// columns nb..63 are zero. 8 x 8 tiles transposed in registers: the scalar
// column-by-column stores this replaces were a large share of attention
// with D = 256 (Gemma).
__attribute__((target("avx2,fma,f16c"))) void transpose_k_block(const char* rows, int32_t dtype,
                                                                int64_t row_stride, int64_t nb, int64_t D,
                                                                float* kt) {
  const bool f16 = dtype == TSR_DTYPE_F16;
  for (int64_t j8 = 0; j8 < kBlock; j8 += 8)
    for (int64_t d8 = 0; d8 < D; d8 += 8) {
      __m256 r[8];
      for (int i = 0; i < 8; ++i) {
        const int64_t j = j8 + i;
        if (j >= nb) {
          r[i] = _mm256_setzero_ps();
        } else if (f16) {
          r[i] = _mm256_cvtph_ps(
              _mm_loadu_si128(reinterpret_cast<const __m128i*>(rows + j * row_stride + d8 * 2)));
        } else {
          r[i] = _mm256_loadu_ps(reinterpret_cast<const float*>(rows + j * row_stride + d8 * 4));
        }
      }
      transpose8(r);
      for (int i = 0; i < 8; ++i) _mm256_store_ps(kt + (d8 + i) * kBlock + j8, r[i]);
    }
}

// R query rows x 64 kv columns of scores: s[r * 64 + j] = q_r . K_j, from
// the transposed block (kt[d * 64 + j]). Half the columns at a time keeps the
// 4R accumulators in registers; each K load serves R rows.
template <int R>
TSR_AVX2 void scores(const float* const q[R], const float* kt, int64_t D, float* s) {
  for (int half = 0; half < 2; ++half) {
    __m256 a[R][4];
    for (int r = 0; r < R; ++r)
      for (int c = 0; c < 4; ++c) a[r][c] = _mm256_setzero_ps();
    const float* k = kt + 32 * half;
    for (int64_t d = 0; d < D; ++d, k += kBlock) {
      const __m256 k0 = _mm256_load_ps(k), k1 = _mm256_load_ps(k + 8);
      const __m256 k2 = _mm256_load_ps(k + 16), k3 = _mm256_load_ps(k + 24);
      for (int r = 0; r < R; ++r) {
        const __m256 b = _mm256_broadcast_ss(q[r] + d);
        a[r][0] = _mm256_fmadd_ps(b, k0, a[r][0]);
        a[r][1] = _mm256_fmadd_ps(b, k1, a[r][1]);
        a[r][2] = _mm256_fmadd_ps(b, k2, a[r][2]);
        a[r][3] = _mm256_fmadd_ps(b, k3, a[r][3]);
      }
    }
    for (int r = 0; r < R; ++r)
      for (int c = 0; c < 4; ++c) _mm256_store_ps(s + r * kBlock + 32 * half + 8 * c, a[r][c]);
  }
}

// Online softmax step of one row over its block scores s[0..64): masks
// columns outside [lo, valid) (lo > 0 only under a sliding window), turns scores into probabilities in place
// and updates (m, l). Returns the factor the row's accumulator must be scaled by, or a negative value when
// the row sees only -inf scores (nothing to add).
TSR_AVX2 float softmax_step(float* s, int64_t lo, int64_t valid, float& m, float& l) {
  const __m256 lane = _mm256_setr_ps(0, 1, 2, 3, 4, 5, 6, 7);
  __m256 vmax = _mm256_set1_ps(kNegInf);
  for (int c = 0; c < 8; ++c) {
    const __m256 col = _mm256_add_ps(lane, _mm256_set1_ps(8.0f * c));
    const __m256 keep =
        _mm256_and_ps(_mm256_cmp_ps(col, _mm256_set1_ps(static_cast<float>(valid)), _CMP_LT_OQ),
                      _mm256_cmp_ps(col, _mm256_set1_ps(static_cast<float>(lo)), _CMP_GE_OQ));
    const __m256 v = _mm256_blendv_ps(_mm256_set1_ps(kNegInf), _mm256_load_ps(s + 8 * c), keep);
    _mm256_store_ps(s + 8 * c, v);
    vmax = _mm256_max_ps(vmax, v);
  }
  const float bmax = hmax(vmax);
  if (bmax == kNegInf) {
    std::fill(s, s + kBlock, 0.0f);
    return -1.0f;
  }
  const float m_new = std::max(m, bmax);
  const float corr = std::exp(m - m_new);  // 0 on the first block (m = -inf)
  __m256 psum = _mm256_setzero_ps();
  for (int c = 0; c < 8; ++c) {
    const __m256 v = _mm256_load_ps(s + 8 * c);
    // exp of -inf entries would be ~1e-38, not 0: zero them explicitly.
    const __m256 p = _mm256_and_ps(exp_avx2(_mm256_sub_ps(v, _mm256_set1_ps(m_new))),
                                   _mm256_cmp_ps(v, _mm256_set1_ps(kNegInf), _CMP_NEQ_OQ));
    _mm256_store_ps(s + 8 * c, p);
    psum = _mm256_add_ps(psum, p);
  }
  l = l * corr + hsum(psum);
  m = m_new;
  return corr;
}

// R rows with the same visible length against one block: scores, softmax,
// then acc_r = acc_r * corr_r + sum_j p_rj V_j with each V load serving R rows.
template <int R>
TSR_AVX2 void rows_block(const float* const q[R], const float* kt, const float* vb, int64_t D, int64_t lo,
                         int64_t valid, float* s, float* m[R], float* l[R], float* const acc[R]) {
  scores<R>(q, kt, D, s);
  __m256 corr[R];
  for (int r = 0; r < R; ++r) {
    const float c = softmax_step(s + r * kBlock, lo, valid, *m[r], *l[r]);
    corr[r] = _mm256_set1_ps(c < 0.0f ? 1.0f : c);  // -inf row: probabilities are 0, keep acc
  }
  for (int64_t d0 = 0; d0 < D; d0 += 32) {
    const int64_t nc = std::min<int64_t>(4, (D - d0) / 8);
    __m256 a[R][4];
    for (int r = 0; r < R; ++r)
      for (int c = 0; c < nc; ++c) a[r][c] = _mm256_mul_ps(_mm256_loadu_ps(acc[r] + d0 + 8 * c), corr[r]);
    for (int64_t j = lo; j < valid; ++j) {
      const float* v = vb + j * D + d0;
      for (int c = 0; c < nc; ++c) {
        const __m256 vv = _mm256_loadu_ps(v + 8 * c);
        for (int r = 0; r < R; ++r)
          a[r][c] = _mm256_fmadd_ps(_mm256_broadcast_ss(s + r * kBlock + j), vv, a[r][c]);
      }
    }
    for (int r = 0; r < R; ++r)
      for (int c = 0; c < nc; ++c) _mm256_storeu_ps(acc[r] + d0 + 8 * c, a[r][c]);
  }
}

// Rows [r0, r0 + n) share a visible range; runs them in groups of up to 3.
TSR_AVX2 void rows_same_visible(float* qs, float* ms, float* ls, float* acc, int64_t r0, int64_t n,
                                const float* kt, const float* vb, int64_t D, int64_t lo, int64_t valid,
                                float* s) {
  for (int64_t r = r0; r < r0 + n;) {
    const int64_t k = std::min<int64_t>(3, r0 + n - r);
    const float* q[3] = {qs + r * D, qs + (r + 1) * D, qs + (r + 2) * D};
    float* m[3] = {ms + r, ms + r + 1, ms + r + 2};
    float* l[3] = {ls + r, ls + r + 1, ls + r + 2};
    float* const a[3] = {acc + r * D, acc + (r + 1) * D, acc + (r + 2) * D};
    if (k == 3)
      rows_block<3>(q, kt, vb, D, lo, valid, s, m, l, a);
    else if (k == 2)
      rows_block<2>(q, kt, vb, D, lo, valid, s, m, l, a);
    else
      rows_block<1>(q, kt, vb, D, lo, valid, s, m, l, a);
    r += k;
  }
}

}  // namespace

bool attention_tiled_applies(const tsr_node_desc& n) {
  const int64_t D = n.inputs[0].ne[0];
  return cpu_has_avx2_fma() && D % 8 == 0 && D > 0 && D <= 512;
}

size_t attention_tiled_scratch(const tsr_node_desc& n) {
  const int64_t group = n.inputs[0].ne[1] / n.inputs[1].ne[1];
  return static_cast<size_t>(Layout(n.inputs[0].ne[0], group).total) * sizeof(float);
}

namespace {

// Decode has one query token, so only n_kv_head tasks (3 for SmolLM2): too
// few for the threads, and each walks the whole KV cache alone. Then the KV
// range is split too, and the splits' partial softmax states are merged.
int64_t max_splits(int64_t base_tasks, int n_threads) {
  return base_tasks >= 2 * n_threads ? 1 : (4 * n_threads + base_tasks - 1) / base_tasks;
}

// Floats of one split's partial state per row: m, l, acc[D].
int64_t partial_floats(int64_t D) { return D + 2; }

}  // namespace

size_t attention_tiled_shared_scratch(const tsr_node_desc& n, int n_threads) {
  const int64_t D = n.inputs[0].ne[0], group = n.inputs[0].ne[1] / n.inputs[1].ne[1];
  const int64_t base = n.inputs[1].ne[1] * ((n.inputs[0].ne[2] + kTileTokens - 1) / kTileTokens);
  const int64_t splits = max_splits(base, n_threads);
  if (splits == 1) return 0;
  return static_cast<size_t>(base * splits * group * kTileTokens * partial_floats(D)) * sizeof(float);
}

Status run_attention_tiled(const NodePlan& p, const ExecCtx& ctx, int64_t L, float scale) {
  const auto& q = p.node.inputs[0];
  const auto& k = p.node.inputs[1];
  const auto& v = p.node.inputs[2];
  const auto& o = p.node.output;
  const int64_t D = q.ne[0], H = q.ne[1], T = q.ne[2], Hkv = k.ne[1];
  const int64_t group = H / Hkv;
  const bool causal = p.node.params.i[0] != 0;
  const int64_t window = causal ? p.node.params.i[2] : 0;
  const int64_t tiles = (T + kTileTokens - 1) / kTileTokens;
  // Query t sees kv rows [first_row(t), visible(t)).
  const auto position = [&](int64_t t) {
    int32_t pos;
    std::memcpy(&pos, p.in[3] + t * p.node.inputs[3].nb[0], 4);
    return static_cast<int64_t>(pos);
  };
  const auto first_row = [&](int64_t t) {
    return window > 0 ? std::max<int64_t>(0, position(t) - window + 1) : 0;
  };
  // Under a sliding window the blocks before every query's window are
  // skipped, and the splits share out only the blocks that remain.
  int64_t block_lo = 0;
  if (window > 0) {
    int64_t lo = L;
    for (int64_t t = 0; t < T; ++t) lo = std::min(lo, first_row(t));
    block_lo = lo / kBlock;
  }
  const Layout lay(D, group);
  const int64_t base_tasks = Hkv * tiles, max_rows = group * kTileTokens;
  const int64_t blocks = std::max<int64_t>(1, (L + kBlock - 1) / kBlock - block_lo);
  const int64_t splits = std::max<int64_t>(1, std::min(max_splits(base_tasks, p.n_threads), blocks));
  const int64_t blocks_per_split = splits > 1 ? (blocks + splits - 1) / splits : blocks;
  float* partial = reinterpret_cast<float*>(p.scratch);  // [base task][split][row] (m, l, acc)
  const int64_t pf = partial_floats(D);

  // Contiguous f16 or f32 K rows are transposed 8 x 8 in registers; others row by row.
  const bool k_fast = (k.dtype == TSR_DTYPE_F32 && k.nb[0] == 4) ||
                      (k.dtype == TSR_DTYPE_F16 && k.nb[0] == 2 && cpu_has_f16c());
  ctx.pool->parallel_for(base_tasks * splits, 1, [&](int64_t begin, int64_t end, int tid) {
    float* base = reinterpret_cast<float*>(p.thread_scratch(tid));
    float *qs = base + lay.q, *acc = base + lay.acc, *ms = base + lay.m, *ls = base + lay.l;
    float *kt = base + lay.kt, *vb = base + lay.vb, *s = base + lay.s, *vis = base + lay.vis;
    float* first = base + lay.first;
    for (int64_t task = begin; task < end; ++task) {
      const int64_t split = task % splits, bt = task / splits;
      const int64_t g = bt % Hkv, t0 = (bt / Hkv) * kTileTokens;
      const int64_t nt = std::min(kTileTokens, T - t0), rows = nt * group;
      int64_t max_vis = 0, min_first = L, min_vis = L, max_first = 0;
      for (int64_t ti = 0; ti < nt; ++ti) {
        int64_t visible = L, lo = 0;
        if (causal) {
          visible = std::clamp<int64_t>(position(t0 + ti) + 1, 0, L);
          lo = first_row(t0 + ti);
        }
        max_vis = std::max(max_vis, visible);
        min_vis = std::min(min_vis, visible);
        min_first = std::min(min_first, lo);
        max_first = std::max(max_first, lo);
        for (int64_t hi = 0; hi < group; ++hi) {
          const int64_t r = ti * group + hi, h = g * group + hi;
          vis[r] = static_cast<float>(visible);
          first[r] = static_cast<float>(lo);
          load_row_f32(p.in[0] + h * q.nb[1] + (t0 + ti) * q.nb[2], q.nb[0], q.dtype, D, qs + r * D);
          for (int64_t d = 0; d < D; ++d) qs[r * D + d] *= scale;
          ms[r] = kNegInf;
          ls[r] = 0.0f;
        }
      }
      std::fill(acc, acc + rows * D, 0.0f);
      const int64_t j_begin =
          std::max((block_lo + split * blocks_per_split) * kBlock, min_first / kBlock * kBlock);
      const int64_t j_end = std::min(max_vis, (block_lo + (split + 1) * blocks_per_split) * kBlock);
      for (int64_t j0 = j_begin; j0 < j_end; j0 += kBlock) {
        const int64_t nb = std::min(kBlock, j_end - j0);
        // K transposed (zero-padded to 64 columns) and V rows, both as f32.
        const char* k_block = p.in[1] + g * k.nb[1] + j0 * k.nb[2];
        if (k_fast) transpose_k_block(k_block, k.dtype, k.nb[2], nb, D, kt);
        for (int64_t j = 0; j < kBlock; ++j) {
          float* vr = vb + j * D;
          if (j < nb) {
            if (!k_fast) {
              load_row_f32(k_block + j * k.nb[2], k.nb[0], k.dtype, D, vr);
              for (int64_t d = 0; d < D; ++d) kt[d * kBlock + j] = vr[d];
            }
            load_row_f32(p.in[2] + g * v.nb[1] + (j0 + j) * v.nb[2], v.nb[0], v.dtype, D, vr);
          } else if (!k_fast) {
            for (int64_t d = 0; d < D; ++d) kt[d * kBlock + j] = 0.0f;
          }
        }
        // A block every row of the tile sees whole (below the causal
        // diagonal, inside every window): all rows at once, in groups of 3
        // across tokens, so a group of 4 heads does not leave 1-row calls.
        if (j0 + nb <= min_vis && max_first <= j0) {
          rows_same_visible(qs, ms, ls, acc, 0, rows, kt, vb, D, 0, nb, s);
          continue;
        }
        // Otherwise a token's query heads share its visible range.
        for (int64_t ti = 0; ti < nt; ++ti) {
          const auto visible = static_cast<int64_t>(vis[ti * group]);
          const int64_t lo = std::max<int64_t>(0, static_cast<int64_t>(first[ti * group]) - j0);
          if (visible <= j0 || lo >= nb) continue;
          rows_same_visible(qs, ms, ls, acc, ti * group, group, kt, vb, D, lo, std::min(nb, visible - j0), s);
        }
      }
      for (int64_t r = 0; r < rows; ++r) {
        if (splits > 1) {  // keep the partial state for the merge
          float* dst = partial + ((bt * splits + split) * max_rows + r) * pf;
          dst[0] = ms[r];
          dst[1] = ls[r];
          std::copy(acc + r * D, acc + (r + 1) * D, dst + 2);
          continue;
        }
        const int64_t ti = r / group, h = g * group + r % group;
        // No visible rows (kv length 0, or a negative position): zeros.
        const float inv = ls[r] > 0.0f ? 1.0f / ls[r] : 0.0f;
        for (int64_t d = 0; d < D; ++d) acc[r * D + d] *= inv;
        store_row_f32(acc + r * D, p.out + h * o.nb[1] + (t0 + ti) * o.nb[2], o.nb[0], o.dtype, D);
      }
    }
  });
  if (splits == 1) return Status::ok();

  // Merge: m = max m_s, l = sum l_s e^(m_s - m), acc = sum acc_s e^(m_s - m).
  ctx.pool->parallel_for(base_tasks, 1, [&](int64_t begin, int64_t end, int tid) {
    float* out_row = reinterpret_cast<float*>(p.thread_scratch(tid));
    for (int64_t bt = begin; bt < end; ++bt) {
      const int64_t g = bt % Hkv, t0 = (bt / Hkv) * kTileTokens;
      const int64_t rows = std::min(kTileTokens, T - t0) * group;
      for (int64_t r = 0; r < rows; ++r) {
        float m = kNegInf;
        for (int64_t sp = 0; sp < splits; ++sp)
          m = std::max(m, partial[((bt * splits + sp) * max_rows + r) * pf]);
        std::fill(out_row, out_row + D, 0.0f);
        float l = 0.0f;
        if (m != kNegInf) {
          for (int64_t sp = 0; sp < splits; ++sp) {
            const float* src = partial + ((bt * splits + sp) * max_rows + r) * pf;
            if (src[1] == 0.0f) continue;  // this split saw no rows of this query
            const float c = std::exp(src[0] - m);
            l += src[1] * c;
            for (int64_t d = 0; d < D; ++d) out_row[d] += src[2 + d] * c;
          }
        }
        const float inv = l > 0.0f ? 1.0f / l : 0.0f;
        for (int64_t d = 0; d < D; ++d) out_row[d] *= inv;
        const int64_t ti = r / group, h = g * group + r % group;
        store_row_f32(out_row, p.out + h * o.nb[1] + (t0 + ti) * o.nb[2], o.nb[0], o.dtype, D);
      }
    }
  });
  return Status::ok();
}

}  // namespace tsr::cpu
