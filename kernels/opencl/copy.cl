// Moves data between tensors of any dtypes: cpy, concat, get_rows, set_rows
// (tessera/kit/copy_plan.h's protocol). Port of kernels/vulkan/copy.comp.
// One unit (an element, or a block of 32 or 256 elements when the
// destination is a block format) per work-item, 256 per workgroup. Slot 0 is
// the source, 6 the destination.
//   MODE (SPEC0): 0 convert through float (any readable source, block
//   formats included), 1 raw element copy (same dtype), 2 quantize a q8_0 /
//   q4_0 / q4_1 block, 3 raw block copy (same block format).
//   KU(0): units; KU(1): which tensor's shape is iterated (0 source, 6 dest).
//   KU(2): indirection: 0 none; 1 source row = ids[i1, i2, i3] (slot 1,
//   get_rows); 2 destination row = idx[i1, i2?, i3?] (slot 2, set_rows).

#define MODE SPEC0

#define MODE_CONVERT 0u
#define MODE_RAW 1u
#define MODE_QUANTIZE 2u
#define MODE_BLOCK 3u

// The quantizers follow the kit's quant.cpp rounding exactly: no contraction
// of a * b + c into one fma, which would round differently from it.
#pragma OPENCL FP_CONTRACT OFF

// Row id (i32) at (i0, i1, i2) of an index tensor with shape ne and strides nb
// at b; size-1 dims broadcast (set_rows' idx may be [n] for every batch).
inline int id_at_nb(__global const uchar *b, uint4 ne, uint4 nb, uint i0, uint i1, uint i2) {
  const uint byte = i0 * nb.x + (ne.y == 1u ? 0u : i1) * nb.y + (ne.z == 1u ? 0u : i2) * nb.z;
  return *(__global const int *)(b + byte);
}
#define id_at(t, i0, i1, i2) id_at_nb(TB(t), TNE(t), TNB(t), (i0), (i1), (i2))

inline void store_f16(__global uchar *b, uint byte, float v) {
  vstore_half_rte(v, 0, (__global half *)(b + byte));
}

// f32 and i32 elements are one 32-bit word (the others raw copies move, f16
// and bf16, one 16-bit word).
inline bool word_dtype(uint dt) { return dt == DT_F32 || dt == DT_I32; }

// Rounds half away from zero, as lround does. v - trunc(v) is exact, where
// copy.comp's sign(v) * floor(abs(v) + 0.5) rounds 0.49999997 up (its sum
// rounds to 1.0); this is kernels/gpu/copy.cu's round_away.
inline int round_away(float v) {
  const float t = trunc(v);
  const float f = v - t;
  return (int)t + (f >= 0.5f ? 1 : f <= -0.5f ? -1 : 0);
}

