// Fused attention: for each (query token, head) an online softmax over the
// visible KV rows, processed in blocks (scores of a block, one rescale of the
// accumulator per block). GQA maps query head h to kv head h / (H / Hkv).
// With AVX2 and head_dim % 8 == 0 the tiled kernel (attention_tiled.h) runs
// instead; this file's loop is the portable path.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "cpu/attention_tiled.h"
#include "cpu/convert.h"
#include "cpu/kernels.h"
#include "cpu/thread_pool.h"
#include "cpu/vec.h"
#include "tessera/kit/dtype.h"

namespace tsr::cpu {
namespace {

constexpr int64_t kKvBlock = 64;

// A KV row as f32: in place when it already is, else converted into buf.
inline const float* kv_row(const char* base, const tsr_tensor_desc& d, int64_t D, float* buf) {
  if (d.dtype == TSR_DTYPE_F32 && d.nb[0] == 4) return reinterpret_cast<const float*>(base);
  load_row_f32(base, d.nb[0], d.dtype, D, buf);
  return buf;
}

// The softmax scale and the valid kv length (from the step value when the
// node names one).
Status step_shape(const NodePlan& p, const ExecCtx& ctx, float* scale, int64_t* L) {
  const int64_t D = p.node.inputs[0].ne[0], S = p.node.inputs[1].ne[2];
  *scale = p.node.params.f[0] == 0.0f ? 1.0f / std::sqrt(static_cast<float>(D)) : p.node.params.f[0];
  *L = S;
  if (p.node.params.i[1] >= 0) {
    TSR_RETURN_IF_ERROR(step_value(ctx, p.node.params.i[1], "attention", L));
    if (*L < 0 || *L > S) return invalid_arg("[attention] kv length {} out of range [0, {}]", *L, S);
  }
  return Status::ok();
}

Status run_tiled(const NodePlan& p, const ExecCtx& ctx) {
  float scale;
  int64_t L;
  TSR_RETURN_IF_ERROR(step_shape(p, ctx, &scale, &L));
  return run_attention_tiled(p, ctx, L, scale);
}

// Portable path: one (token, head) per task.
Status run(const NodePlan& p, const ExecCtx& ctx) {
  const auto& q = p.node.inputs[0];
  const auto& k = p.node.inputs[1];
  const auto& v = p.node.inputs[2];
  const auto& o = p.node.output;
  const int64_t D = q.ne[0], H = q.ne[1], T = q.ne[2];
  const int64_t Hkv = k.ne[1];
  const bool causal = p.node.params.i[0] != 0;
  const int64_t window = p.node.params.i[2];
  float scale;
  int64_t L;
  TSR_RETURN_IF_ERROR(step_shape(p, ctx, &scale, &L));
  const int64_t group = H / Hkv;

  ctx.pool->parallel_for(T * H, 1, [&](int64_t begin, int64_t end, int tid) {
    float* qf = reinterpret_cast<float*>(p.thread_scratch(tid));
    float* acc = qf + D;
    float* kbuf = acc + D;
    float* vbuf = kbuf + D;
    float* scores = vbuf + D;
    for (int64_t task = begin; task < end; ++task) {
      const int64_t t = task / H, h = task % H, g = h / group;
      int64_t first_row = 0, visible = L;  // rows [first_row, visible)
      if (causal) {
        int32_t pos;
        std::memcpy(&pos, p.in[3] + t * p.node.inputs[3].nb[0], 4);
        visible = std::clamp<int64_t>(static_cast<int64_t>(pos) + 1, 0, L);
        if (window > 0) first_row = std::max<int64_t>(0, static_cast<int64_t>(pos) - window + 1);
      }
      load_row_f32(p.in[0] + h * q.nb[1] + t * q.nb[2], q.nb[0], q.dtype, D, qf);
      for (int64_t i = 0; i < D; ++i) qf[i] *= scale;
      std::fill(acc, acc + D, 0.0f);
      float m = -std::numeric_limits<float>::infinity();
      float l = 0.0f;
      for (int64_t j0 = first_row; j0 < visible; j0 += kKvBlock) {
        const int64_t j1 = std::min(visible, j0 + kKvBlock);
        float bmax = -std::numeric_limits<float>::infinity();
        for (int64_t j = j0; j < j1; ++j) {
          const float* kr = kv_row(p.in[1] + g * k.nb[1] + j * k.nb[2], k, D, kbuf);
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
          const float* vr = kv_row(p.in[2] + g * v.nb[1] + j * v.nb[2], v, D, vbuf);
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
  return Status::ok();
}

}  // namespace

bool supports_attention(const tsr_node_desc& n, std::string& reason) {
  const auto& q = n.inputs[0];
  const auto& k = n.inputs[1];
  const auto& v = n.inputs[2];
  const auto& o = n.output;
  const bool causal = n.params.i[0] != 0;
  if (!is_float_dtype(q.dtype)) {
    reason = fmt::format("{} q", dtype_name(q.dtype));
    return false;
  }
  for (const auto* kv : {&k, &v}) {
    if (kv->dtype != TSR_DTYPE_F32 && kv->dtype != TSR_DTYPE_F16) {
      reason = fmt::format("{} k/v", dtype_name(kv->dtype));
      return false;
    }
  }
  if (k.ne[0] != q.ne[0] || v.ne[0] != q.ne[0] || v.ne[1] != k.ne[1] || v.ne[2] != k.ne[2]) {
    reason = "k/v shapes do not match q";
    return false;
  }
  if (q.ne[3] != 1 || k.ne[3] != 1 || v.ne[3] != 1) {
    reason = "dim 3 must be 1";
    return false;
  }
  if (k.ne[1] <= 0 || q.ne[1] % k.ne[1] != 0) {
    reason = fmt::format("n_head {} not a multiple of n_kv_head {}", q.ne[1], k.ne[1]);
    return false;
  }
  if (n.params.i[2] < 0 || (n.params.i[2] > 0 && !causal)) {
    reason = fmt::format("sliding window {} must be >= 0 and causal", n.params.i[2]);
    return false;
  }
  if (causal) {
    if (n.n_inputs != 4) {
      reason = "causal attention needs pos";
      return false;
    }
    const auto& pos = n.inputs[3];
    if (pos.dtype != TSR_DTYPE_I32 || pos.ne[0] != q.ne[2] || pos.ne[1] * pos.ne[2] * pos.ne[3] != 1) {
      reason = "pos must be i32 [n_tokens]";
      return false;
    }
  }
  if (o.dtype != TSR_DTYPE_F32 || !same_shape_desc(o, q)) {
    reason = "output must be f32 with q's shape";
    return false;
  }
  return check_out_rows(o, reason);
}

Status plan_attention(NodePlan& p) {
  if (attention_tiled_applies(p.node)) {
    p.run = run_tiled;
    p.scratch_per_thread = attention_tiled_scratch(p.node);
    p.scratch_shared = attention_tiled_shared_scratch(p.node, p.n_threads);
    return Status::ok();
  }
  p.run = run;
  p.scratch_per_thread = static_cast<size_t>(4 * p.node.inputs[0].ne[0] + kKvBlock) * sizeof(float);
  return Status::ok();
}

}  // namespace tsr::cpu
