// The GGUF block formats as the OpenCL kernels read them (port of
// kernels/vulkan/blocks.glsl; the host's layouts are tessera/kit/quant.h,
// kernels/gpu/block_formats.h the CUDA/HIP side), load_any (common.glsl's
// element read of any dtype) and, at the end, the weight and activation
// reads of the matmul kernels (kernels/vulkan/matmul_w.glsl). Built after
// common.cl, before the kernel's own file, into every kernel program; the
// functions no kernel calls cost nothing.
//
// Every format is read in 32-element chunks: a q8_0 / q4_0 / q4_1 / q5_0 /
// q5_1 block is one chunk, a k-quant super-block eight (chunk c covers
// elements 32c .. 32c + 31). read_chunk gives a chunk as 32 unsigned quant
// bytes and an affine map per 16 elements, value = d[h] * q + m[h], so the
// matmul kernels do their dot products on the bytes and apply the scales once
// per half (the 16-element sub-blocks of q2_K, q3_K and q6_K have a scale of
// their own; the others have the same d and m in both halves).
//
// Functions take the tensor's memory from element 0 (TB(t)) and a byte
// position in it. OpenCL is byte-addressable, so fields are read where they
// lie, without blocks.glsl's span of 32-bit words: blocks of 18, 22, 110 or
// 210 bytes leave every other block only 2-byte aligned, and every block and
// every multi-byte field in one starts on an even byte, so multi-byte fields
// are read as ushort (vloadn on ushort, vload_half: 2-byte alignment is all
// they need), never as a uint or uintn pointer that would claim 4 or 16.
// Words built from ushorts (as_uint, as_uint4) assume a little-endian device,
// as GGUF's layouts do (every OpenCL device in use is one).
//
// The dtype argument is a compile-time constant (a W_BLOCK or DT_SLOT define)
// in every caller, so the format branches fold away.

// Bytes of one block of dtype dt; 0 when dt is not a block format.
inline uint block_bytes(uint dt) {
  return dt == DT_Q8_0   ? 34u
         : dt == DT_Q4_0 ? 18u
         : dt == DT_Q4_1 ? 20u
         : dt == DT_Q5_0 ? 22u
         : dt == DT_Q5_1 ? 24u
         : dt == DT_Q2_K ? 84u
         : dt == DT_Q3_K ? 110u
         : dt == DT_Q4_K ? 144u
         : dt == DT_Q5_K ? 176u
         : dt == DT_Q6_K ? 210u
                         : 0u;
}
inline bool is_block_type(uint dt) { return block_bytes(dt) != 0u; }
// Elements per block: 256 for the k-quants, 32 for the other block formats.
inline uint block_elems(uint dt) { return dt >= DT_Q2_K && dt <= DT_Q6_K ? 256u : 32u; }

// One 32-element chunk: element e (0..31) is d[e / 16] * q + m[e / 16], q the
// unsigned byte e % 16 of q[e / 16] (byte j of a uint4 is byte j % 4 of word
// j / 4, least significant first).
typedef struct {
  float2 d, m;
  uint4 q[2];
} Chunk;

// Component i (0..3) of v. OpenCL C 1.2 has no subscript on vectors; every
// caller's i is a constant once its loop is unrolled, so this folds away.
inline uint u4_at(uint4 v, uint i) { return i == 0u ? v.x : i == 1u ? v.y : i == 2u ? v.z : v.w; }

// Byte `byte` of b, as a uint 0..255.
inline uint byte_at(__global const uchar *b, uint byte) { return (uint)b[byte]; }
// The 16-bit word at `byte` (even).
inline uint half_at(__global const uchar *b, uint byte) {
  return (uint)(*(__global const ushort *)(b + byte));
}
// The f16 at `byte` (even).
inline float half_float(__global const uchar *b, uint byte) { return f16_at(b, byte); }
// Bytes byte .. byte + 3 (byte even) as one word.
inline uint word_at(__global const uchar *b, uint byte) {
  return as_uint(vload2(0, (__global const ushort *)(b + byte)));
}
// Bytes byte .. byte + 15 (byte even) as four words.
inline uint4 words4_at(__global const uchar *b, uint byte) {
  return as_uint4(vload8(0, (__global const ushort *)(b + byte)));
}

