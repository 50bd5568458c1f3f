// rms_norm and layer_norm over dim 0, without affine weights (a following mul
// and add apply them; core may fuse). Sums are accumulated in double.
#include <cmath>
#include <vector>

#include "ops/op_impl.h"
#include "ops/ref_util.h"

namespace tsr::ops::impl {

using namespace detail;

Result<TensorDesc> infer_norm(const InferCall& c) {
  const TensorDesc& x = c.in[0];
  TSR_RETURN_IF_ERROR(expect_float(c.name, "x", x));
  const float eps = c.p.f[0];
  if (!(eps >= 0.0f) || std::isinf(eps))
    return invalid_arg("[{}] eps (fp[0]) must be finite and >= 0, got {}", c.name, eps);
  return make_output(c.name, x.dtype, x.rank, x.ne);
}

Status ref_norm(const RefCall& c) {
  const TensorDesc& x = c.in_desc[0];
  const int64_t n = x.ne[0];
  const double eps = c.p.f[0];
  std::vector<float> r(n);
  for (int64_t i3 = 0; i3 < x.ne[3]; ++i3)
    for (int64_t i2 = 0; i2 < x.ne[2]; ++i2)
      for (int64_t i1 = 0; i1 < x.ne[1]; ++i1) {
        read_row(x, c.in[0], i1, i2, i3, r.data());
        double mean = 0.0;
        if (c.op == TSR_OP_LAYER_NORM) {
          for (float v : r) mean += v;
          mean /= static_cast<double>(n);
        }
        // rms_norm: mean of squares; layer_norm: variance about the mean.
        double sq = 0.0;
        for (float v : r) sq += (v - mean) * (v - mean);
        const double inv = 1.0 / std::sqrt(sq / static_cast<double>(n) + eps);
        for (float& v : r) v = static_cast<float>((v - mean) * inv);
        write_row(c.out_desc, c.out, i1, i2, i3, r.data());
      }
  return Status::ok();
}

}  // namespace tsr::ops::impl
