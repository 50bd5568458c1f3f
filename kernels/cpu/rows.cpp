// get_rows (embedding lookup, any table dtype including block formats) and
// set_rows (KV-cache writes, quantizing when the destination is a block
// format). Indices come from user data, so they are checked at execute and a
// bad one is an error naming the index, never an out-of-bounds access.
#include <fmt/format.h>

#include <cstring>

#include "cpu/convert.h"
#include "cpu/kernels.h"
#include "cpu/thread_pool.h"
#include "tessera/kit/dtype.h"
#include "tessera/kit/tensor.h"

namespace tsr::cpu {
namespace {

inline int32_t read_i32(const char* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

Status run_get_rows(const NodePlan& p, const ExecCtx& ctx) {
  const auto& t = p.node.inputs[0];
  const auto& ids = p.node.inputs[1];
  const auto& o = p.node.output;
  const int64_t n_ids = n_elements(ids);
  // ids [a, b, c] flattened; id i lives at (i % a, i / a % b, i / (a b)).
  auto id_ptr = [&](int64_t i) {
    const int64_t i0 = i % ids.ne[0], i1 = (i / ids.ne[0]) % ids.ne[1], i2 = i / (ids.ne[0] * ids.ne[1]);
    return p.in[1] + i0 * ids.nb[0] + i1 * ids.nb[1] + i2 * ids.nb[2];
  };
  for (int64_t i = 0; i < n_ids; ++i) {
    const int32_t id = read_i32(id_ptr(i));
    if (id < 0 || id >= t.ne[1])
      return invalid_arg("[get_rows] index {} at position {} out of range [0, {})", id, i, t.ne[1]);
  }
  ctx.pool->parallel_for(n_ids, 4, [&](int64_t begin, int64_t end, int) {
    for (int64_t i = begin; i < end; ++i) {
      const int32_t id = read_i32(id_ptr(i));
      const int64_t i1 = i % ids.ne[0], i2 = (i / ids.ne[0]) % ids.ne[1], i3 = i / (ids.ne[0] * ids.ne[1]);
      auto* dst = reinterpret_cast<float*>(p.out + i1 * o.nb[1] + i2 * o.nb[2] + i3 * o.nb[3]);
      load_row_any_f32(p.in[0] + id * t.nb[1], t.nb[0], t.dtype, t.ne[0], dst);
    }
  });
  return Status::ok();
}

Status run_set_rows(const NodePlan& p, const ExecCtx& ctx) {
  const auto& dst = p.node.inputs[0];
  const auto& src = p.node.inputs[1];
  const auto& idx = p.node.inputs[2];
  const auto& o = p.node.output;
  const int64_t n = src.ne[1];
  // The output is dst after the write; when core hands separate memory, start from a copy of dst.
  if (p.out != p.in[0]) std::memmove(p.out, p.in[0], static_cast<size_t>(n_bytes_spanned(dst)));
  // Validate, and detect duplicates: with one the writes run in order so the last one wins.
  auto* seen = reinterpret_cast<uint8_t*>(p.scratch);
  std::memset(seen, 0, static_cast<size_t>(dst.ne[1]));
  bool duplicates = false;
  for (int64_t i = 0; i < n; ++i) {
    const int32_t id = read_i32(p.in[2] + i * idx.nb[0]);
    if (id < 0 || id >= dst.ne[1])
      return invalid_arg("[set_rows] index {} at position {} out of range [0, {})", id, i, dst.ne[1]);
    duplicates |= seen[id] != 0;
    seen[id] = 1;
  }
  const DtypeTraits* dt = dtype_traits(o.dtype);
  const int64_t ne0 = src.ne[0];
  auto write_rows = [&](int64_t begin, int64_t end, int tid) {
    float* buf = reinterpret_cast<float*>(p.thread_scratch(tid));
    for (int64_t r = begin; r < end; ++r) {
      const int64_t i = r % n, b2 = (r / n) % src.ne[2], b3 = r / (n * src.ne[2]);
      const int32_t id = read_i32(p.in[2] + i * idx.nb[0]);
      char* drow = p.out + id * o.nb[1] + b2 * o.nb[2] + b3 * o.nb[3];
      load_row_f32(p.in[1] + i * src.nb[1] + b2 * src.nb[2] + b3 * src.nb[3], src.nb[0], src.dtype, ne0, buf);
      if (dt->block_size > 1)
        dt->from_float(buf, drow, ne0);  // core's codec: the same rounding as the reference
      else
        store_row_f32(buf, drow, o.nb[0], o.dtype, ne0);
    }
  };
  const int64_t total = n * src.ne[2] * src.ne[3];
  if (duplicates)
    write_rows(0, total, 0);
  else
    ctx.pool->parallel_for(total, 2, write_rows);
  return Status::ok();
}

bool supports_get_rows(const tsr_node_desc& n, std::string& reason) {
  const auto& t = n.inputs[0];
  const auto& ids = n.inputs[1];
  const auto& o = n.output;
  const DtypeTraits* tt = dtype_traits(t.dtype);
  if (!tt->to_float) {
    reason = fmt::format("{} table", tt->name);
    return false;
  }
  if (t.ne[2] != 1 || t.ne[3] != 1) {
    reason = "table must be [ne0, n_rows]";
    return false;
  }
  if (ids.dtype != TSR_DTYPE_I32 || ids.ne[3] != 1) {
    reason = "ids must be i32 [a, b, c]";
    return false;
  }
  if (o.dtype != TSR_DTYPE_F32 || o.ne[0] != t.ne[0] || o.ne[1] != ids.ne[0] || o.ne[2] != ids.ne[1] ||
      o.ne[3] != ids.ne[2]) {
    reason = "output must be f32 [ne0, a, b, c]";
    return false;
  }
  return check_out_rows(o, reason);
}

bool supports_set_rows(const tsr_node_desc& n, std::string& reason) {
  const auto& dst = n.inputs[0];
  const auto& src = n.inputs[1];
  const auto& idx = n.inputs[2];
  const auto& o = n.output;
  const DtypeTraits* dt = dtype_traits(dst.dtype);
  if (!is_float_dtype(dst.dtype) && !(dt->is_quantized && dt->from_float)) {
    reason = fmt::format("{} destination", dt->name);
    return false;
  }
  if (!is_float_dtype(src.dtype)) {
    reason = fmt::format("{} source", dtype_name(src.dtype));
    return false;
  }
  if (idx.dtype != TSR_DTYPE_I32 || idx.ne[0] != src.ne[1] || idx.ne[1] * idx.ne[2] * idx.ne[3] != 1) {
    reason = "idx must be i32 [n]";
    return false;
  }
  if (src.ne[0] != dst.ne[0] || src.ne[2] != dst.ne[2] || src.ne[3] != dst.ne[3]) {
    reason = "src and dst differ outside dim 1";
    return false;
  }
  if (o.dtype != dst.dtype || std::memcmp(o.ne, dst.ne, sizeof o.ne) != 0 ||
      std::memcmp(o.nb, dst.nb, sizeof o.nb) != 0) {
    reason = "output must alias dst (same dtype, shape and strides)";
    return false;
  }
  return check_out_rows(o, reason);
}

}  // namespace

bool supports_rows(const tsr_node_desc& n, std::string& reason) {
  return n.op == TSR_OP_GET_ROWS ? supports_get_rows(n, reason) : supports_set_rows(n, reason);
}

Status plan_rows(NodePlan& p) {
  if (p.node.op == TSR_OP_GET_ROWS) {
    p.run = run_get_rows;
    return Status::ok();
  }
  p.run = run_set_rows;
  p.scratch_shared = static_cast<size_t>(p.node.inputs[0].ne[1]);
  p.scratch_per_thread = static_cast<size_t>(p.node.inputs[1].ne[0]) * sizeof(float);
  return Status::ok();
}

}  // namespace tsr::cpu
