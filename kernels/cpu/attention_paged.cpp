// paged_attention on the CPU: the portable attention loop (attention_rows.h)
// with each token's logical kv rows mapped through its sequence's row of the
// block table. Every integer input a token uses is checked before any task
// runs, so a bad block table is an error naming the token, never a read
// outside the pool.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "cpu/attention_rows.h"
#include "cpu/kernels.h"

namespace tsr::cpu {
namespace {

int32_t load_i32(const char* base, int64_t offset) {
  int32_t v;
  std::memcpy(&v, base + offset, 4);
  return v;
}

struct PagedRows {
  const NodePlan& p;
  int64_t bs, window;
  int32_t pos(int64_t t) const { return load_i32(p.in[3], t * p.node.inputs[3].nb[0]); }
  int32_t seq(int64_t t) const { return load_i32(p.in[4], t * p.node.inputs[4].nb[0]); }
  int32_t block(int64_t b, int32_t s) const {
    const auto& tb = p.node.inputs[5];
    return load_i32(p.in[5], b * tb.nb[0] + s * tb.nb[1]);
  }
  std::pair<int64_t, int64_t> range(int64_t t) const {
    const int64_t ps = pos(t);
    return {window > 0 ? std::max<int64_t>(0, ps - window + 1) : 0, ps + 1};
  }
  int64_t row(int64_t t, int64_t j) const { return int64_t{block(j / bs, seq(t))} * bs + j % bs; }
};

Status run(const NodePlan& p, const ExecCtx& ctx) {
  const auto& q = p.node.inputs[0];
  const auto& table = p.node.inputs[5];
  const int64_t D = q.ne[0], T = q.ne[2];
  const float scale =
      p.node.params.f[0] == 0.0f ? 1.0f / std::sqrt(static_cast<float>(D)) : p.node.params.f[0];
  const PagedRows rows{p, p.node.params.i[0], p.node.params.i[2]};
  const int64_t n_blocks = p.node.inputs[1].ne[2] / rows.bs, max_blocks = table.ne[0], n_rows = table.ne[1];
  for (int64_t t = 0; t < T; ++t) {
    const int32_t s = rows.seq(t), ps = rows.pos(t);
    if (s < 0 || s >= n_rows)
      return invalid_arg("[paged_attention] seq[{}] = {} is outside the block table's rows [0, {})", t, s,
                         n_rows);
    if (ps < 0 || ps >= max_blocks * rows.bs)
      return invalid_arg(
          "[paged_attention] pos[{}] = {} is outside [0, {}) ({} blocks of {} rows per sequence)", t, ps,
          max_blocks * rows.bs, max_blocks, rows.bs);
    const auto [first, end] = rows.range(t);
    for (int64_t b = first / rows.bs; b <= (end - 1) / rows.bs; ++b)
      if (const int32_t id = rows.block(b, s); id < 0 || id >= n_blocks)
        return invalid_arg(
            "[paged_attention] block_table[{}, {}] = {} (token {}) is outside the pool's blocks [0, {})", b,
            s, id, t, n_blocks);
  }
  attention_rows::attend(p, ctx, scale, rows);
  return Status::ok();
}

}  // namespace

bool supports_paged_attention(const tsr_node_desc& n, std::string& reason) {
  if (!supports_attention_qkv(n, reason)) return false;
  const int64_t T = n.inputs[0].ne[2], bs = n.params.i[0];
  if (bs < 1 || n.inputs[1].ne[2] % bs != 0) {
    reason = fmt::format("block size {} must be >= 1 and divide the pool's {} rows", bs, n.inputs[1].ne[2]);
    return false;
  }
  for (int i : {3, 4}) {
    const auto& d = n.inputs[i];
    if (d.dtype != TSR_DTYPE_I32 || d.ne[0] != T || d.ne[1] * d.ne[2] * d.ne[3] != 1) {
      reason = fmt::format("{} must be i32 [n_tokens]", i == 3 ? "pos" : "seq");
      return false;
    }
  }
  const auto& tb = n.inputs[5];
  if (tb.dtype != TSR_DTYPE_I32 || tb.ne[2] * tb.ne[3] != 1) {
    reason = "block_table must be i32 [max_blocks, n_rows]";
    return false;
  }
  return true;
}

Status plan_paged_attention(NodePlan& p) {
  p.run = run;
  p.scratch_per_thread = attention_rows::scratch_bytes(p.node);
  return Status::ok();
}

}  // namespace tsr::cpu
