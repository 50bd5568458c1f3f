// add/sub/mul/div with numpy-style broadcasting, scale, silu, gelu, softcap,
// swiglu, geglu.
// Rows are processed in parallel; each row is loaded as f32 (converting and
// de-striding when needed), computed, and stored in the output dtype. f32
// rows that are already contiguous are computed in place without copies.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "cpu/convert.h"
#include "cpu/kernels.h"
#include "cpu/thread_pool.h"
#include "cpu/vec.h"
#include "tessera/kit/dtype.h"

namespace tsr::cpu {
namespace {

bool is_binary(int32_t op) {
  return op == TSR_OP_ADD || op == TSR_OP_SUB || op == TSR_OP_MUL || op == TSR_OP_DIV ||
         op == TSR_OP_SWIGLU || op == TSR_OP_GEGLU;
}

bool is_gated(int32_t op) { return op == TSR_OP_SWIGLU || op == TSR_OP_GEGLU; }

// o[i] = f(a[i], b[i]); the loops are simple enough for the compiler to vectorise.
template <int32_t Op>
void apply(float* o, const float* a, const float* b, int64_t n, const float* fp) {
  if constexpr (Op == TSR_OP_ADD) {
    for (int64_t i = 0; i < n; ++i) o[i] = a[i] + b[i];
  } else if constexpr (Op == TSR_OP_SUB) {
    for (int64_t i = 0; i < n; ++i) o[i] = a[i] - b[i];
  } else if constexpr (Op == TSR_OP_MUL) {
    for (int64_t i = 0; i < n; ++i) o[i] = a[i] * b[i];
  } else if constexpr (Op == TSR_OP_DIV) {
    for (int64_t i = 0; i < n; ++i) o[i] = a[i] / b[i];
  } else if constexpr (Op == TSR_OP_SWIGLU) {
    silu_mul_f32(a, b, o, n);
  } else if constexpr (Op == TSR_OP_SCALE) {
    const float s = fp[0], c = fp[1];
    for (int64_t i = 0; i < n; ++i) o[i] = a[i] * s + c;
  } else if constexpr (Op == TSR_OP_SILU) {
    silu_mul_f32(a, nullptr, o, n);
  } else if constexpr (Op == TSR_OP_GELU) {
    gelu_mul_f32(a, nullptr, o, n);
  } else if constexpr (Op == TSR_OP_GEGLU) {
    gelu_mul_f32(a, b, o, n);
  } else if constexpr (Op == TSR_OP_SOFTCAP) {
    softcap_f32(a, fp[0], o, n);
  }
}

// Offset of the input row feeding output row (i1, i2, i3), broadcasting dims of size 1.
inline int64_t bcast_row(const tsr_tensor_desc& d, int64_t i1, int64_t i2, int64_t i3) {
  return (d.ne[1] == 1 ? 0 : i1) * d.nb[1] + (d.ne[2] == 1 ? 0 : i2) * d.nb[2] +
         (d.ne[3] == 1 ? 0 : i3) * d.nb[3];
}

// Loads an input row of the output's length, repeating a broadcast scalar.
inline const float* get_row(const char* base, const tsr_tensor_desc& d, int64_t n, float* buf) {
  if (d.ne[0] == 1 && n != 1) {
    float v;
    load_row_f32(base, d.nb[0], d.dtype, 1, &v);
    for (int64_t i = 0; i < n; ++i) buf[i] = v;
    return buf;
  }
  if (d.dtype == TSR_DTYPE_F32 && d.nb[0] == 4) return reinterpret_cast<const float*>(base);
  load_row_f32(base, d.nb[0], d.dtype, n, buf);
  return buf;
}

template <int32_t Op>
Status run(const NodePlan& p, const ExecCtx& ctx) {
  const auto& o = p.node.output;
  const auto& a = p.node.inputs[0];
  const bool binary = is_binary(Op);
  const int64_t n = o.ne[0];
  const bool out_direct = o.dtype == TSR_DTYPE_F32 && o.nb[0] == 4;
  ctx.pool->parallel_for(n_rows(o), std::max<int64_t>(1, 4096 / std::max<int64_t>(1, n)),
                         [&](int64_t begin, int64_t end, int tid) {
                           float* abuf = reinterpret_cast<float*>(p.thread_scratch(tid));
                           float* bbuf = abuf + n;
                           float* obuf = bbuf + n;
                           for (int64_t r = begin; r < end; ++r) {
                             const int64_t i1 = r % o.ne[1], i2 = (r / o.ne[1]) % o.ne[2];
                             const int64_t i3 = r / (o.ne[1] * o.ne[2]);
                             const float* ar = get_row(p.in[0] + bcast_row(a, i1, i2, i3), a, n, abuf);
                             const float* br = nullptr;
                             if (binary) {
                               const auto& b = p.node.inputs[1];
                               br = get_row(p.in[1] + bcast_row(b, i1, i2, i3), b, n, bbuf);
                             }
                             char* orow = p.out + i1 * o.nb[1] + i2 * o.nb[2] + i3 * o.nb[3];
                             if (out_direct) {
                               apply<Op>(reinterpret_cast<float*>(orow), ar, br, n, p.node.params.f);
                             } else {
                               apply<Op>(obuf, ar, br, n, p.node.params.f);
                               store_row_f32(obuf, orow, o.nb[0], o.dtype, n);
                             }
                           }
                         });
  return Status::ok();
}

}  // namespace

bool supports_elementwise(const tsr_node_desc& n, std::string& reason) {
  const auto& o = n.output;
  for (int i = 0; i < n.n_inputs; ++i) {
    if (!is_float_dtype(n.inputs[i].dtype)) {
      reason = fmt::format("{} input {}", dtype_name(n.inputs[i].dtype), i);
      return false;
    }
  }
  if (o.dtype != n.inputs[0].dtype) {
    reason = "output dtype differs from input 0";
    return false;
  }
  if (!check_out_rows(o, reason)) return false;
  if (n.op == TSR_OP_SOFTCAP && (!(n.params.f[0] > 0.0f) || !std::isfinite(n.params.f[0]))) {
    reason = fmt::format("softcap cap {} must be finite and > 0", n.params.f[0]);
    return false;
  }
  for (int d = 0; d < TSR_MAX_DIMS; ++d) {
    for (int i = 0; i < n.n_inputs; ++i) {
      const int64_t ne = n.inputs[i].ne[d];
      const bool bcast = is_binary(n.op) && !is_gated(n.op) && ne == 1;
      if (ne != o.ne[d] && !bcast) {
        reason = fmt::format("input {} dim {} is {}, output {}", i, d, ne, o.ne[d]);
        return false;
      }
    }
    if (n.n_inputs == 2 && o.ne[d] != std::max(n.inputs[0].ne[d], n.inputs[1].ne[d])) {
      reason = fmt::format("output dim {} is {}, not the broadcast size", d, o.ne[d]);
      return false;
    }
  }
  return true;
}

Status plan_elementwise(NodePlan& p) {
  switch (p.node.op) {
    case TSR_OP_ADD:
      p.run = run<TSR_OP_ADD>;
      break;
    case TSR_OP_SUB:
      p.run = run<TSR_OP_SUB>;
      break;
    case TSR_OP_MUL:
      p.run = run<TSR_OP_MUL>;
      break;
    case TSR_OP_DIV:
      p.run = run<TSR_OP_DIV>;
      break;
    case TSR_OP_SWIGLU:
      p.run = run<TSR_OP_SWIGLU>;
      break;
    case TSR_OP_SCALE:
      p.run = run<TSR_OP_SCALE>;
      break;
    case TSR_OP_SILU:
      p.run = run<TSR_OP_SILU>;
      break;
    case TSR_OP_GELU:
      p.run = run<TSR_OP_GELU>;
      break;
    case TSR_OP_GEGLU:
      p.run = run<TSR_OP_GEGLU>;
      break;
    case TSR_OP_SOFTCAP:
      p.run = run<TSR_OP_SOFTCAP>;
      break;
    default:
      return make_error(TSR_ERR_INTERNAL, "[elementwise] op id {} not planned here", p.node.op);
  }
  p.scratch_per_thread = static_cast<size_t>(3 * p.node.output.ne[0]) * sizeof(float);
  return Status::ok();
}

}  // namespace tsr::cpu
