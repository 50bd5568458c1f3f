// rms_norm and layer_norm over dim 0, one row per task; statistics in double
// would be overkill for the row lengths of transformers, f32 sums suffice.
#include <fmt/format.h>

#include <cmath>

#include "cpu/convert.h"
#include "cpu/kernels.h"
#include "cpu/thread_pool.h"
#include "cpu/vec.h"
#include "tessera/kit/dtype.h"

namespace tsr::cpu {
namespace {

template <bool Rms>
Status run(const NodePlan& p, const ExecCtx& ctx) {
  const auto& x = p.node.inputs[0];
  const auto& o = p.node.output;
  const int64_t n = x.ne[0];
  const float eps = p.node.params.f[0];
  ctx.pool->parallel_for(n_rows(x), 1, [&](int64_t begin, int64_t end, int tid) {
    float* buf = reinterpret_cast<float*>(p.thread_scratch(tid));
    for (int64_t r = begin; r < end; ++r) {
      load_row_f32(p.in[0] + row_offset(x, r), x.nb[0], x.dtype, n, buf);
      if constexpr (Rms) {
        const float mean_sq = n > 0 ? sum_sq_f32(buf, n) / static_cast<float>(n) : 0.0f;
        const float s = 1.0f / std::sqrt(mean_sq + eps);
        for (int64_t i = 0; i < n; ++i) buf[i] *= s;
      } else {
        const float mean = n > 0 ? sum_f32(buf, n) / static_cast<float>(n) : 0.0f;
        for (int64_t i = 0; i < n; ++i) buf[i] -= mean;
        const float var = n > 0 ? sum_sq_f32(buf, n) / static_cast<float>(n) : 0.0f;
        const float s = 1.0f / std::sqrt(var + eps);
        for (int64_t i = 0; i < n; ++i) buf[i] *= s;
      }
      store_row_f32(buf, p.out + row_offset(o, r), o.nb[0], o.dtype, n);
    }
  });
  return Status::ok();
}

}  // namespace

bool supports_norm(const tsr_node_desc& n, std::string& reason) {
  const auto& x = n.inputs[0];
  if (!is_float_dtype(x.dtype)) {
    reason = fmt::format("{} input", dtype_name(x.dtype));
    return false;
  }
  if (n.output.dtype != x.dtype || !same_shape_desc(n.output, x)) {
    reason = "output differs from input in dtype or shape";
    return false;
  }
  return check_out_rows(n.output, reason);
}

Status plan_norm(NodePlan& p) {
  p.run = p.node.op == TSR_OP_RMS_NORM ? run<true> : run<false>;
  p.scratch_per_thread = static_cast<size_t>(p.node.inputs[0].ne[0]) * sizeof(float);
  return Status::ok();
}

}  // namespace tsr::cpu
