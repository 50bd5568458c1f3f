// attention(q, k, v, pos): softmax(scale * q k^T) v per query head, with
// grouped-query heads, an optional causal mask by position and a valid kv
// length taken from a step parameter. Scores and sums in double.
#include <algorithm>
#include <cmath>
#include <vector>

#include "ops/attention_ref.h"
#include "ops/op_impl.h"
#include "ops/ref_util.h"

namespace tsr::ops::impl {

using namespace detail;

Result<TensorDesc> infer_attention(const InferCall& c) {
  TSR_RETURN_IF_ERROR(check_qkv(c));
  const TensorDesc& q = c.in[0];
  const int64_t causal = c.p.i[0], step_index = c.p.i[1];
  if (causal != 0 && causal != 1)
    return invalid_arg("[{}] causal (ip[0]) must be 0 or 1, got {}", c.name, causal);
  if (step_index < -1)
    return invalid_arg("[{}] kv length step index (ip[1]) must be >= 0 or -1, got {}", c.name, step_index);
  const int64_t window = c.p.i[2];
  if (window < 0 || (window > 0 && !causal))
    return invalid_arg("[{}] sliding window (ip[2]) = {} must be >= 0, and needs causal (ip[0] = {})", c.name,
                       window, causal);
  if (c.n == 4) {
    const TensorDesc& pos = c.in[3];
    TSR_RETURN_IF_ERROR(expect_dtype(c.name, "pos", pos, TSR_DTYPE_I32));
    if (pos.ne[0] != q.ne[2] || n_elements(pos) != pos.ne[0])
      return invalid_arg("[{}] pos must be [n_tokens] = [{}] for q {}, got {}", c.name, q.ne[2], shape_str(q),
                         shape_str(pos));
  } else if (causal) {
    return invalid_arg("[{}] causal attention needs pos (input 3); got {} inputs", c.name, c.n);
  }
  const int64_t ne[TSR_MAX_DIMS] = {q.ne[0], q.ne[1], q.ne[2], 1};
  return make_output(c.name, TSR_DTYPE_F32, q.rank, ne);
}

Status ref_attention(const RefCall& c) {
  const TensorDesc& q = c.in_desc[0];
  const TensorDesc& k = c.in_desc[1];
  const int64_t D = q.ne[0], n_head = q.ne[1], n_tokens = q.ne[2];
  const int64_t kv_size = k.ne[2];
  const bool causal = c.p.i[0] != 0;

  int64_t kv_len = kv_size;
  if (const int64_t si = c.p.i[1]; si >= 0) {
    const int32_t n_values = c.step ? c.step->n_values : 0;
    if (si >= n_values || !c.step->values)
      return invalid_arg("[{}] kv length step parameter {} is missing: the step has {} values", c.name, si,
                         n_values);
    kv_len = c.step->values[si];
  }
  if (kv_len < 1 || kv_len > kv_size)
    return invalid_arg("[{}] kv length {} outside [1, {}] (kv_size of k {})", c.name, kv_len, kv_size,
                       shape_str(k));
  // Query t sees kv rows [first[t], visible[t]).
  std::vector<int64_t> visible(n_tokens, kv_len), first(n_tokens, 0);
  const int64_t window = c.p.i[2];
  if (causal) {
    for (int64_t t = 0; t < n_tokens; ++t) {
      const int32_t p = read_i32(c.in_desc[3], c.in[3], t, 0, 0, 0);
      if (p < 0) return invalid_arg("[{}] pos[{}] = {} is negative", c.name, t, p);
      visible[t] = std::min<int64_t>(kv_len, int64_t{p} + 1);
      if (window > 0) first[t] = std::max<int64_t>(0, int64_t{p} - window + 1);
    }
  }

  std::vector<int64_t> rows;
  std::vector<float> orow(D);
  for (int64_t t = 0; t < n_tokens; ++t) {
    rows.clear();
    for (int64_t j = first[t]; j < visible[t]; ++j) rows.push_back(j);
    for (int64_t h = 0; h < n_head; ++h) {
      attend_rows(c, t, h, rows, orow.data());
      write_row(c.out_desc, c.out, h, t, 0, orow.data());
    }
  }
  return Status::ok();
}

}  // namespace tsr::ops::impl
