// Element-wise ops: add, sub, mul, div (numpy-style broadcasting), scale,
// silu, gelu (tanh form), softcap, and the gated swiglu and geglu. Arithmetic is done in double and rounded
// once to the output dtype.
#include <algorithm>
#include <cmath>
#include <vector>

#include "ops/op_impl.h"
#include "ops/ref_util.h"

namespace tsr::ops::impl {
namespace {

using namespace detail;

double apply_binary(int32_t op, double a, double b) {
  switch (op) {
    case TSR_OP_ADD:
      return a + b;
    case TSR_OP_SUB:
      return a - b;
    case TSR_OP_MUL:
      return a * b;
    default:
      return a / b;  // TSR_OP_DIV; b == 0 gives inf or NaN as IEEE says
  }
}

double silu(double x) { return x / (1.0 + std::exp(-x)); }

double gelu_tanh(double x) {
  const double k = std::sqrt(2.0 / M_PI);
  return 0.5 * x * (1.0 + std::tanh(k * (x + 0.044715 * x * x * x)));
}

}  // namespace

Result<TensorDesc> infer_binary(const InferCall& c) {
  const TensorDesc& a = c.in[0];
  const TensorDesc& b = c.in[1];
  TSR_RETURN_IF_ERROR(expect_float(c.name, "a", a));
  TSR_RETURN_IF_ERROR(expect_float(c.name, "b", b));
  int64_t ne[TSR_MAX_DIMS];
  for (int k = 0; k < TSR_MAX_DIMS; ++k) {
    if (a.ne[k] != b.ne[k] && a.ne[k] != 1 && b.ne[k] != 1)
      return invalid_arg("[{}] cannot broadcast a {} with b {}: dim {} is {} vs {}", c.name, shape_str(a),
                         shape_str(b), k, a.ne[k], b.ne[k]);
    ne[k] = a.ne[k] == 1 ? b.ne[k] : a.ne[k];  // 1 against 0 gives 0, as numpy
  }
  return make_output(c.name, a.dtype, std::max(a.rank, b.rank), ne);
}

Status ref_binary(const RefCall& c) {
  const TensorDesc& a = c.in_desc[0];
  const TensorDesc& b = c.in_desc[1];
  const TensorDesc& o = c.out_desc;
  std::vector<float> ra(a.ne[0]), rb(b.ne[0]), ro(o.ne[0]);
  // A dim of size 1 is broadcast: always index 0 on that side.
  auto idx = [](const TensorDesc& d, int k, int64_t i) { return d.ne[k] == 1 ? 0 : i; };
  for (int64_t i3 = 0; i3 < o.ne[3]; ++i3)
    for (int64_t i2 = 0; i2 < o.ne[2]; ++i2)
      for (int64_t i1 = 0; i1 < o.ne[1]; ++i1) {
        read_row(a, c.in[0], idx(a, 1, i1), idx(a, 2, i2), idx(a, 3, i3), ra.data());
        read_row(b, c.in[1], idx(b, 1, i1), idx(b, 2, i2), idx(b, 3, i3), rb.data());
        for (int64_t i0 = 0; i0 < o.ne[0]; ++i0)
          ro[i0] = static_cast<float>(apply_binary(c.op, ra[idx(a, 0, i0)], rb[idx(b, 0, i0)]));
        write_row(o, c.out, i1, i2, i3, ro.data());
      }
  return Status::ok();
}

Result<TensorDesc> infer_unary(const InferCall& c) {
  const TensorDesc& x = c.in[0];
  TSR_RETURN_IF_ERROR(expect_float(c.name, "x", x));
  return make_output(c.name, x.dtype, x.rank, x.ne);
}

Status ref_unary(const RefCall& c) {
  const TensorDesc& x = c.in_desc[0];
  const TensorDesc& o = c.out_desc;
  const double s = c.p.f[0], bias = c.p.f[1];
  std::vector<float> r(x.ne[0]);
  for (int64_t i3 = 0; i3 < x.ne[3]; ++i3)
    for (int64_t i2 = 0; i2 < x.ne[2]; ++i2)
      for (int64_t i1 = 0; i1 < x.ne[1]; ++i1) {
        read_row(x, c.in[0], i1, i2, i3, r.data());
        for (float& v : r) {
          const double d = v;
          switch (c.op) {
            case TSR_OP_SCALE:
              v = static_cast<float>(d * s + bias);
              break;
            case TSR_OP_SILU:
              v = static_cast<float>(silu(d));
              break;
            case TSR_OP_SOFTCAP:
              v = static_cast<float>(s * std::tanh(d / s));
              break;
            default:  // TSR_OP_GELU
              v = static_cast<float>(gelu_tanh(d));
              break;
          }
        }
        write_row(o, c.out, i1, i2, i3, r.data());
      }
  return Status::ok();
}

Result<TensorDesc> infer_softcap(const InferCall& c) {
  const float cap = c.p.f[0];
  if (!(cap > 0.0f) || std::isinf(cap))
    return invalid_arg("[{}] cap (fp[0]) must be finite and > 0, got {}", c.name, cap);
  return infer_unary(c);
}

Result<TensorDesc> infer_swiglu(const InferCall& c) {
  const TensorDesc& gate = c.in[0];
  const TensorDesc& up = c.in[1];
  TSR_RETURN_IF_ERROR(expect_float(c.name, "gate", gate));
  TSR_RETURN_IF_ERROR(expect_float(c.name, "up", up));
  TSR_RETURN_IF_ERROR(expect_same_shape(c.name, "gate", gate, "up", up));
  return make_output(c.name, gate.dtype, std::max(gate.rank, up.rank), gate.ne);
}

Status ref_swiglu(const RefCall& c) {
  const TensorDesc& g = c.in_desc[0];
  const TensorDesc& u = c.in_desc[1];
  std::vector<float> rg(g.ne[0]), ru(u.ne[0]);
  for (int64_t i3 = 0; i3 < g.ne[3]; ++i3)
    for (int64_t i2 = 0; i2 < g.ne[2]; ++i2)
      for (int64_t i1 = 0; i1 < g.ne[1]; ++i1) {
        read_row(g, c.in[0], i1, i2, i3, rg.data());
        read_row(u, c.in[1], i1, i2, i3, ru.data());
        for (int64_t i0 = 0; i0 < g.ne[0]; ++i0)
          rg[i0] = static_cast<float>((c.op == TSR_OP_GEGLU ? gelu_tanh(rg[i0]) : silu(rg[i0])) * ru[i0]);
        write_row(c.out_desc, c.out, i1, i2, i3, rg.data());
      }
  return Status::ok();
}

}  // namespace tsr::ops::impl
