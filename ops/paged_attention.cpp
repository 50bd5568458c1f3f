// paged_attention(q, k_pool, v_pool, pos, seq, block_table): causal attention
// of a flat batch of tokens from several sequences over a KV pool split into
// fixed-size blocks, each sequence's logical rows mapped through its row of
// the block table. The arithmetic is attention's (attention_ref.h); only the
// rows a token sees differ.
#include <algorithm>
#include <vector>

#include "ops/attention_ref.h"
#include "ops/op_impl.h"
#include "ops/ref_util.h"

namespace tsr::ops::impl {

using namespace detail;

Result<TensorDesc> infer_paged_attention(const InferCall& c) {
  TSR_RETURN_IF_ERROR(check_qkv(c));
  const TensorDesc& q = c.in[0];
  const TensorDesc& k = c.in[1];
  const TensorDesc& pos = c.in[3];
  const TensorDesc& seq = c.in[4];
  const TensorDesc& table = c.in[5];
  const int64_t bs = c.p.i[0], window = c.p.i[2];
  if (bs < 1 || k.ne[2] % bs != 0)
    return invalid_arg("[{}] block size (ip[0]) {} must be >= 1 and divide the pool's {} rows (k {})", c.name,
                       bs, k.ne[2], shape_str(k));
  if (c.p.i[1] != 0) return invalid_arg("[{}] ip[1] is reserved and must be 0, got {}", c.name, c.p.i[1]);
  if (window < 0) return invalid_arg("[{}] sliding window (ip[2]) = {} must be >= 0", c.name, window);
  for (const auto& [what, d] : {std::pair<const char*, const TensorDesc*>{"pos", &pos}, {"seq", &seq}}) {
    TSR_RETURN_IF_ERROR(expect_dtype(c.name, what, *d, TSR_DTYPE_I32));
    if (d->ne[0] != q.ne[2] || n_elements(*d) != d->ne[0])
      return invalid_arg("[{}] {} must be [n_tokens] = [{}] for q {}, got {}", c.name, what, q.ne[2],
                         shape_str(q), shape_str(*d));
  }
  TSR_RETURN_IF_ERROR(expect_dtype(c.name, "block_table", table, TSR_DTYPE_I32));
  if (table.ne[2] != 1 || table.ne[3] != 1 || table.ne[0] < 1 || table.ne[1] < 1)
    return invalid_arg("[{}] block_table must be [max_blocks >= 1, n_rows >= 1], got {}", c.name,
                       shape_str(table));
  const int64_t ne[TSR_MAX_DIMS] = {q.ne[0], q.ne[1], q.ne[2], 1};
  return make_output(c.name, TSR_DTYPE_F32, q.rank, ne);
}

Status ref_paged_attention(const RefCall& c) {
  const TensorDesc& q = c.in_desc[0];
  const TensorDesc& k = c.in_desc[1];
  const TensorDesc& table = c.in_desc[5];
  const int64_t D = q.ne[0], n_head = q.ne[1], n_tokens = q.ne[2];
  const int64_t bs = c.p.i[0], window = c.p.i[2], n_blocks = k.ne[2] / bs;
  const int64_t max_blocks = table.ne[0], n_rows = table.ne[1];
  std::vector<int64_t> rows;
  std::vector<float> orow(D);
  for (int64_t t = 0; t < n_tokens; ++t) {
    const int32_t p = read_i32(c.in_desc[3], c.in[3], t, 0, 0, 0);
    const int32_t s = read_i32(c.in_desc[4], c.in[4], t, 0, 0, 0);
    if (s < 0 || s >= n_rows)
      return invalid_arg("[{}] seq[{}] = {} is outside the block table's rows [0, {})", c.name, t, s, n_rows);
    if (p < 0 || p >= max_blocks * bs)
      return invalid_arg("[{}] pos[{}] = {} is outside [0, {}) ({} blocks of {} rows per sequence)", c.name,
                         t, p, max_blocks * bs, max_blocks, bs);
    rows.clear();
    for (int64_t j = window > 0 ? std::max<int64_t>(0, p - window + 1) : 0; j <= p; ++j) {
      const int32_t b = read_i32(table, c.in[5], j / bs, s, 0, 0);
      if (b < 0 || b >= n_blocks)
        return invalid_arg("[{}] block_table[{}, {}] = {} (token {}) is outside the pool's blocks [0, {})",
                           c.name, j / bs, s, b, t, n_blocks);
      rows.push_back(b * bs + j % bs);
    }
    for (int64_t h = 0; h < n_head; ++h) {
      attend_rows(c, t, h, rows, orow.data());
      write_row(c.out_desc, c.out, h, t, 0, orow.data());
    }
  }
  return Status::ok();
}

}  // namespace tsr::ops::impl
