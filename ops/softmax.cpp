// softmax over dim 0 of x * scale + mask. A row whose every entry is -inf
// (fully masked) gives zeros rather than 0/0 = NaN: nothing is attended to.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "ops/op_impl.h"
#include "ops/ref_util.h"

namespace tsr::ops::impl {

using namespace detail;

Result<TensorDesc> infer_softmax(const InferCall& c) {
  const TensorDesc& x = c.in[0];
  TSR_RETURN_IF_ERROR(expect_float(c.name, "x", x));
  if (!std::isfinite(c.p.f[0]))
    return invalid_arg("[{}] scale (fp[0]) must be finite, got {}", c.name, c.p.f[0]);
  if (c.n == 2) {
    const TensorDesc& m = c.in[1];
    if (m.dtype != TSR_DTYPE_F32 && m.dtype != TSR_DTYPE_F16)
      return invalid_arg("[{}] mask must be f32 or f16, got {}", c.name, desc_str(m));
    if (m.ne[0] != x.ne[0] || m.ne[1] < x.ne[1] || m.ne[2] != 1 || m.ne[3] != 1)
      return invalid_arg("[{}] mask must be [{}, >= {}, 1, 1] for x {}, got {}", c.name, x.ne[0], x.ne[1],
                         shape_str(x), shape_str(m));
  }
  return make_output(c.name, x.dtype, x.rank, x.ne);
}

Status ref_softmax(const RefCall& c) {
  const TensorDesc& x = c.in_desc[0];
  const bool has_mask = c.n == 2;
  const double scale = c.p.f[0] == 0.0f ? 1.0 : c.p.f[0];
  const int64_t n = x.ne[0];
  std::vector<float> r(n), m(has_mask ? n : 0);
  std::vector<double> v(n);
  for (int64_t i3 = 0; i3 < x.ne[3]; ++i3)
    for (int64_t i2 = 0; i2 < x.ne[2]; ++i2)
      for (int64_t i1 = 0; i1 < x.ne[1]; ++i1) {
        read_row(x, c.in[0], i1, i2, i3, r.data());
        if (has_mask) read_row(c.in_desc[1], c.in[1], i1, 0, 0, m.data());
        double vmax = -std::numeric_limits<double>::infinity();
        for (int64_t i = 0; i < n; ++i) {
          v[i] = r[i] * scale + (has_mask ? m[i] : 0.0);
          vmax = std::max(vmax, v[i]);
        }
        if (vmax == -std::numeric_limits<double>::infinity()) {
          for (float& o : r) o = 0.0f;
        } else {
          double sum = 0.0;
          for (int64_t i = 0; i < n; ++i) sum += v[i] = std::exp(v[i] - vmax);
          for (int64_t i = 0; i < n; ++i) r[i] = static_cast<float>(v[i] / sum);
        }
        write_row(c.out_desc, c.out, i1, i2, i3, r.data());
      }
  return Status::ok();
}

}  // namespace tsr::ops::impl
