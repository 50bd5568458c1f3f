// Fused attention: for each (query token, head) an online softmax over the
// visible KV rows (attention_rows.h). GQA maps query head h to kv head
// h / (H / Hkv). With AVX2 and head_dim % 8 == 0 the tiled kernel
// (attention_tiled.h) runs instead; attention_rows.h is the portable path.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "cpu/attention_rows.h"
#include "cpu/attention_tiled.h"
#include "cpu/convert.h"
#include "cpu/kernels.h"
#include "cpu/thread_pool.h"
#include "cpu/vec.h"
#include "tessera/kit/dtype.h"

namespace tsr::cpu {
namespace {

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

// Portable path: one (token, head) per task over rows [first, visible).
Status run(const NodePlan& p, const ExecCtx& ctx) {
  float scale;
  int64_t L;
  TSR_RETURN_IF_ERROR(step_shape(p, ctx, &scale, &L));
  struct Rows {
    const NodePlan& p;
    int64_t L;
    std::pair<int64_t, int64_t> range(int64_t t) const {
      if (p.node.params.i[0] == 0) return {0, L};
      int32_t pos;
      std::memcpy(&pos, p.in[3] + t * p.node.inputs[3].nb[0], 4);
      const int64_t window = p.node.params.i[2];
      return {window > 0 ? std::max<int64_t>(0, int64_t{pos} - window + 1) : 0,
              std::clamp<int64_t>(int64_t{pos} + 1, 0, L)};
    }
    int64_t row(int64_t, int64_t j) const { return j; }
  };
  attention_rows::attend(p, ctx, scale, Rows{p, L});
  return Status::ok();
}

}  // namespace

bool supports_attention_qkv(const tsr_node_desc& n, std::string& reason) {
  const auto& q = n.inputs[0];
  const auto& k = n.inputs[1];
  const auto& v = n.inputs[2];
  const auto& o = n.output;
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
  if (n.params.i[2] < 0) {
    reason = fmt::format("sliding window {} must be >= 0", n.params.i[2]);
    return false;
  }
  if (o.dtype != TSR_DTYPE_F32 || !same_shape_desc(o, q)) {
    reason = "output must be f32 with q's shape";
    return false;
  }
  return check_out_rows(o, reason);
}

bool supports_attention(const tsr_node_desc& n, std::string& reason) {
  if (!supports_attention_qkv(n, reason)) return false;
  const bool causal = n.params.i[0] != 0;
  if (n.params.i[2] > 0 && !causal) {
    reason = fmt::format("sliding window {} needs causal", n.params.i[2]);
    return false;
  }
  if (causal) {
    if (n.n_inputs != 4) {
      reason = "causal attention needs pos";
      return false;
    }
    const auto& pos = n.inputs[3];
    if (pos.dtype != TSR_DTYPE_I32 || pos.ne[0] != n.inputs[0].ne[2] ||
        pos.ne[1] * pos.ne[2] * pos.ne[3] != 1) {
      reason = "pos must be i32 [n_tokens]";
      return false;
    }
  }
  return true;
}

Status plan_attention(NodePlan& p) {
  if (attention_tiled_applies(p.node)) {
    p.run = run_tiled;
    p.scratch_per_thread = attention_tiled_scratch(p.node);
    p.scratch_shared = attention_tiled_shared_scratch(p.node, p.n_threads);
    return Status::ok();
  }
  p.run = run;
  p.scratch_per_thread = attention_rows::scratch_bytes(p.node);
  return Status::ok();
}

}  // namespace tsr::cpu