// 32 quant bytes at `byte` (even).
inline void load_quants(__global const uchar *b, uint byte, uint4 *q) {
  const uint8 u = as_uint8(vload16(0, (__global const ushort *)(b + byte)));
  q[0] = u.lo;
  q[1] = u.hi;
}

// Bits 0..3 of each x to bit 0 of its bytes 0..3.
inline uint4 spread4(uint4 x) { return (x & 1u) | ((x & 2u) << 7) | ((x & 4u) << 14) | ((x & 8u) << 21); }

// Bits `shift` .. shift + width of every byte of q (shift + width <= 8), at bit 0.
inline void bit_field(uint4 *q, uint shift, uint width) {
  const uint m = ((1u << width) - 1u) * 0x01010101u;
  q[0] = (q[0] >> shift) & m;
  q[1] = (q[1] >> shift) & m;
}

// Sign-extended int8 scale bytes 0 and 1 of a 16-bit word, as floats.
inline float2 int8_pair(uint w) {
  return (float2)((float)as_char((uchar)(w & 0xffu)), (float)as_char((uchar)((w >> 8) & 0xffu)));
}

// Chunk c of the block of dtype dt at byte bb of b (c = 0 for the 32-element
// formats).
inline Chunk read_chunk(__global const uchar *b, uint dt, uint bb, uint c) {
  Chunk ch;
  if (dt == DT_Q8_0 || dt == DT_Q4_0 || dt == DT_Q4_1 || dt == DT_Q5_0 || dt == DT_Q5_1) {
    // q8_0: d, int8 qs[32], the sign bit flipped making q + 128. q4_0: d,
    // qs[16]; q4_1: d, m, qs[16]; q5_0: d, qh[4], qs[16]; q5_1: d, m, qh[4],
    // qs[16]: element j is the low nibble of qs[j], j + 16 the high one
    // (q5_at), and bit j of the little-endian qh word bit 4 of element j.
    const float d = half_float(b, bb);
    ch.d = (float2)(d);
    if (dt == DT_Q8_0) {
      ch.q[0] = words4_at(b, bb + 2u) ^ 0x80808080u;
      ch.q[1] = words4_at(b, bb + 18u) ^ 0x80808080u;
      ch.m = (float2)(-128.0f * d);
    } else {
      const bool has_min = dt == DT_Q4_1 || dt == DT_Q5_1;
      const bool five = dt == DT_Q5_0 || dt == DT_Q5_1;
      const uint qh_at = has_min ? 4u : 2u;
      const uint4 nib = words4_at(b, bb + qh_at + (five ? 4u : 0u));
      ch.q[0] = nib & 0x0f0f0f0fu;
      ch.q[1] = (nib >> 4) & 0x0f0f0f0fu;
      if (five) {
        const uint4 qh = (uint4)(word_at(b, bb + qh_at)) >> (uint4)(0u, 4u, 8u, 12u);
        ch.q[0] |= spread4(qh) << 4;
        ch.q[1] |= spread4(qh >> 16) << 4;
      }
      ch.m = (float2)(has_min ? half_float(b, bb + 2u) : (five ? -16.0f : -8.0f) * d);
    }
  } else if (dt == DT_Q2_K) {
    // scales[16] (per 16 elements: low nibble scale, high nibble min),
    // qs[64], d, dmin; q2k_q: bit pair c % 4 of qs[32 (c / 4) + l].
    load_quants(b, bb + 16u + 32u * (c / 4u), ch.q);
    bit_field(ch.q, 2u * (c % 4u), 2u);
    const uint sm = half_at(b, bb + 2u * c);  // sub-blocks 2c, 2c + 1
    ch.d = half_float(b, bb + 80u) * (float2)((float)(sm & 15u), (float)((sm >> 8) & 15u));
    ch.m = -half_float(b, bb + 82u) * (float2)((float)((sm >> 4) & 15u), (float)(sm >> 12));
  } else if (dt == DT_Q3_K) {
    // hmask[32], qs[64], scales[12], d; q3k_q: q2_K's bit pair, minus 4 where
    // bit c of hmask[l] is clear (so q + 4 has it as bit 2). q3k_scale of
    // sub-blocks 2c, 2c + 1: low nibbles c / 4 of bytes 2c % 8, + 1, top bit
    // pairs c / 2 of bytes 8 + 2c % 4, + 1.
    load_quants(b, bb + 32u + 32u * (c / 4u), ch.q);
    bit_field(ch.q, 2u * (c % 4u), 2u);
    uint4 hm[2];
    load_quants(b, bb, hm);
    bit_field(hm, c, 1u);
    ch.q[0] |= hm[0] << 2;
    ch.q[1] |= hm[1] << 2;
    const uint lo = half_at(b, bb + 96u + (2u * c) % 8u) >> (4u * (c / 4u));
    const uint hi = half_at(b, bb + 104u + (2u * c) % 4u) >> (2u * (c / 2u));
    const int2 sc = (int2)((int)((lo & 15u) | ((hi & 3u) << 4)),
                           (int)(((lo >> 8) & 15u) | (((hi >> 8) & 3u) << 4))) - 32;
    ch.d = half_float(b, bb + 108u) * convert_float2(sc);
    ch.m = -4.0f * ch.d;
  } else if (dt == DT_Q4_K || dt == DT_Q5_K) {
    // d, dmin, scales[12], (q5_K: qh[32],) qs[128]; q4k_q: nibble c % 2 of
    // qs[32 (c / 2) + l]; q5k_q adds bit c of qh[l] as bit 4.
    load_quants(b, bb + (dt == DT_Q5_K ? 48u : 16u) + 32u * (c / 2u), ch.q);
    bit_field(ch.q, 4u * (c % 2u), 4u);
    if (dt == DT_Q5_K) {
      uint4 qh[2];
      load_quants(b, bb + 16u, qh);
      bit_field(qh, c, 1u);
      ch.q[0] |= qh[0] << 4;
      ch.q[1] |= qh[1] << 4;
    }
    // k4_scale_min of sub-block c from scales bytes c % 4, + 4, + 8: c < 4
    // has its scale and min in the low 6 bits of the first two; c >= 4 their
    // low 4 bits in the nibbles of the third, top 2 bits in the first two's
    // spare top bits. (Loaded and selected without a branch: the work-items
    // of a matmul take different chunks.)
    const uint j = c % 4u;
    const uint b0 = byte_at(b, bb + 4u + j), b1 = byte_at(b, bb + 8u + j), b2 = byte_at(b, bb + 12u + j);
    const bool lo4 = c < 4u;
    const uint sc = lo4 ? b0 & 63u : (b2 & 15u) | ((b0 >> 6) << 4);
    const uint mn = lo4 ? b1 & 63u : (b2 >> 4) | ((b1 >> 6) << 4);
    const float2 dm = vload_half2(0, (__global const half *)(b + bb));  // d, dmin
    ch.d = (float2)(dm.x * (float)sc);
    ch.m = (float2)(-dm.y * (float)mn);
  } else if (dt == DT_Q6_K) {
    // ql[128], qh[64], int8 scales[16], d; q6k_q: half h = c / 4, t = c % 4:
    // nibble t / 2 of ql[64 h + 32 (t % 2) + l] and bits 2t, 2t + 1 of
    // qh[32 h + l] as bits 4, 5, minus 32.
    const uint h = c / 4u, tt = c % 4u;
    load_quants(b, bb + 64u * h + 32u * (tt % 2u), ch.q);
    bit_field(ch.q, 4u * (tt / 2u), 4u);
    uint4 qh[2];
    load_quants(b, bb + 128u + 32u * h, qh);
    bit_field(qh, 2u * tt, 2u);
    ch.q[0] |= qh[0] << 4;
    ch.q[1] |= qh[1] << 4;
    const uint sc = half_at(b, bb + 192u + 2u * c);  // int8 scales of sub-blocks 2c, 2c + 1
    ch.d = half_float(b, bb + 208u) * int8_pair(sc);
    ch.m = -32.0f * ch.d;
  } else {
    ch.d = ch.m = (float2)(0.0f);
    ch.q[0] = ch.q[1] = (uint4)(0u);
  }
  return ch;
}

