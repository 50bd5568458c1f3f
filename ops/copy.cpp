// cpy (cast / make contiguous, quantize and dequantize), concat and argmax.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "ops/op_impl.h"
#include "ops/ref_util.h"

namespace tsr::ops::impl {

using namespace detail;

Result<TensorDesc> infer_cpy(const InferCall& c) {
  const TensorDesc& x = c.in[0];
  const int64_t to = c.p.i[0];
  const DtypeTraits* tt = to >= 0 && to < TSR_DTYPE_COUNT ? dtype_traits(static_cast<int32_t>(to)) : nullptr;
  if (!tt) return invalid_arg("[{}] target dtype (ip[0]) {} is not a dtype", c.name, to);
  if (to != x.dtype) {  // a conversion goes through float
    if (!dtype_traits(x.dtype)->to_float)
      return invalid_arg("[{}] cannot convert {} to {}", c.name, desc_str(x), tt->name);
    if (!tt->from_float)
      return invalid_arg("[{}] cannot convert {} to {}: {} cannot be produced from float", c.name,
                         desc_str(x), tt->name, tt->name);
    if (x.ne[0] % tt->block_size != 0)
      return invalid_arg("[{}] cannot store {} as {}: dim 0 = {} is not a multiple of the block size {}",
                         c.name, desc_str(x), tt->name, x.ne[0], tt->block_size);
  }
  return make_output(c.name, static_cast<int32_t>(to), x.rank, x.ne);
}

Status ref_cpy(const RefCall& c) {
  const TensorDesc& x = c.in_desc[0];
  if (x.dtype == c.out_desc.dtype) {  // bit-exact, also for i32 and block formats
    copy_units(x, c.in[0], c.out_desc, c.out);
    return Status::ok();
  }
  std::vector<float> row(x.ne[0]);
  for (int64_t i3 = 0; i3 < x.ne[3]; ++i3)
    for (int64_t i2 = 0; i2 < x.ne[2]; ++i2)
      for (int64_t i1 = 0; i1 < x.ne[1]; ++i1) {
        read_row(x, c.in[0], i1, i2, i3, row.data());
        write_row(c.out_desc, c.out, i1, i2, i3, row.data());
      }
  return Status::ok();
}

Result<TensorDesc> infer_concat(const InferCall& c) {
  const TensorDesc& a = c.in[0];
  const TensorDesc& b = c.in[1];
  const int64_t dim = c.p.i[0];
  if (dim < 0 || dim >= TSR_MAX_DIMS) return invalid_arg("[{}] dim (ip[0]) = {} outside 0..3", c.name, dim);
  if (a.dtype != b.dtype)
    return invalid_arg("[{}] dtypes differ: a is {}, b is {}", c.name, desc_str(a), desc_str(b));
  int64_t ne[TSR_MAX_DIMS];
  for (int k = 0; k < TSR_MAX_DIMS; ++k) {
    if (k != dim && a.ne[k] != b.ne[k])
      return invalid_arg("[{}] dim {} differs: a is {}, b is {} (concat along dim {})", c.name, k,
                         shape_str(a), shape_str(b), dim);
    ne[k] = k == dim ? a.ne[k] + b.ne[k] : a.ne[k];
  }
  return make_output(c.name, a.dtype, std::max({a.rank, b.rank, static_cast<int32_t>(dim + 1)}), ne);
}

Status ref_concat(const RefCall& c) {
  const TensorDesc& a = c.in_desc[0];
  const TensorDesc& b = c.in_desc[1];
  const int dim = static_cast<int>(c.p.i[0]);
  // Each input goes into the part of the output it covers: a sub-view of out.
  TensorDesc part_a = c.out_desc, part_b = c.out_desc;
  std::copy(a.ne, a.ne + TSR_MAX_DIMS, part_a.ne);
  std::copy(b.ne, b.ne + TSR_MAX_DIMS, part_b.ne);
  int64_t start[TSR_MAX_DIMS] = {0, 0, 0, 0};
  start[dim] = a.ne[dim];
  uint8_t* out_b = unit_ptr(c.out_desc, c.out, start[0], start[1], start[2], start[3]);
  copy_units(a, c.in[0], part_a, c.out);
  copy_units(b, c.in[1], part_b, out_b);
  return Status::ok();
}

Result<TensorDesc> infer_argmax(const InferCall& c) {
  const TensorDesc& x = c.in[0];
  TSR_RETURN_IF_ERROR(expect_float(c.name, "x", x));
  if (x.ne[0] == 0) return invalid_arg("[{}] dim 0 of x {} is empty", c.name, shape_str(x));
  const int64_t ne[TSR_MAX_DIMS] = {x.ne[1], x.ne[2], x.ne[3], 1};
  return make_output(c.name, TSR_DTYPE_I32, std::max(1, x.rank - 1), ne);
}

Status ref_argmax(const RefCall& c) {
  const TensorDesc& x = c.in_desc[0];
  std::vector<float> row(x.ne[0]);
  for (int64_t i3 = 0; i3 < x.ne[3]; ++i3)
    for (int64_t i2 = 0; i2 < x.ne[2]; ++i2)
      for (int64_t i1 = 0; i1 < x.ne[1]; ++i1) {
        read_row(x, c.in[0], i1, i2, i3, row.data());
        // First maximum wins; NaN never compares greater, so it is skipped
        // (an all-NaN row gives 0).
        int32_t best = 0;
        for (int64_t i = 1; i < x.ne[0]; ++i)
          if (row[i] > row[best] || (std::isnan(row[best]) && !std::isnan(row[i])))
            best = static_cast<int32_t>(i);
        std::memcpy(unit_ptr(c.out_desc, c.out, i1, i2, i3, 0), &best, sizeof best);
      }
  return Status::ok();
}

}  // namespace tsr::ops::impl
