// rope(x [head_dim, n_head, n_tokens, ne3], pos i32 [n_tokens], optional
// freq_factors f32 [n_rot/2]): rotary position embedding, normal (adjacent
// pairs) or neox (split halves) mode.
// The per-pair inverse frequencies are computed once at prepare, the angles
// once per token.
#include <fmt/format.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "cpu/convert.h"
#include "cpu/kernels.h"
#include "cpu/thread_pool.h"
#include "tessera/kit/dtype.h"

namespace tsr::cpu {
namespace {

struct RopeState : NodeState {
  std::vector<double> inv_freq;  // freq_scale * base^(-2i/n_rot), i < n_rot/2
};

// Tasks are tokens: each computes its n_rot/2 angles once (in double:
// positions reach 1e5 and f32 would lose the phase) and rotates every head
// with them. Per head rather than per token, the sin/cos dominated the op.
Status run(const NodePlan& p, const ExecCtx& ctx) {
  const auto& x = p.node.inputs[0];
  const auto& pos = p.node.inputs[1];
  const auto& o = p.node.output;
  const int64_t hd = x.ne[0], half = p.node.params.i[0] / 2;
  const bool neox = p.node.params.i[1] == TSR_ROPE_NEOX;
  const auto& st = static_cast<const RopeState&>(*p.state);
  // Frequency factors are an input (read at run time): contiguous f32, checked in supports_rope.
  const float* ff = p.node.n_inputs == 3 ? reinterpret_cast<const float*>(p.in[2]) : nullptr;
  ctx.pool->parallel_for(x.ne[2] * x.ne[3], 1, [&](int64_t begin, int64_t end, int tid) {
    float* buf = reinterpret_cast<float*>(p.thread_scratch(tid));
    float* cs = buf + hd;  // cos, sin interleaved
    for (int64_t t = begin; t < end; ++t) {
      const int64_t token = t % x.ne[2];
      int32_t pv;
      std::memcpy(&pv, p.in[1] + token * pos.nb[0], 4);
      for (int64_t i = 0; i < half; ++i) {
        double theta = static_cast<double>(pv) * st.inv_freq[i];
        if (ff) theta /= ff[i];
        cs[2 * i] = static_cast<float>(std::cos(theta));
        cs[2 * i + 1] = static_cast<float>(std::sin(theta));
      }
      for (int64_t h = 0; h < x.ne[1]; ++h) {
        const int64_t r = t * x.ne[1] + h;
        load_row_f32(p.in[0] + row_offset(x, r), x.nb[0], x.dtype, hd, buf);
        for (int64_t i = 0; i < half; ++i) {
          const int64_t i0 = neox ? i : 2 * i;
          const int64_t i1 = neox ? i + half : 2 * i + 1;
          const float a = buf[i0], b = buf[i1], c = cs[2 * i], s = cs[2 * i + 1];
          buf[i0] = a * c - b * s;
          buf[i1] = a * s + b * c;
        }
        store_row_f32(buf, p.out + row_offset(o, r), o.nb[0], o.dtype, hd);
      }
    }
  });
  return Status::ok();
}

}  // namespace

bool supports_rope(const tsr_node_desc& n, std::string& reason) {
  const auto& x = n.inputs[0];
  const auto& pos = n.inputs[1];
  if (!is_float_dtype(x.dtype)) {
    reason = fmt::format("{} input", dtype_name(x.dtype));
    return false;
  }
  if (pos.dtype != TSR_DTYPE_I32 || pos.ne[0] != x.ne[2] || pos.ne[1] * pos.ne[2] * pos.ne[3] != 1) {
    reason = "pos must be i32 [n_tokens]";
    return false;
  }
  const int64_t n_rot = n.params.i[0];
  if (n_rot < 0 || n_rot % 2 != 0 || n_rot > x.ne[0]) {
    reason = fmt::format("n_rot {} must be even and <= head_dim {}", n_rot, x.ne[0]);
    return false;
  }
  if (n.params.i[1] != TSR_ROPE_NORMAL && n.params.i[1] != TSR_ROPE_NEOX) {
    reason = fmt::format("rope mode {}", n.params.i[1]);
    return false;
  }
  if (n.n_inputs == 3) {
    const auto& ff = n.inputs[2];
    if (ff.dtype != TSR_DTYPE_F32 || ff.ne[0] != n_rot / 2 || ff.ne[1] * ff.ne[2] * ff.ne[3] != 1 ||
        ff.nb[0] != 4) {
      reason = fmt::format("freq_factors must be contiguous f32 [n_rot / 2 = {}]", n_rot / 2);
      return false;
    }
  }
  if (n.output.dtype != x.dtype || !same_shape_desc(n.output, x)) {
    reason = "output differs from input in dtype or shape";
    return false;
  }
  return check_out_rows(n.output, reason);
}

Status plan_rope(NodePlan& p) {
  auto st = std::make_unique<RopeState>();
  const int64_t n_rot = p.node.params.i[0];
  const double base = p.node.params.f[0];
  const double scale = p.node.params.f[1] == 0.0f ? 1.0 : p.node.params.f[1];
  for (int64_t i = 0; i < n_rot / 2; ++i)
    st->inv_freq.push_back(scale *
                           std::pow(base, -2.0 * static_cast<double>(i) / static_cast<double>(n_rot)));
  p.state = std::move(st);
  p.run = run;
  p.scratch_per_thread = static_cast<size_t>(p.node.inputs[0].ne[0] + n_rot) * sizeof(float);
  return Status::ok();
}

}  // namespace tsr::cpu
