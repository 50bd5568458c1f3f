#include "ops/ref_util.h"

#include <fmt/format.h>

#include <cstring>

namespace tsr::ops::detail {

void read_row(const TensorDesc& d, const void* base, int64_t i1, int64_t i2, int64_t i3, float* dst) {
  const DtypeTraits* t = dtype_traits(d.dtype);
  const uint8_t* row = unit_ptr(d, base, 0, i1, i2, i3);
  const int64_t n_units = d.ne[0] / t->block_size;
  if (d.nb[0] == t->block_bytes) {  // dense row: one call
    t->to_float(row, dst, d.ne[0]);
    return;
  }
  for (int64_t u = 0; u < n_units; ++u)
    t->to_float(row + u * d.nb[0], dst + u * t->block_size, t->block_size);
}

void write_row(const TensorDesc& d, void* base, int64_t i1, int64_t i2, int64_t i3, const float* src) {
  const DtypeTraits* t = dtype_traits(d.dtype);
  uint8_t* row = unit_ptr(d, base, 0, i1, i2, i3);
  const int64_t n_units = d.ne[0] / t->block_size;
  if (d.nb[0] == t->block_bytes) {
    t->from_float(src, row, d.ne[0]);
    return;
  }
  // Blocks are independent, so quantizing block by block equals quantizing
  // the dense row.
  for (int64_t u = 0; u < n_units; ++u)
    t->from_float(src + u * t->block_size, row + u * d.nb[0], t->block_size);
}

int32_t read_i32(const TensorDesc& d, const void* base, int64_t i0, int64_t i1, int64_t i2, int64_t i3) {
  int32_t v;
  std::memcpy(&v, unit_ptr(d, base, i0, i1, i2, i3), sizeof v);
  return v;
}

void copy_units(const TensorDesc& sd, const void* src, const TensorDesc& dd, void* dst) {
  if (src == dst && std::memcmp(sd.nb, dd.nb, sizeof sd.nb) == 0) return;  // already in place
  const DtypeTraits* t = dtype_traits(sd.dtype);
  const int64_t bs = t->block_size;
  for (int64_t i3 = 0; i3 < sd.ne[3]; ++i3)
    for (int64_t i2 = 0; i2 < sd.ne[2]; ++i2)
      for (int64_t i1 = 0; i1 < sd.ne[1]; ++i1)
        for (int64_t i0 = 0; i0 < sd.ne[0]; i0 += bs)
          std::memcpy(unit_ptr(dd, dst, i0, i1, i2, i3), unit_ptr(sd, src, i0, i1, i2, i3), t->block_bytes);
}

bool is_float_dtype(int32_t dtype) {
  const DtypeTraits* t = dtype_traits(dtype);
  return t && t->is_float;
}

Status expect_float(const char* op, const char* what, const TensorDesc& d) {
  if (is_float_dtype(d.dtype)) return Status::ok();
  return invalid_arg("[{}] {} must be f32, f16 or bf16, got {}", op, what, desc_str(d));
}

Status expect_dtype(const char* op, const char* what, const TensorDesc& d, int32_t dtype) {
  if (d.dtype == dtype) return Status::ok();
  return invalid_arg("[{}] {} must be {}, got {}", op, what, dtype_name(dtype), desc_str(d));
}

Status expect_same_shape(const char* op, const char* what_a, const TensorDesc& a, const char* what_b,
                         const TensorDesc& b) {
  if (same_shape(a, b)) return Status::ok();
  return invalid_arg("[{}] shapes differ: {} is {}, {} is {}", op, what_a, shape_str(a), what_b,
                     shape_str(b));
}

Result<TensorDesc> make_output(const char* op, int32_t dtype, int32_t rank, const int64_t* ne) {
  Result<TensorDesc> r = make_desc(dtype, rank, ne);
  if (r.is_ok()) return r;
  // make_desc speaks as "[tensor] ..."; callers want the op first.
  std::string msg = r.status().message();
  if (msg.rfind("[tensor] ", 0) == 0) msg.erase(0, 9);
  return invalid_arg("[{}] output: {}", op, msg);
}

int32_t dims_from_params(const int64_t* ip, int64_t* ne) {
  int32_t rank = 1;
  for (int i = 0; i < TSR_MAX_DIMS; ++i)
    if (ip[i] != 0 && ip[i] != 1) rank = i + 1;
  for (int i = 0; i < TSR_MAX_DIMS; ++i) ne[i] = i < rank ? ip[i] : 1;
  return rank;
}

std::string dims_str(const int64_t* ne, int rank) {
  std::string s = "[";
  for (int i = 0; i < rank; ++i) s += fmt::format("{}{}", i ? ", " : "", ne[i]);
  return s + "]";
}

}  // namespace tsr::ops::detail
