// Weight and activation reads shared by the matmul kernels. Included after
// common.glsl.
//
// The weight dtype is fixed at compile time (one SPIR-V kernel per dtype, see
// kernels_matmul.cmake): W_BLOCK is the block format's dtype id (DT_Q4_K ...)
// for block weights and undefined for float weights (f32, f16, bf16, read
// as TTYPE(W_SLOT)). x's dtype is TTYPE(X_SLOT), a specialization constant,
// so the dtype branches below fold away.
//
// Loads are what a matmul pays for (lavapipe runs every storage-buffer load
// as a scalar loop over the lanes, ~20 cycles a lane and word; the arithmetic
// around it is cheap), so everything here reads as few, as wide words as the
// layout allows: block chunks through blocks.glsl's load_span (32-bit words,
// 16-bit ones only at the ends of a span that starts mid-word), contiguous
// 16-byte aligned rows as uvec4.
//
// Slot 0 is w [K, M, B2w, B3w], slot 1 is x [K, N, B2, B3], TOUT the f32 output.

#define W_SLOT 0u
#define X_SLOT 1u

// The tensors once more, as 16-byte words, for aligned contiguous rows.
layout(std430, set = 0, binding = 0) buffer T128 { uvec4 v[]; } t128[7];

// Batch of w that x batch (b2, b3) reads: KU(0) = B2 / B2w, KU(1) = B3 / B3w.
uint w_batch_byte(uint b2, uint b3) {
  const uvec4 nb = TNB(W_SLOT);
  return TOFF(W_SLOT) + (b2 / KU(0)) * nb.z + (b3 / KU(1)) * nb.w;
}

// Bytes of one element of a float dtype.
uint float_size(uint dt) { return dt == DT_F32 ? 4u : 2u; }

// True when every row of tensor t (dim 0) is contiguous and starts on a
// 16-byte boundary, so 32 elements from any multiple of 32 are whole uvec4s.
bool rows_vec4(uint t) {
  const uvec4 nb = TNB(t);
  return nb.x == float_size(TTYPE(t)) && ((TOFF(t) | nb.y | nb.z | nb.w) & 15u) == 0u;
}

// Element at `byte` of float tensor t with dtype dt.
float float_at(uint t, uint dt, uint byte) {
  if (dt == DT_F32) return uintBitsToFloat(t32[t].w[byte >> 2]);
  const uint h = uint(t16[t].h[byte >> 1]);
  return dt == DT_F16 ? unpackHalf2x16(h).x : uintBitsToFloat(h << 16);
}

// 8 f16 or bf16 values packed in a uvec4, in order.
void unpack_halves(uint dt, uvec4 u, out vec4 lo, out vec4 hi) {
  if (dt == DT_F16) {
    lo = vec4(unpackHalf2x16(u.x), unpackHalf2x16(u.y));
    hi = vec4(unpackHalf2x16(u.z), unpackHalf2x16(u.w));
  } else {
    lo = uintBitsToFloat(uvec4(u.x << 16, u.x & 0xffff0000u, u.y << 16, u.y & 0xffff0000u));
    hi = uintBitsToFloat(uvec4(u.z << 16, u.z & 0xffff0000u, u.w << 16, u.w & 0xffff0000u));
  }
}

// 32 consecutive elements k0 .. k0+31 of a row of float tensor t (v[i] holds
// k0+4i .. k0+4i+3). `row` is the byte of the row's element 0, `vec4ok`
// rows_vec4(t) (k0 must then be a multiple of 32), elements past k_end are 0.
void load32(uint t, uint dt, uint row, uint k0, uint k_end, bool vec4ok, out vec4 v[8]) {
  if (vec4ok && k0 + 32u <= k_end) {
    if (dt == DT_F32) {
      const uint q = (row + k0 * 4u) >> 4;
      [[unroll]] for (uint i = 0; i < 8; ++i) v[i] = uintBitsToFloat(t128[t].v[q + i]);
    } else {
      const uint q = (row + k0 * 2u) >> 4;
      [[unroll]] for (uint i = 0; i < 4; ++i) unpack_halves(dt, t128[t].v[q + i], v[2 * i], v[2 * i + 1]);
    }
    return;
  }
  const uint nb0 = TNB(t).x;
  [[unroll]] for (uint i = 0; i < 8; ++i) {
    [[unroll]] for (uint j = 0; j < 4; ++j) {
      const uint k = k0 + 4u * i + j;
      v[i][j] = k < k_end ? float_at(t, dt, row + k * nb0) : 0.0;
    }
  }
}

// Elements k .. k+3 of a row of float tensor t, as load32 (k a multiple of 4
// when vec4ok; elements past k_end are 0).
vec4 load4(uint t, uint dt, uint row, uint k, uint k_end, bool vec4ok) {
  if (vec4ok && k + 4u <= k_end) {
    if (dt == DT_F32) return uintBitsToFloat(t128[t].v[(row + k * 4u) >> 4]);
    const uint w = (row + k * 2u) >> 2;
    const uvec2 u = uvec2(t32[t].w[w], t32[t].w[w + 1u]);
    if (dt == DT_F16) return vec4(unpackHalf2x16(u.x), unpackHalf2x16(u.y));
    return uintBitsToFloat(uvec4(u.x << 16, u.x & 0xffff0000u, u.y << 16, u.y & 0xffff0000u));
  }
  const uint nb0 = TNB(t).x;
  vec4 v;
  [[unroll]] for (uint j = 0; j < 4; ++j) v[j] = k + j < k_end ? float_at(t, dt, row + (k + j) * nb0) : 0.0;
  return v;
}

#if defined(W_BLOCK)
// Chunk k_chunk (elements 32 k_chunk .. + 31) of the weight row at byte row.
Chunk w_chunk(uint row, uint k_chunk) {
  const uint per_block = block_elems(W_BLOCK) / 32u;
  return read_chunk(W_SLOT, W_BLOCK, row + (k_chunk / per_block) * block_bytes(W_BLOCK), k_chunk % per_block);
}

// sum_e w[e] * x[e] over a chunk, x as load32 returns it; sx = the sums of
// x's elements 0..15 and 16..31 (the offsets m fold in through them).
float chunk_dot(Chunk ch, vec4 x[8], vec2 sx) {
  vec2 s = vec2(0.0);
  [[unroll]] for (uint i = 0; i < 4; ++i) {
    s.x += dot(bytes4(ch.q[0][i]), x[i]);
    s.y += dot(bytes4(ch.q[1][i]), x[4 + i]);
  }
  return dot(ch.d, s) + dot(ch.m, sx);
}
#endif
