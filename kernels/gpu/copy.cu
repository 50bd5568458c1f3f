// Moves data between tensors of any dtypes: cpy, concat, get_rows, set_rows.
// One unit (an element, or a block when the destination is a block format)
// per thread. Slot 0 is the source, 6 the destination.
//   ku[0] units; ku[1] which tensor's shape is iterated (0 source, 6 dest);
//   ku[2] indirection: 0 none; 1 source row = ids[i1, i2, i3] (slot 1,
//   get_rows); 2 destination row = idx[i1, i2?, i3?] (slot 2, set_rows);
//   ku[3] mode: 0 convert through float (any readable source, block formats
//   included), 1 raw element copy, 2 quantize a q8_0 / q4_0 / q4_1 block, 3
//   raw block copy (any block format).
// Quantization follows the kit's quant.cpp's rounding exactly.
#include "gpu/tensor_access.h"

namespace tsr::gpu {

enum : int64_t { kConvert = 0, kRaw = 1, kQuantize = 2, kBlockCopy = 3 };

TSR_DEV int32_t id_at(const GpuTensor& t, int64_t i0, int64_t i1, int64_t i2) {
  // size-1 dims broadcast (set_rows' idx may be [n] for every batch)
  return load_i32(t, offset_of(t, i0, t.ne[1] == 1 ? 0 : i1, t.ne[2] == 1 ? 0 : i2, 0));
}

TSR_DEV void store_u16(char* p, float v) { *reinterpret_cast<uint16_t*>(p) = f32_to_f16(v); }

// Rounds half away from zero, as lround does; v - trunc(v) is exact, where
// floor(v + 0.5) would round 0.49999997 up.
TSR_DEV int round_away(float v) {
  const float t = truncf(v);
  const float f = v - t;
  return static_cast<int>(t) + (f >= 0.5f ? 1 : f <= -0.5f ? -1 : 0);
}

TSR_DEV void quantize_block(const GpuTensor& src, const int64_t* s, int32_t dt, char* dst) {
  float x[kQK];
  for (int j = 0; j < kQK; ++j) x[j] = load_any(src, s[0] + j, s[1], s[2], s[3]);
  if (dt == kQ8_0) {
    float amax = 0.0f;
    for (int j = 0; j < kQK; ++j) amax = fmaxf(amax, fabsf(x[j]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    store_u16(dst, d);
    for (int j = 0; j < kQK; ++j)
      reinterpret_cast<int8_t*>(dst + 2)[j] = static_cast<int8_t>(round_away(x[j] * id));
    return;
  }
  float d = 0.0f, lo = 0.0f;
  if (dt == kQ4_0) {
    float amax = 0.0f, vmax = 0.0f;
    for (int j = 0; j < kQK; ++j)
      if (fabsf(x[j]) > amax) {
        amax = fabsf(x[j]);
        vmax = x[j];
      }
    d = vmax / -8.0f;
  } else {
    lo = x[0];
    float hi = x[0];
    for (int j = 1; j < kQK; ++j) {
      lo = fminf(lo, x[j]);
      hi = fmaxf(hi, x[j]);
    }
    d = (hi - lo) / 15.0f;
  }
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  const float bias = dt == kQ4_0 ? 8.5f : 0.5f;
  store_u16(dst, d);
  if (dt == kQ4_1) store_u16(dst + 2, lo);
  uint8_t* qs = reinterpret_cast<uint8_t*>(dst + (dt == kQ4_0 ? 2 : 4));
  for (int j = 0; j < kQK / 2; ++j) {
    const int q0 = static_cast<int>((x[j] - lo) * id + bias);
    const int q1 = static_cast<int>((x[j + kQK / 2] - lo) * id + bias);
    qs[j] = static_cast<uint8_t>((q0 > 15 ? 15 : q0) | ((q1 > 15 ? 15 : q1) << 4));
  }
}

TSR_KERNEL(tsr_copy) {
  const int64_t n = flat_thread();
  if (n >= a.ku[0]) return;
  const int64_t mode = a.ku[3];
  const bool blocks = mode == kQuantize || mode == kBlockCopy;
  const GpuTensor& it = a.t[a.ku[1]];
  const GpuTensor& src = a.t[0];
  const GpuTensor& dst = a.t[kOutSlot];
  // A block unit is one block of the destination's format (the source's
  // too, for a block copy).
  const int unit = blocks ? block_elems(dst.dtype) : 1;
  int64_t ne[4] = {it.ne[0] / unit, it.ne[1], it.ne[2], it.ne[3]};
  int64_t i[4];
  unflatten(n, ne, i);
  i[0] *= unit;
  int64_t s[4] = {i[0], i[1], i[2], i[3]}, d[4] = {i[0], i[1], i[2], i[3]};
  if (a.ku[2] == 1) {
    s[1] = id_at(a.t[1], i[1], i[2], i[3]);
    s[2] = s[3] = 0;
    if (s[1] < 0 || s[1] >= src.ne[1]) return;  // the graph builder refuses such ids upstream
  } else if (a.ku[2] == 2) {
    d[1] = id_at(a.t[2], i[1], i[2], i[3]);
    if (d[1] < 0 || d[1] >= dst.ne[1]) return;
  }
  if (mode == kConvert) {
    store_f(dst, offset_of(dst, d[0], d[1], d[2], d[3]), load_any(src, s[0], s[1], s[2], s[3]));
    return;
  }
  if (mode == kRaw) {
    const char* sp = cptr(src) + offset_of(src, s[0], s[1], s[2], s[3]);
    char* dp = mptr(dst) + offset_of(dst, d[0], d[1], d[2], d[3]);
    if (src.dtype == kF32 || src.dtype == kI32)
      *reinterpret_cast<uint32_t*>(dp) = *reinterpret_cast<const uint32_t*>(sp);
    else
      *reinterpret_cast<uint16_t*>(dp) = *reinterpret_cast<const uint16_t*>(sp);
    return;
  }
  char* db = mptr(dst) + (d[0] / unit) * dst.nb[0] + d[1] * dst.nb[1] + d[2] * dst.nb[2] + d[3] * dst.nb[3];
  if (mode == kQuantize) {
    quantize_block(src, s, dst.dtype, db);
    return;
  }
  const char* sb =
      cptr(src) + (s[0] / unit) * src.nb[0] + s[1] * src.nb[1] + s[2] * src.nb[2] + s[3] * src.nb[3];
  for (int64_t k = 0; k < dst.nb[0]; k += 2)
    *reinterpret_cast<uint16_t*>(db + k) = *reinterpret_cast<const uint16_t*>(sb + k);
}

}  // namespace tsr::gpu