// Chunks 2k and 2k + 1 of a q4_K / q5_K block at byte bb: they share the
// 32 quant bytes (low and high nibbles), q5_K's qh bytes and the scale
// bytes, so a matvec work-item that takes the pair reads each of those once.
// Scales as read_chunk's k4_scale_min; chunk c's bytes are byte c % 4 of
// scale words 0, 1 and 2.
inline void read_pair_k4(__global const uchar *b, uint dt, uint bb, uint k, Chunk *c0, Chunk *c1) {
  uint4 q[2];
  load_quants(b, bb + (dt == DT_Q5_K ? 48u : 16u) + 32u * k, q);
  c0->q[0] = q[0] & 0x0f0f0f0fu;
  c0->q[1] = q[1] & 0x0f0f0f0fu;
  c1->q[0] = (q[0] >> 4) & 0x0f0f0f0fu;
  c1->q[1] = (q[1] >> 4) & 0x0f0f0f0fu;
  if (dt == DT_Q5_K) {
    uint4 qh[2];
    load_quants(b, bb + 16u, qh);
    c0->q[0] |= ((qh[0] >> (2u * k)) & 0x01010101u) << 4;
    c0->q[1] |= ((qh[1] >> (2u * k)) & 0x01010101u) << 4;
    c1->q[0] |= ((qh[0] >> (2u * k + 1u)) & 0x01010101u) << 4;
    c1->q[1] |= ((qh[1] >> (2u * k + 1u)) & 0x01010101u) << 4;
  }
  const uint4 s = words4_at(b, bb);  // d, dmin, scales[12]
  const float2 dm = vload_half2(0, (__global const half *)(b + bb));
  const bool lo4 = k < 2u;
#pragma unroll
  for (uint i = 0; i < 2u; ++i) {
    const uint sh = 8u * ((2u * k + i) % 4u);
    const uint b0 = (s.y >> sh) & 255u, b1 = (s.z >> sh) & 255u, b2 = (s.w >> sh) & 255u;
    const uint sc = lo4 ? b0 & 63u : (b2 & 15u) | ((b0 >> 6) << 4);
    const uint mn = lo4 ? b1 & 63u : (b2 >> 4) | ((b1 >> 6) << 4);
    const float2 d = (float2)(dm.x * (float)sc), m = (float2)(-dm.y * (float)mn);
    if (i == 0u) {
      c0->d = d;
      c0->m = m;
    } else {
      c1->d = d;
      c1->m = m;
    }
  }
}