// Quantizes source elements src.x .. src.x + 31 of row (src.y, src.z, src.w)
// (the source: memory sb, dtype sdt, strides snb) into the block of the
// destination's dtype at byte db of dst. The divisions are IEEE-exact only
// where the device divides correctly rounded (PoCL does; OpenCL asks 2.5 ulp
// of others unless built with -cl-fp32-correctly-rounded-divide-sqrt).
inline void quantize_block(__global const uchar *sb, uint sdt, uint4 snb, uint4 src, __global uchar *dst,
                           uint db) {
  const uint dt = TTYPE(TOUT);
  float x[32];
#pragma unroll
  for (uint j = 0u; j < 32u; ++j) x[j] = load_any_nb(sb, sdt, snb, (uint4)(src.x + j, src.y, src.z, src.w));
  if (dt == DT_Q8_0) {
    float amax = 0.0f;
    for (uint j = 0u; j < 32u; ++j) amax = fmax(amax, fabs(x[j]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    store_f16(dst, db, d);
    for (uint j = 0u; j < 32u; ++j) dst[db + 2u + j] = (uchar)((uint)round_away(x[j] * id) & 0xffu);
  } else {
    float d, lo = 0.0f;
    if (dt == DT_Q4_0) {
      // The element of largest magnitude maps to -8 so the full nibble range is used.
      float amax = 0.0f, vmax = 0.0f;
      for (uint j = 0u; j < 32u; ++j)
        if (fabs(x[j]) > amax) {
          amax = fabs(x[j]);
          vmax = x[j];
        }
      d = vmax / -8.0f;
    } else {
      lo = x[0];
      float hi = x[0];
      for (uint j = 1u; j < 32u; ++j) {
        lo = fmin(lo, x[j]);
        hi = fmax(hi, x[j]);
      }
      d = (hi - lo) / 15.0f;
    }
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    const float bias = dt == DT_Q4_0 ? 8.5f : 0.5f;
    const uint qs = db + (dt == DT_Q4_0 ? 2u : 4u);
    store_f16(dst, db, d);
    if (dt == DT_Q4_1) store_f16(dst, db + 2u, lo);
    for (uint j = 0u; j < 16u; ++j) {
      const uint q0 = (uint)min(15, (int)((x[j] - lo) * id + bias));
      const uint q1 = (uint)min(15, (int)((x[j + 16u] - lo) * id + bias));
      dst[qs + j] = (uchar)(q0 | (q1 << 4));
    }
  }
}

__kernel __attribute__((reqd_work_group_size(256, 1, 1))) void tsr_main(TSR_ARGS) {
  const uint n = flat_group() * 256u + (uint)get_local_id(0);
  if (flat_group() >= N_GROUPS || n >= KU(0)) return;
  const bool blocks = MODE >= MODE_QUANTIZE;  // MODE_QUANTIZE or MODE_BLOCK
  // Iterate over units: a block counts its 32 or 256 elements along dim 0.
  const uint unit = blocks ? block_elems(TTYPE(TOUT)) : 1u;
  const uint it = KU(1);
  uint4 ne = TNE(it);
  ne.x /= unit;
  uint4 i = unflatten_ne(ne, n);
  i.x *= unit;
  uint4 s = i, d = i;
  if (KU(2) == 1u) {
    s = (uint4)(i.x, (uint)id_at(1, i.y, i.z, i.w), 0u, 0u);
    if (s.y >= TNE(0).y) return;  // out-of-range ids are refused by the graph builder's checks upstream
  } else if (KU(2) == 2u) {
    d = (uint4)(i.x, (uint)id_at(2, i.y, i.z, i.w), i.z, i.w);
    if (d.y >= TNE(TOUT).y) return;
  }
  __global const uchar *src = TB(0);
  __global uchar *dst = TB(TOUT);
  const uint4 snb = TNB(0), dnb = TNB(TOUT);
  if (MODE == MODE_CONVERT) {
    store_at(TOUT, d, load_any(0, s));
  } else if (MODE == MODE_RAW) {
    const uint sb = elem_byte(0, s.x, s.y, s.z, s.w), db = elem_byte(TOUT, d.x, d.y, d.z, d.w);
    if (word_dtype(TTYPE(0)))
      *(__global uint *)(dst + db) = *(__global const uint *)(src + sb);
    else
      *(__global ushort *)(dst + db) = *(__global const ushort *)(src + sb);
  } else {
    const uint db = (d.x / unit) * dnb.x + d.y * dnb.y + d.z * dnb.z + d.w * dnb.w;
    if (MODE == MODE_QUANTIZE) {
      quantize_block(src, TTYPE(0), snb, s, dst, db);
    } else {
      // Blocks start on 2-byte boundaries: copied as 16-bit words.
      const uint sb = (s.x / unit) * snb.x + s.y * snb.y + s.z * snb.z + s.w * snb.w;
      for (uint k = 0u; k < dnb.x; k += 2u)
        *(__global ushort *)(dst + db + k) = *(__global const ushort *)(src + sb + k);
    }
  }
}
