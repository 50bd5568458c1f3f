// softmax over dim 0 of x * scale + mask, one row per task.
#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "cpu/convert.h"
#include "cpu/kernels.h"
#include "cpu/thread_pool.h"
#include "tessera/kit/dtype.h"

namespace tsr::cpu {
namespace {

Status run(const NodePlan& p, const ExecCtx& ctx) {
  const auto& x = p.node.inputs[0];
  const auto& o = p.node.output;
  const bool has_mask = p.node.n_inputs == 2;
  const int64_t n = x.ne[0];
  const float scale = p.node.params.f[0] == 0.0f ? 1.0f : p.node.params.f[0];
  ctx.pool->parallel_for(n_rows(x), 1, [&](int64_t begin, int64_t end, int tid) {
    float* buf = reinterpret_cast<float*>(p.thread_scratch(tid));
    float* mbuf = buf + n;
    for (int64_t r = begin; r < end; ++r) {
      load_row_f32(p.in[0] + row_offset(x, r), x.nb[0], x.dtype, n, buf);
      float mx = -std::numeric_limits<float>::infinity();
      if (has_mask) {
        const auto& m = p.node.inputs[1];
        load_row_f32(p.in[1] + (r % x.ne[1]) * m.nb[1], m.nb[0], m.dtype, n, mbuf);
        for (int64_t i = 0; i < n; ++i) buf[i] = buf[i] * scale + mbuf[i];
      } else {
        for (int64_t i = 0; i < n; ++i) buf[i] *= scale;
      }
      for (int64_t i = 0; i < n; ++i) mx = std::max(mx, buf[i]);
      if (mx == -std::numeric_limits<float>::infinity()) {
        // Every entry masked out: no distribution exists; write zeros
        // rather than NaN so a fully masked row cannot poison later sums.
        for (int64_t i = 0; i < n; ++i) buf[i] = 0.0f;
      } else {
        double sum = 0.0;
        for (int64_t i = 0; i < n; ++i) {
          buf[i] = std::exp(buf[i] - mx);
          sum += buf[i];
        }
        const float inv = static_cast<float>(1.0 / sum);
        for (int64_t i = 0; i < n; ++i) buf[i] *= inv;
      }
      store_row_f32(buf, p.out + row_offset(o, r), o.nb[0], o.dtype, n);
    }
  });
  return Status::ok();
}

}  // namespace

bool supports_softmax(const tsr_node_desc& n, std::string& reason) {
  const auto& x = n.inputs[0];
  if (!is_float_dtype(x.dtype)) {
    reason = fmt::format("{} input", dtype_name(x.dtype));
    return false;
  }
  if (n.n_inputs == 2) {
    const auto& m = n.inputs[1];
    if (m.dtype != TSR_DTYPE_F32 && m.dtype != TSR_DTYPE_F16) {
      reason = fmt::format("{} mask", dtype_name(m.dtype));
      return false;
    }
    if (m.ne[0] != x.ne[0] || m.ne[1] < x.ne[1] || m.ne[2] != 1 || m.ne[3] != 1) {
      reason = "mask must be [ne0, >= ne1, 1, 1]";
      return false;
    }
  }
  if (n.output.dtype != x.dtype || !same_shape_desc(n.output, x)) {
    reason = "output differs from input in dtype or shape";
    return false;
  }
  return check_out_rows(n.output, reason);
}

Status plan_softmax(NodePlan& p) {
  p.run = run;
  p.scratch_per_thread = static_cast<size_t>(2 * p.node.inputs[0].ne[0]) * sizeof(float);
  return Status::ok();
}

}  // namespace tsr::cpu
