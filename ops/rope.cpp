// Rotary position embedding, normal (pairs 2i, 2i+1) and neox (pairs i,
// i + n_rot/2) modes. Angles are computed in double straight from the formula
// on tsr_op (no running product), so the reference carries no drift. Optional
// per-pair frequency factors divide the angles (Llama 3's rope_freqs).
#include <cmath>
#include <vector>

#include "ops/op_impl.h"
#include "ops/ref_util.h"

namespace tsr::ops::impl {

using namespace detail;

Result<TensorDesc> infer_rope(const InferCall& c) {
  const TensorDesc& x = c.in[0];
  const TensorDesc& pos = c.in[1];
  TSR_RETURN_IF_ERROR(expect_float(c.name, "x", x));
  TSR_RETURN_IF_ERROR(expect_dtype(c.name, "pos", pos, TSR_DTYPE_I32));
  if (x.ne[3] != 1)
    return invalid_arg("[{}] x must be [head_dim, n_head, n_tokens, 1], got {}", c.name, shape_str(x));
  if (pos.ne[0] != x.ne[2] || pos.ne[1] != 1 || pos.ne[2] != 1 || pos.ne[3] != 1)
    return invalid_arg("[{}] pos must be [n_tokens] = [{}] for x {}, got {}", c.name, x.ne[2], shape_str(x),
                       shape_str(pos));
  const int64_t n_rot = c.p.i[0];
  if (n_rot <= 0 || n_rot % 2 != 0 || n_rot > x.ne[0])
    return invalid_arg("[{}] n_rot (ip[0]) = {} must be even and in 2..head_dim = {}", c.name, n_rot,
                       x.ne[0]);
  const int64_t mode = c.p.i[1];
  if (mode != TSR_ROPE_NORMAL && mode != TSR_ROPE_NEOX)
    return invalid_arg("[{}] mode (ip[1]) = {} is neither normal ({}) nor neox ({})", c.name, mode,
                       static_cast<int>(TSR_ROPE_NORMAL), static_cast<int>(TSR_ROPE_NEOX));
  if (c.n == 3) {
    const TensorDesc& ff = c.in[2];
    TSR_RETURN_IF_ERROR(expect_dtype(c.name, "freq_factors", ff, TSR_DTYPE_F32));
    if (ff.ne[0] != n_rot / 2 || n_elements(ff) != ff.ne[0])
      return invalid_arg("[{}] freq_factors must be [n_rot / 2] = [{}], got {}", c.name, n_rot / 2,
                         shape_str(ff));
  }
  const float base = c.p.f[0], scale = c.p.f[1];
  if (!(base > 0.0f) || std::isinf(base))
    return invalid_arg("[{}] freq_base (fp[0]) must be finite and > 0, got {}", c.name, base);
  if (!std::isfinite(scale))
    return invalid_arg("[{}] freq_scale (fp[1]) must be finite, got {}", c.name, scale);
  return make_output(c.name, x.dtype, x.rank, x.ne);
}

Status ref_rope(const RefCall& c) {
  const TensorDesc& x = c.in_desc[0];
  const TensorDesc& pos = c.in_desc[1];
  const int64_t n_rot = c.p.i[0];
  const bool neox = c.p.i[1] == TSR_ROPE_NEOX;
  const double base = c.p.f[0];
  const double freq_scale = c.p.f[1] == 0.0f ? 1.0 : c.p.f[1];
  std::vector<float> r(x.ne[0]), ff(n_rot / 2, 1.0f);
  if (c.n == 3) read_row(c.in_desc[2], c.in[2], 0, 0, 0, ff.data());
  for (int64_t t = 0; t < x.ne[2]; ++t) {
    const double p = read_i32(pos, c.in[1], t, 0, 0, 0);
    for (int64_t h = 0; h < x.ne[1]; ++h) {
      read_row(x, c.in[0], h, t, 0, r.data());
      for (int64_t i = 0; i < n_rot / 2; ++i) {
        const double theta = p * freq_scale * std::pow(base, -2.0 * static_cast<double>(i) / n_rot) / ff[i];
        const int64_t j0 = neox ? i : 2 * i;
        const int64_t j1 = neox ? i + n_rot / 2 : 2 * i + 1;
        const double x0 = r[j0], x1 = r[j1];
        r[j0] = static_cast<float>(x0 * std::cos(theta) - x1 * std::sin(theta));
        r[j1] = static_cast<float>(x0 * std::sin(theta) + x1 * std::cos(theta));
      }
      write_row(c.out_desc, c.out, h, t, 0, r.data());
    }
  }
  return Status::ok();
}

}  // namespace tsr::ops::impl