// q6_K's chunks c and c + 2 (c = 4h + tt, tt < 2) share their ql bytes
// (low and high nibbles) and their qh bytes (bit pairs tt and tt + 2): read
// as one pair, as read_chunk decodes each.
inline void read_pair_q6k(__global const uchar *b, uint bb, uint h, uint tt, Chunk *c0, Chunk *c1) {
  uint4 ql[2], qh[2];
  load_quants(b, bb + 64u * h + 32u * tt, ql);
  load_quants(b, bb + 128u + 32u * h, qh);
#pragma unroll
  for (uint i = 0; i < 2u; ++i) {
    c0->q[i] = (ql[i] & 0x0f0f0f0fu) | (((qh[i] >> (2u * tt)) & 0x03030303u) << 4);
    c1->q[i] = ((ql[i] >> 4) & 0x0f0f0f0fu) | (((qh[i] >> (2u * tt + 4u)) & 0x03030303u) << 4);
  }
  const float d = half_float(b, bb + 208u);
  const uint c = 4u * h + tt;
  const uint s0 = half_at(b, bb + 192u + 2u * c), s1 = half_at(b, bb + 192u + 2u * (c + 2u));
  c0->d = d * int8_pair(s0);
  c1->d = d * int8_pair(s1);
  c0->m = -32.0f * c0->d;
  c1->m = -32.0f * c1->d;
}

