// The portable attention loop, shared by attention and paged_attention: one
// task per (query token, head), an online softmax over the token's visible kv
// rows in blocks of 64 (scores of a block, one rescale of the accumulator per
// block). Which rows a token sees, and where a logical row lives in k and v,
// come from the op: `Rows` gives range(t) -> [first, end) of logical rows and
// row(t, j) -> the physical row index (j itself for a plain cache, the block
// table's mapping for a paged one). Internal to the attention family.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "cpu/convert.h"
#include "cpu/kernels.h"
#include "cpu/thread_pool.h"
#include "cpu/vec.h"

namespace tsr::cpu::attention_rows {

constexpr int64_t kKvBlock = 64;

// Bytes of per-thread scratch attend() needs.
inline size_t scratch_bytes(const tsr_node_desc& n) {
  return static_cast<size_t>(4 * n.inputs[0].ne[0] + kKvBlock) * sizeof(float);
}

// A KV row as f32: in place when it already is, else converted into buf.
inline const float* kv_row(const char* base, const tsr_tensor_desc& d, int64_t D, float* buf) {
  if (d.dtype == TSR_DTYPE_F32 && d.nb[0] == 4) return reinterpret_cast<const float*>(base);
  load_row_f32(base, d.nb[0], d.dtype, D, buf);
  return buf;
}

template <class Rows>
void attend(const NodePlan& p, const ExecCtx& ctx, float scale, const Rows& rows) {
  const auto& q = p.node.inputs[0];
  const auto& k = p.node.inputs[1];
  const auto& v = p.node.inputs[2];
  const auto& o = p.node.output;
  const int64_t D = q.ne[0], H = q.ne[1], T = q.ne[2];
  const int64_t group = H / k.ne[1];
  ctx.pool->parallel_for(T * H, 1, [&](int64_t begin, int64_t end, int tid) {
    float* qf = reinterpret_cast<float*>(p.thread_scratch(tid));
    float* acc = qf + D;
    float* kbuf = acc + D;
    float* vbuf = kbuf + D;
    float* scores = vbuf + D;
    for (int64_t task = begin; task < end; ++task) {
      const int64_t t = task / H, h = task % H, g = h / group;
      const auto [first_row, visible] = rows.range(t);
      load_row_f32(p.in[0] + h * q.nb[1] + t * q.nb[2], q.nb[0], q.dtype, D, qf);
      for (int64_t i = 0; i < D; ++i) qf[i] *= scale;
      std::fill(acc, acc + D, 0.0f);
      float m = -std::numeric_limits<float>::infinity();
      float l = 0.0f;
      for (int64_t j0 = first_row; j0 < visible; j0 += kKvBlock) {
        const int64_t j1 = std::min(visible, j0 + kKvBlock);
        float bmax = -std::numeric_limits<float>::infinity();
        for (int64_t j = j0; j < j1; ++j) {
          const float* kr = kv_row(p.in[1] + g * k.nb[1] + rows.row(t, j) * k.nb[2], k, D, kbuf);
          scores[j - j0] = dot_f32(qf, kr, D);
          bmax = std::max(bmax, scores[j - j0]);
        }
        if (bmax == -std::numeric_limits<float>::infinity()) continue;  // all -inf scores
        const float m_new = std::max(m, bmax);
        const float corr = std::exp(m - m_new);  // 0 on the first block
        l *= corr;
        bool first = true;
        for (int64_t j = j0; j < j1; ++j) {
          const float w = std::exp(scores[j - j0] - m_new);
          l += w;
          const float* vr = kv_row(p.in[2] + g * v.nb[1] + rows.row(t, j) * v.nb[2], v, D, vbuf);
          scale_add_f32(acc, first ? corr : 1.0f, vr, w, D);
          first = false;
        }
        m = m_new;
      }
      // No visible rows (kv length 0, or a negative position): zeros.
      const float inv = l > 0.0f ? 1.0f / l : 0.0f;
      for (int64_t i = 0; i < D; ++i) acc[i] *= inv;
      store_row_f32(acc, p.out + h * o.nb[1] + t * o.nb[2], o.nb[0], o.dtype, D);
    }
  });
}

}  // namespace tsr::cpu::attention_rows
