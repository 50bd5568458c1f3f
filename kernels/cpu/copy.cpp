// cpy (contiguous copy / cast, quantize and dequantize), concat, argmax.
#include <fmt/format.h>

#include <cstring>

#include "cpu/convert.h"
#include "cpu/kernels.h"
#include "cpu/thread_pool.h"
#include "tessera/kit/dtype.h"
#include "tessera/kit/tensor.h"

namespace tsr::cpu {
namespace {

// Bytes of a row whose dim 0 is contiguous.
inline int64_t row_bytes(const tsr_tensor_desc& d) {
  const DtypeTraits* t = dtype_traits(d.dtype);
  return d.ne[0] / t->block_size * t->block_bytes;
}

// Copies one row of the same dtype, de-striding scalar elements when needed.
inline void copy_row_same(const char* src, int64_t src_nb0, char* dst, int64_t dst_nb0,
                          const tsr_tensor_desc& d) {
  const DtypeTraits* t = dtype_traits(d.dtype);
  if (src_nb0 == t->block_bytes && dst_nb0 == t->block_bytes) {
    std::memcpy(dst, src, static_cast<size_t>(row_bytes(d)));
    return;
  }
  for (int64_t i = 0; i < d.ne[0] / t->block_size; ++i)
    std::memcpy(dst + i * dst_nb0, src + i * src_nb0, static_cast<size_t>(t->block_bytes));
}

Status run_cpy(const NodePlan& p, const ExecCtx& ctx) {
  const auto& x = p.node.inputs[0];
  const auto& o = p.node.output;
  const int64_t n = x.ne[0];
  const DtypeTraits* ot = dtype_traits(o.dtype);
  if (x.dtype == o.dtype && is_contiguous(x) && is_contiguous(o)) {
    const int64_t bytes = n_bytes_contiguous(x);
    constexpr int64_t kChunk = 1 << 16;
    ctx.pool->parallel_for((bytes + kChunk - 1) / kChunk, 1, [&](int64_t b, int64_t e, int) {
      const int64_t lo = b * kChunk, hi = std::min(bytes, e * kChunk);
      std::memcpy(p.out + lo, p.in[0] + lo, static_cast<size_t>(hi - lo));
    });
    return Status::ok();
  }
  ctx.pool->parallel_for(n_rows(x), 4, [&](int64_t begin, int64_t end, int tid) {
    float* buf = reinterpret_cast<float*>(p.thread_scratch(tid));
    for (int64_t r = begin; r < end; ++r) {
      const char* src = p.in[0] + row_offset(x, r);
      char* dst = p.out + row_offset(o, r);
      if (x.dtype == o.dtype) {
        copy_row_same(src, x.nb[0], dst, o.nb[0], x);
        continue;
      }
      load_row_any_f32(src, x.nb[0], x.dtype, n, buf);
      if (ot->block_size > 1)
        ot->from_float(buf, dst, n);  // core's codec: the reference's rounding
      else
        store_row_f32(buf, dst, o.nb[0], o.dtype, n);
    }
  });
  return Status::ok();
}

Status run_concat(const NodePlan& p, const ExecCtx& ctx) {
  const auto& a = p.node.inputs[0];
  const auto& b = p.node.inputs[1];
  const auto& o = p.node.output;
  const int dim = static_cast<int>(p.node.params.i[0]);
  ctx.pool->parallel_for(n_rows(o), 8, [&](int64_t begin, int64_t end, int) {
    for (int64_t r = begin; r < end; ++r) {
      int64_t idx[4] = {0, r % o.ne[1], (r / o.ne[1]) % o.ne[2], r / (o.ne[1] * o.ne[2])};
      char* dst = p.out + idx[1] * o.nb[1] + idx[2] * o.nb[2] + idx[3] * o.nb[3];
      if (dim == 0) {
        copy_row_same(p.in[0] + byte_offset(a, 0, idx[1], idx[2], idx[3]), a.nb[0], dst, o.nb[0], a);
        const DtypeTraits* t = dtype_traits(o.dtype);
        copy_row_same(p.in[1] + byte_offset(b, 0, idx[1], idx[2], idx[3]), b.nb[0],
                      dst + a.ne[0] / t->block_size * o.nb[0], o.nb[0], b);
        continue;
      }
      const bool from_a = idx[dim] < a.ne[dim];
      if (!from_a) idx[dim] -= a.ne[dim];
      const auto& s = from_a ? a : b;
      copy_row_same(p.in[from_a ? 0 : 1] + byte_offset(s, 0, idx[1], idx[2], idx[3]), s.nb[0], dst, o.nb[0],
                    s);
    }
  });
  return Status::ok();
}

Status run_argmax(const NodePlan& p, const ExecCtx& ctx) {
  const auto& x = p.node.inputs[0];
  const auto& o = p.node.output;
  const int64_t n = x.ne[0];
  ctx.pool->parallel_for(n_rows(x), 1, [&](int64_t begin, int64_t end, int tid) {
    float* buf = reinterpret_cast<float*>(p.thread_scratch(tid));
    for (int64_t r = begin; r < end; ++r) {
      load_row_f32(p.in[0] + row_offset(x, r), x.nb[0], x.dtype, n, buf);
      int32_t best = 0;
      for (int64_t i = 1; i < n; ++i)
        if (buf[i] > buf[best] || (buf[best] != buf[best] && buf[i] == buf[i]))
          best = static_cast<int32_t>(i);
      const int64_t i1 = r % x.ne[1], i2 = (r / x.ne[1]) % x.ne[2], i3 = r / (x.ne[1] * x.ne[2]);
      std::memcpy(p.out + i1 * o.nb[0] + i2 * o.nb[1] + i3 * o.nb[2], &best, 4);
    }
  });
  return Status::ok();
}

bool supports_cpy(const tsr_node_desc& n, std::string& reason) {
  const auto& x = n.inputs[0];
  const auto& o = n.output;
  if (n.params.i[0] != o.dtype) {
    reason = fmt::format("output dtype {} differs from ip[0] {}", dtype_name(o.dtype), n.params.i[0]);
    return false;
  }
  if (!same_shape_desc(x, o)) {
    reason = "output shape differs from input";
    return false;
  }
  if (x.dtype != o.dtype) {
    const DtypeTraits* xt = dtype_traits(x.dtype);
    const DtypeTraits* ot = dtype_traits(o.dtype);
    if (!xt->to_float || !(is_float_dtype(o.dtype) || (ot->is_quantized && ot->from_float))) {
      reason = fmt::format("cast {} -> {}", xt->name, ot->name);
      return false;
    }
  }
  return check_out_rows(o, reason);
}

bool supports_concat(const tsr_node_desc& n, std::string& reason) {
  const auto& a = n.inputs[0];
  const auto& b = n.inputs[1];
  const auto& o = n.output;
  const int64_t dim = n.params.i[0];
  if (dim < 0 || dim >= TSR_MAX_DIMS) {
    reason = fmt::format("concat dim {}", dim);
    return false;
  }
  if (a.dtype != b.dtype || o.dtype != a.dtype) {
    reason = "dtypes differ";
    return false;
  }
  for (int d = 0; d < TSR_MAX_DIMS; ++d) {
    const int64_t want = d == dim ? a.ne[d] + b.ne[d] : a.ne[d];
    if ((d != dim && b.ne[d] != a.ne[d]) || o.ne[d] != want) {
      reason = fmt::format("shapes differ in dim {}", d);
      return false;
    }
  }
  return check_out_rows(o, reason);
}

bool supports_argmax(const tsr_node_desc& n, std::string& reason) {
  const auto& x = n.inputs[0];
  const auto& o = n.output;
  if (!is_float_dtype(x.dtype)) {
    reason = fmt::format("{} input", dtype_name(x.dtype));
    return false;
  }
  if (x.ne[0] < 1 || x.ne[0] > INT32_MAX) {
    reason = "dim 0 must hold 1..2^31-1 elements";
    return false;
  }
  if (o.dtype != TSR_DTYPE_I32 || o.ne[0] != x.ne[1] || o.ne[1] != x.ne[2] || o.ne[2] != x.ne[3] ||
      o.ne[3] != 1) {
    reason = "output must be i32 [ne1, ne2, ne3, 1]";
    return false;
  }
  return true;
}

}  // namespace

bool supports_copy(const tsr_node_desc& n, std::string& reason) {
  switch (n.op) {
    case TSR_OP_CPY:
      return supports_cpy(n, reason);
    case TSR_OP_CONCAT:
      return supports_concat(n, reason);
    default:
      return supports_argmax(n, reason);
  }
}

Status plan_copy(NodePlan& p) {
  switch (p.node.op) {
    case TSR_OP_CPY:
      p.run = run_cpy;
      p.scratch_per_thread = static_cast<size_t>(p.node.inputs[0].ne[0]) * sizeof(float);
      break;
    case TSR_OP_CONCAT:
      p.run = run_concat;
      break;
    default:
      p.run = run_argmax;
      p.scratch_per_thread = static_cast<size_t>(p.node.inputs[0].ne[0]) * sizeof(float);
      break;
  }
  return Status::ok();
}

}  // namespace tsr::cpu