// Pair p (0..3) of a q4_K / q5_K / q6_K super-block at byte bb, as chunks
// c0 and c1 (pair_chunks gives their indices in the super-block).
inline void pair_chunks(uint dt, uint p, uint *c0, uint *c1) {
  *c0 = dt == DT_Q6_K ? 4u * (p / 2u) + p % 2u : 2u * p;
  *c1 = dt == DT_Q6_K ? *c0 + 2u : *c0 + 1u;
}
inline void read_pair(__global const uchar *b, uint dt, uint bb, uint p, Chunk *c0, Chunk *c1) {
  if (dt == DT_Q6_K)
    read_pair_q6k(b, bb, p / 2u, p % 2u, c0, c1);
  else
    read_pair_k4(b, dt, bb, p, c0, c1);
}

// Bytes of quant word u as floats.
inline float4 bytes4(uint u) { return convert_float4(((uint4)(u) >> (uint4)(0u, 8u, 16u, 24u)) & 0xffu); }

// Elements 4i .. 4i + 3 (lo) and 16 + 4i .. 16 + 4i + 3 (hi) of a chunk, as
// one fused multiply-add each: one rounding, as the kit quant.h's decoders
// (their scale products and offsets are exact in f32).
inline void chunk_quad(Chunk ch, uint i, float4 *lo, float4 *hi) {
  *lo = fma((float4)(ch.d.x), bytes4(u4_at(ch.q[0], i)), (float4)(ch.m.x));
  *hi = fma((float4)(ch.d.y), bytes4(u4_at(ch.q[1], i)), (float4)(ch.m.y));
}

// Element e (0..31) of a chunk.
inline float chunk_elem(Chunk ch, uint e) {
  const uint h = e / 16u, bi = e % 16u;
  const uint q = (u4_at(ch.q[h], bi / 4u) >> (8u * (bi % 4u))) & 0xffu;
  return fma(h == 0u ? ch.d.x : ch.d.y, (float)q, h == 0u ? ch.m.x : ch.m.y);
}

// Element i (i0 .. i3) of a tensor of dtype dt and strides nb at b, any
// dtype including blocks (for block formats nb.x is the block's byte size).
inline float load_any_nb(__global const uchar *b, uint dt, uint4 nb, uint4 i) {
  if (is_block_type(dt)) {
    const uint n = block_elems(dt);
    const uint bb = (i.x / n) * nb.x + i.y * nb.y + i.z * nb.z + i.w * nb.w;
    return chunk_elem(read_chunk(b, dt, bb, (i.x % n) / 32u), i.x % 32u);
  }
  return load_float(b, dt, i.x * nb.x + i.y * nb.y + i.z * nb.z + i.w * nb.w);
}
// Element i (a uint4) of tensor t, any dtype (a macro: it reads np).
#define load_any(t, i) load_any_nb(TB(t), TTYPE(t), TNB(t), (i))

// ---- matmul weight and activation reads (kernels/vulkan/matmul_w.glsl) ----
//
// Used by matmul_tile.cl and matmul_vec.cl, which define W_SLOT (0, w [K, M,
// B2w, B3w]) and X_SLOT (1, x [K, N, B2, B3]) and pass each tensor's memory
// (TB), dtype and strides in. The weight dtype is fixed at build time: W_BLOCK
// is the block format's dtype id for block weights, DT_SLOT0 for float ones.
//
// matmul_w.glsl reads as few, as wide words as the layout allows (lavapipe
// runs every storage-buffer load as a scalar loop over the lanes): 16-byte
// uvec4 loads for rows that are contiguous and 16-byte aligned. Here a
// contiguous row is read with vload4 / vload_half4 / vload8 on its element
// type, which needs only the element's alignment (what the recorder
// guarantees for every tensor), so rows_vec4 asks only for contiguity; the
// values read are the same either way.

// Bytes of one element of a float dtype.
inline uint float_size(uint dt) { return dt == DT_F32 ? 4u : 2u; }

// True when every row (dim 0) of a float tensor of dtype dt and strides nb is
// contiguous, so load32 and load4 may read it as vectors.
inline bool rows_vec4(uint dt, uint4 nb) { return nb.x == float_size(dt); }

