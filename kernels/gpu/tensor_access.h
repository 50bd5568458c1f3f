// Reading and writing tensor elements by dtype and byte strides, for every
// kernel in kernels/gpu. Dtype switches are uniform across a launch, so they
// cost a predictable branch, not divergence.
#pragma once

#include "kernels/gpu/gpu_runtime.h"

namespace tsr::gpu {

// tsr_dtype values (tessera_types.h) without including the C header in
// device code.
enum : int32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  kQ8_0 = 8,
  kI8 = 24,
  kI32 = 26,
  kBF16 = 30,
};

constexpr int kQK = 32;  // elements per q8_0 / q4_0 / q4_1 block

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

TSR_DEV uint16_t load_u16(const char* p) { return *reinterpret_cast<const uint16_t*>(p); }

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

// Element k (0..31) of the block at p, for q8_0, q4_0, q4_1 (GGUF layouts,
// core/quant.h).
TSR_DEV float block_elem(int32_t dtype, const char* p, int k) {
  const float d = f16_to_f32(load_u16(p));
  if (dtype == kQ8_0) return d * static_cast<float>(reinterpret_cast<const int8_t*>(p + 2)[k]);
  const int hdr = dtype == kQ4_1 ? 4 : 2;
  const uint8_t byte = reinterpret_cast<const uint8_t*>(p + hdr)[k % 16];
  const int q = k < 16 ? (byte & 0x0f) : (byte >> 4);
  if (dtype == kQ4_1) return static_cast<float>(q) * d + f16_to_f32(load_u16(p + 2));
  return static_cast<float>(q - 8) * d;
}

TSR_DEV int block_bytes(int32_t dtype) { return dtype == kQ8_0 ? 34 : dtype == kQ4_1 ? 20 : 18; }
TSR_DEV bool is_block(int32_t dtype) { return dtype == kQ8_0 || dtype == kQ4_0 || dtype == kQ4_1; }

// Element i0 of a row starting at byte `row`, any dtype (block formats have
// nb[0] = block bytes and 32 elements per block).
TSR_DEV float load_row_elem(const GpuTensor& t, int64_t row, int64_t i0) {
  if (is_block(t.dtype))
    return block_elem(t.dtype, cptr(t) + row + (i0 / kQK) * t.nb[0], static_cast<int>(i0 % kQK));
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
