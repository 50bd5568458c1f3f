// Helpers shared by the op families: reading and writing rows of any dtype as
// float through the dtype traits table (honouring strides, so views and
// broadcasts need no special case), and the small checks every infer repeats.
// Internal to ops/.
#pragma once

#include <cstdint>
#include <string>

#include "tessera/kit/dtype.h"
#include "tessera/kit/status.h"
#include "tessera/kit/tensor.h"

namespace tsr::ops::detail {

// ---- memory access --------------------------------------------------------

// Address of the element or block holding element (i0, i1, i2, i3). For block
// formats i0 is an element index and must be a multiple of the block size.
inline const uint8_t* unit_ptr(const TensorDesc& d, const void* base, int64_t i0, int64_t i1, int64_t i2,
                               int64_t i3) {
  const int64_t bs = dtype_traits(d.dtype)->block_size;
  return static_cast<const uint8_t*>(base) + (i0 / bs) * d.nb[0] + i1 * d.nb[1] + i2 * d.nb[2] + i3 * d.nb[3];
}
inline uint8_t* unit_ptr(const TensorDesc& d, void* base, int64_t i0, int64_t i1, int64_t i2, int64_t i3) {
  return const_cast<uint8_t*>(unit_ptr(d, static_cast<const void*>(base), i0, i1, i2, i3));
}

// Reads the ne[0] elements of row (i1, i2, i3) of d as float into dst.
void read_row(const TensorDesc& d, const void* base, int64_t i1, int64_t i2, int64_t i3, float* dst);
// Writes ne[0] floats into row (i1, i2, i3) of d; block formats are quantized
// block by block through the dtype's from_float. d's dtype must have one.
void write_row(const TensorDesc& d, void* base, int64_t i1, int64_t i2, int64_t i3, const float* src);
// Reads one i32 element (ids, positions).
int32_t read_i32(const TensorDesc& d, const void* base, int64_t i0, int64_t i1, int64_t i2, int64_t i3);
// Copies every element (or block) of src into dst without conversion. Same
// dtype and shape, any strides; the two must not overlap unless identical.
void copy_units(const TensorDesc& src_desc, const void* src, const TensorDesc& dst_desc, void* dst);

// ---- inference helpers ----------------------------------------------------

bool is_float_dtype(int32_t dtype);
// "[op] <what> must be f32, f16 or bf16, got q8_0 [32, 4]".
Status expect_float(const char* op, const char* what, const TensorDesc& d);
Status expect_dtype(const char* op, const char* what, const TensorDesc& d, int32_t dtype);
Status expect_same_shape(const char* op, const char* what_a, const TensorDesc& a, const char* what_b,
                         const TensorDesc& b);
// Contiguous output descriptor; make_desc's message is re-prefixed with op.
Result<TensorDesc> make_output(const char* op, int32_t dtype, int32_t rank, const int64_t* ne);
// ne[0..3] from ip[0..3]. Unused entries may be 0 (the tsr_op_params
// default) or 1 (what the C++ wrapper writes): trailing 0s and 1s are dims of
// size 1 past the rank; rank is at least 1. A zero dim inside the rank stays 0.
int32_t dims_from_params(const int64_t* ip, int64_t* ne);
// "[4, 576]" for ip-given dims (rank entries).
std::string dims_str(const int64_t* ne, int rank);

}  // namespace tsr::ops::detail

// Declares `TensorDesc var` from a Result<TensorDesc> expression, or returns
// its status from the enclosing function.
#define TSR_OPS_ASSIGN(var, expr)                            \
  auto var##_result_ = (expr);                               \
  if (!var##_result_.is_ok()) return var##_result_.status(); \
  const TensorDesc var = var##_result_.value()