// Element at `byte` of b, a float tensor of dtype dt.
inline float float_at(__global const uchar *b, uint dt, uint byte) {
  if (dt == DT_F32) return *(__global const float *)(b + byte);
  if (dt == DT_F16) return vload_half(0, (__global const half *)(b + byte));
  return as_float(half_at(b, byte) << 16);
}

// Elements k .. k + 3 of a row one element at a time (nb0 apart), 0 past k_end.
inline float4 load4_each(__global const uchar *b, uint dt, uint nb0, uint row, uint k, uint k_end) {
  return (float4)(k < k_end ? float_at(b, dt, row + k * nb0) : 0.0f,
                  k + 1u < k_end ? float_at(b, dt, row + (k + 1u) * nb0) : 0.0f,
                  k + 2u < k_end ? float_at(b, dt, row + (k + 2u) * nb0) : 0.0f,
                  k + 3u < k_end ? float_at(b, dt, row + (k + 3u) * nb0) : 0.0f);
}

// 32 consecutive elements k0 .. k0+31 of a row of float tensor b of dtype dt
// (v[i] holds k0+4i .. k0+4i+3). `row` is the byte of the row's element 0,
// nb0 the tensor's nb.x, `vec4ok` rows_vec4 (k0 must then be a multiple of
// 32); elements past k_end are 0.
inline void load32(__global const uchar *b, uint dt, uint nb0, uint row, uint k0, uint k_end, bool vec4ok,
                   float4 *v) {
  if (vec4ok && k0 + 32u <= k_end) {
    if (dt == DT_F32) {
      __global const float *p = (__global const float *)(b + row + k0 * 4u);
#pragma unroll
      for (uint i = 0; i < 8u; ++i) v[i] = vload4(i, p);
    } else if (dt == DT_F16) {
      __global const half *p = (__global const half *)(b + row + k0 * 2u);
#pragma unroll
      for (uint i = 0; i < 8u; ++i) v[i] = vload_half4(i, p);
    } else {
      __global const ushort *p = (__global const ushort *)(b + row + k0 * 2u);
#pragma unroll
      for (uint i = 0; i < 8u; ++i) v[i] = as_float4(convert_uint4(vload4(i, p)) << 16);
    }
    return;
  }
#pragma unroll
  for (uint i = 0; i < 8u; ++i) v[i] = load4_each(b, dt, nb0, row, k0 + 4u * i, k_end);
}

// Elements k .. k+3 of a row of float tensor b, as load32 (k a multiple of 4
// when vec4ok; elements past k_end are 0).
inline float4 load4(__global const uchar *b, uint dt, uint nb0, uint row, uint k, uint k_end, bool vec4ok) {
  if (vec4ok && k + 4u <= k_end) {
    if (dt == DT_F32) return vload4(0, (__global const float *)(b + row + k * 4u));
    if (dt == DT_F16) return vload_half4(0, (__global const half *)(b + row + k * 2u));
    return as_float4(convert_uint4(vload4(0, (__global const ushort *)(b + row + k * 2u))) << 16);
  }
  return load4_each(b, dt, nb0, row, k, k_end);
}

// Chunk k_chunk (elements 32 k_chunk .. + 31) of the weight row of block
// dtype dt at byte `row` of b.
inline Chunk w_chunk(__global const uchar *b, uint dt, uint row, uint k_chunk) {
  const uint per_block = block_elems(dt) / 32u;
  return read_chunk(b, dt, row + (k_chunk / per_block) * block_bytes(dt), k_chunk % per_block);
}

// sum_e w[e] * x[e] over a chunk, x as load32 returns it; sx = the sums of
// x's elements 0..15 and 16..31 (the offsets m fold in through them).
inline float chunk_dot(Chunk ch, const float4 *x, float2 sx) {
  float2 s = (float2)(0.0f);
#pragma unroll
  for (uint i = 0; i < 4u; ++i) {
    s.x += dot(bytes4(u4_at(ch.q[0], i)), x[i]);
    s.y += dot(bytes4(u4_at(ch.q[1], i)), x[4u + i]);
  }
  return dot(ch.d, s) + dot(ch.m, sx);
}
