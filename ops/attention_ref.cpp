#include "ops/attention_ref.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "ops/ref_util.h"

namespace tsr::ops::impl {

using namespace detail;

Status check_qkv(const InferCall& c) {
  const TensorDesc& q = c.in[0];
  const TensorDesc& k = c.in[1];
  const TensorDesc& v = c.in[2];
  TSR_RETURN_IF_ERROR(expect_float(c.name, "q", q));
  for (const TensorDesc* d : {&k, &v})
    if (d->dtype != TSR_DTYPE_F32 && d->dtype != TSR_DTYPE_F16)
      return invalid_arg("[{}] {} must be f32 or f16, got {}", c.name, d == &k ? "k" : "v", desc_str(*d));
  if (q.ne[3] != 1 || k.ne[3] != 1)
    return invalid_arg(
        "[{}] q [D, n_head, n_tokens, 1] and k [D, n_kv_head, kv_size, 1] expected, got q {}, k {}", c.name,
        shape_str(q), shape_str(k));
  if (q.ne[0] != k.ne[0])
    return invalid_arg("[{}] head dims differ: q is {}, k is {}", c.name, shape_str(q), shape_str(k));
  TSR_RETURN_IF_ERROR(expect_same_shape(c.name, "k", k, "v", v));
  if (k.ne[1] == 0 || q.ne[1] % k.ne[1] != 0)
    return invalid_arg("[{}] n_head {} is not a multiple of n_kv_head {}: q is {}, k is {}", c.name, q.ne[1],
                       k.ne[1], shape_str(q), shape_str(k));
  if (k.ne[2] == 0) return invalid_arg("[{}] kv_size is 0: k is {}", c.name, shape_str(k));
  if (!std::isfinite(c.p.f[0]))
    return invalid_arg("[{}] scale (fp[0]) must be finite, got {}", c.name, c.p.f[0]);
  return Status::ok();
}

void attend_rows(const RefCall& c, int64_t t, int64_t h, std::span<const int64_t> rows, float* out) {
  const TensorDesc& q = c.in_desc[0];
  const TensorDesc& k = c.in_desc[1];
  const TensorDesc& v = c.in_desc[2];
  const int64_t D = q.ne[0], kvh = h / (q.ne[1] / k.ne[1]);
  const double scale = c.p.f[0] == 0.0f ? 1.0 / std::sqrt(static_cast<double>(D)) : c.p.f[0];
  std::vector<float> qr(D), kr(D), vr(D);
  std::vector<double> s(rows.size()), acc(D, 0.0);
  read_row(q, c.in[0], h, t, 0, qr.data());
  double smax = -INFINITY;
  for (size_t j = 0; j < rows.size(); ++j) {
    read_row(k, c.in[1], kvh, rows[j], 0, kr.data());
    double dot = 0.0;
    for (int64_t d = 0; d < D; ++d) dot += static_cast<double>(qr[d]) * kr[d];
    s[j] = dot * scale;
    smax = std::max(smax, s[j]);
  }
  double sum = 0.0;  // 0 only when no row is visible: output zeros
  for (double& x : s) sum += x = std::exp(x - smax);
  for (size_t j = 0; j < rows.size(); ++j) {
    read_row(v, c.in[2], kvh, rows[j], 0, vr.data());
    for (int64_t d = 0; d < D; ++d) acc[d] += s[j] / sum * vr[d];
  }
  for (int64_t d = 0; d < D; ++d) out[d] = static_cast<float>(acc[d]);
}

}  // namespace tsr::ops::impl
