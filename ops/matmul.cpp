// matmul(w [K, M, B2w, B3w], x [K, N, B2, B3]) -> f32 [M, N, B2, B3].
// Every w row is decoded to float once per batch (block formats through the
// dtype's to_float), dot products are accumulated in double.
#include <algorithm>
#include <vector>

#include "ops/op_impl.h"
#include "ops/ref_util.h"

namespace tsr::ops::impl {

using namespace detail;

Result<TensorDesc> infer_matmul(const InferCall& c) {
  const TensorDesc& w = c.in[0];
  const TensorDesc& x = c.in[1];
  const DtypeTraits* wt = dtype_traits(w.dtype);
  if (!wt->is_float && (!wt->is_quantized || w.dtype == TSR_DTYPE_Q8_K))
    return invalid_arg("[{}] w must be f32, f16, bf16 or a block weight format (q4_0 ... q6_K), got {}",
                       c.name, desc_str(w));
  TSR_RETURN_IF_ERROR(expect_float(c.name, "x", x));
  if (w.ne[0] != x.ne[0])
    return invalid_arg("[{}] inner dims differ: w is {}, x is {}", c.name, shape_str(w), shape_str(x));
  for (int k = 2; k < TSR_MAX_DIMS; ++k) {
    // w broadcasts over x's batches; a zero-sized w batch cannot.
    if (w.ne[k] == 0 ? x.ne[k] != 0 : x.ne[k] % w.ne[k] != 0)
      return invalid_arg("[{}] batch dim {} of x ({}) is not a multiple of w's ({}): w is {}, x is {}",
                         c.name, k, x.ne[k], w.ne[k], shape_str(w), shape_str(x));
  }
  const int64_t ne[TSR_MAX_DIMS] = {w.ne[1], x.ne[1], x.ne[2], x.ne[3]};
  return make_output(c.name, TSR_DTYPE_F32, std::max(w.rank, x.rank), ne);
}

Status ref_matmul(const RefCall& c) {
  const TensorDesc& w = c.in_desc[0];
  const TensorDesc& x = c.in_desc[1];
  const TensorDesc& o = c.out_desc;
  const int64_t K = w.ne[0], M = w.ne[1], N = x.ne[1];
  std::vector<float> xs(N * K), wr(K), res(M * N);
  for (int64_t b3 = 0; b3 < x.ne[3]; ++b3)
    for (int64_t b2 = 0; b2 < x.ne[2]; ++b2) {
      // Consecutive x batches share one w batch (grouped-query attention:
      // query head h reads kv head h / (n_head / n_kv_head)).
      const int64_t w2 = b2 / (x.ne[2] / w.ne[2]);
      const int64_t w3 = b3 / (x.ne[3] / w.ne[3]);
      for (int64_t n = 0; n < N; ++n) read_row(x, c.in[1], n, b2, b3, xs.data() + n * K);
      for (int64_t m = 0; m < M; ++m) {
        read_row(w, c.in[0], m, w2, w3, wr.data());
        for (int64_t n = 0; n < N; ++n) {
          const float* xc = xs.data() + n * K;
          double acc = 0.0;
          for (int64_t k = 0; k < K; ++k) acc += static_cast<double>(wr[k]) * xc[k];
          res[n * M + m] = static_cast<float>(acc);
        }
      }
      for (int64_t n = 0; n < N; ++n) write_row(o, c.out, n, b2, b3, res.data() + n * M);
    }
  return Status::ok();
}

}  // namespace tsr::ops::impl
