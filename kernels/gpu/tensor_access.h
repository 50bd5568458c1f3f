// Reading and writing tensor elements by dtype and byte strides, for every
// kernel in kernels/gpu. Dtype switches are uniform across a launch, so they
// cost a predictable branch, not divergence.
#pragma once

#include "gpu/block_formats.h"

namespace tsr::gpu {

TSR_DEV const char* cptr(const GpuTensor& t) { return reinterpret_cast<const char*>(t.ptr); }
TSR_DEV char* mptr(const GpuTensor& t) { return reinterpret_cast<char*>(t.ptr); }

TSR_DEV int64_t offset_of(const GpuTensor& t, int64_t i0, int64_t i1, int64_t i2, int64_t i3) {
  return i0 * t.nb[0] + i1 * t.nb[1] + i2 * t.nb[2] + i3 * t.nb[3];
}

// Coordinates of flat index i over ne (dim 0 fastest).
TSR_DEV void unflatten(int64_t i, const int64_t* ne, int64_t* c) {
  c[0] = i % ne[0];
  i /= ne[0];
  c[1] = i % ne[1];
  i /= ne[1];
  c[2] = i % ne[2];
  c[3] = i / ne[2];
}

// A float-like element (f32, f16, bf16, i32) at byte offset off.
TSR_DEV float load_f(const GpuTensor& t, int64_t off) {
  const char* p = cptr(t) + off;
  switch (t.dtype) {
    case kF16:
      return f16_to_f32(load_u16(p));
    case kBF16:
      return bf16_to_f32(load_u16(p));
    case kI32:
      return static_cast<float>(*reinterpret_cast<const int32_t*>(p));
    default:
      return *reinterpret_cast<const float*>(p);
  }
}

TSR_DEV void store_f(const GpuTensor& t, int64_t off, float v) {
  char* p = mptr(t) + off;
  switch (t.dtype) {
    case kF16:
      *reinterpret_cast<uint16_t*>(p) = f32_to_f16(v);
      break;
    case kBF16:
      *reinterpret_cast<uint16_t*>(p) = f32_to_bf16(v);
      break;
    default:
      *reinterpret_cast<float*>(p) = v;
  }
}

TSR_DEV int32_t load_i32(const GpuTensor& t, int64_t off) {
  return *reinterpret_cast<const int32_t*>(cptr(t) + off);
}

// Element i0 of a row starting at byte `row`, any dtype (block formats have
// nb[0] = block bytes, block_formats.h).
TSR_DEV float load_row_elem(const GpuTensor& t, int64_t row, int64_t i0) {
  const int be = block_elems(t.dtype);
  if (be > 1) return block_elem(t.dtype, cptr(t) + row + (i0 / be) * t.nb[0], static_cast<int>(i0 % be));
  return load_f(t, row + i0 * t.nb[0]);
}

// Element (c0, c1, c2, c3) of a tensor of any readable dtype.
TSR_DEV float load_any(const GpuTensor& t, int64_t c0, int64_t c1, int64_t c2, int64_t c3) {
  return load_row_elem(t, c1 * t.nb[1] + c2 * t.nb[2] + c3 * t.nb[3], c0);
}

// The flat index of this thread over a 1-D launch spread on grid x and y.
TSR_DEV int64_t flat_thread() {
  return (static_cast<int64_t>(block_y()) * grid_x() + block_x()) * block_dim() + thread_x();
}

// The flat index of this block (one block per row kernels).
TSR_DEV int64_t flat_block() { return static_cast<int64_t>(block_y()) * grid_x() + block_x(); }

}  // namespace tsr::gpu
