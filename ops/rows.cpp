// get_rows (embedding lookup from a table of any dtype) and set_rows (writing
// rows into a KV cache, quantizing when the cache is a block format). Ids are
// validated before anything is written, so a bad id leaves the output as it was.
#include <algorithm>
#include <vector>

#include "ops/op_impl.h"
#include "ops/ref_util.h"

namespace tsr::ops::impl {

using namespace detail;

Result<TensorDesc> infer_get_rows(const InferCall& c) {
  const TensorDesc& table = c.in[0];
  const TensorDesc& ids = c.in[1];
  if (!dtype_traits(table.dtype)->to_float)
    return invalid_arg("[{}] table dtype cannot be read as float: {}", c.name, desc_str(table));
  TSR_RETURN_IF_ERROR(expect_dtype(c.name, "ids", ids, TSR_DTYPE_I32));
  if (table.ne[2] != 1 || table.ne[3] != 1)
    return invalid_arg("[{}] table must be [ne0, n_rows], got {}", c.name, shape_str(table));
  if (ids.ne[3] != 1) return invalid_arg("[{}] ids must have at most 3 dims, got {}", c.name, shape_str(ids));
  const int64_t ne[TSR_MAX_DIMS] = {table.ne[0], ids.ne[0], ids.ne[1], ids.ne[2]};
  return make_output(c.name, TSR_DTYPE_F32, std::min(ids.rank + 1, TSR_MAX_DIMS), ne);
}

Status ref_get_rows(const RefCall& c) {
  const TensorDesc& table = c.in_desc[0];
  const TensorDesc& ids = c.in_desc[1];
  const int64_t n_rows = table.ne[1];
  for (int64_t i2 = 0; i2 < ids.ne[2]; ++i2)
    for (int64_t i1 = 0; i1 < ids.ne[1]; ++i1)
      for (int64_t i0 = 0; i0 < ids.ne[0]; ++i0) {
        const int32_t id = read_i32(ids, c.in[1], i0, i1, i2, 0);
        if (id < 0 || id >= n_rows)
          return invalid_arg("[{}] id {} at ids[{}, {}, {}] outside [0, {}) of table {}", c.name, id, i0, i1,
                             i2, n_rows, desc_str(table));
      }
  std::vector<float> row(table.ne[0]);
  for (int64_t i2 = 0; i2 < ids.ne[2]; ++i2)
    for (int64_t i1 = 0; i1 < ids.ne[1]; ++i1)
      for (int64_t i0 = 0; i0 < ids.ne[0]; ++i0) {
        read_row(table, c.in[0], read_i32(ids, c.in[1], i0, i1, i2, 0), 0, 0, row.data());
        write_row(c.out_desc, c.out, i0, i1, i2, row.data());
      }
  return Status::ok();
}

Result<TensorDesc> infer_set_rows(const InferCall& c) {
  const TensorDesc& dst = c.in[0];
  const TensorDesc& src = c.in[1];
  const TensorDesc& idx = c.in[2];
  if (!dtype_traits(dst.dtype)->from_float)
    return invalid_arg("[{}] dst dtype cannot be written from float: {}", c.name, desc_str(dst));
  TSR_RETURN_IF_ERROR(expect_float(c.name, "src", src));
  TSR_RETURN_IF_ERROR(expect_dtype(c.name, "idx", idx, TSR_DTYPE_I32));
  if (src.ne[0] != dst.ne[0] || src.ne[2] != dst.ne[2] || src.ne[3] != dst.ne[3])
    return invalid_arg("[{}] src {} does not fit dst {}: dims 0, 2 and 3 must be equal", c.name,
                       shape_str(src), shape_str(dst));
  // idx is [n], or [n, ne2, ne3] with per-batch ids; size-1 dims broadcast.
  if (idx.ne[0] != src.ne[1] || (idx.ne[1] != 1 && idx.ne[1] != src.ne[2]) ||
      (idx.ne[2] != 1 && idx.ne[2] != src.ne[3]) || idx.ne[3] != 1)
    return invalid_arg("[{}] idx must be [{}] (one id per src row) for src {}, got {}", c.name, src.ne[1],
                       shape_str(src), shape_str(idx));
  *c.view_offset = 0;
  return dst;  // the output is dst after the write
}

Status ref_set_rows(const RefCall& c) {
  const TensorDesc& dst = c.in_desc[0];
  const TensorDesc& src = c.in_desc[1];
  const TensorDesc& idx = c.in_desc[2];
  const int64_t n_rows = dst.ne[1];
  auto id_at = [&](int64_t i, int64_t i2, int64_t i3) {
    return read_i32(idx, c.in[2], i, idx.ne[1] == 1 ? 0 : i2, idx.ne[2] == 1 ? 0 : i3, 0);
  };
  for (int64_t i3 = 0; i3 < src.ne[3]; ++i3)
    for (int64_t i2 = 0; i2 < src.ne[2]; ++i2)
      for (int64_t i = 0; i < src.ne[1]; ++i)
        if (const int32_t id = id_at(i, i2, i3); id < 0 || id >= n_rows)
          return invalid_arg("[{}] idx {} for src row {} outside [0, {}) of dst {}", c.name, id, i, n_rows,
                             desc_str(dst));
  // Normally out is dst itself; when it is not, the result is a copy of dst
  // with the rows replaced.
  copy_units(dst, c.in[0], c.out_desc, c.out);
  std::vector<float> row(src.ne[0]);
  for (int64_t i3 = 0; i3 < src.ne[3]; ++i3)
    for (int64_t i2 = 0; i2 < src.ne[2]; ++i2)
      for (int64_t i = 0; i < src.ne[1]; ++i) {
        read_row(src, c.in[1], i, i2, i3, row.data());
        write_row(c.out_desc, c.out, id_at(i, i2, i3), i2, i3, row.data());
      }
  return Status::ok();
}

}  // namespace tsr::ops::impl
