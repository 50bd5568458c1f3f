// Weight and activation reads shared by the matmul kernels. Included after
// common.glsl.
//
// The weight dtype is fixed at compile time (one SPIR-V kernel per dtype, see
// kernels_matmul.cmake): exactly one of W_F32, W_F16, W_BF16, W_Q8_0, W_Q4_0,
// W_Q4_1 is defined. x's dtype is TTYPE(X_SLOT), a specialization constant, so
// the dtype branches below fold away.
//
// Loads are what a matmul pays for (lavapipe runs every storage-buffer load
// as a scalar loop over the lanes, ~20 cycles a lane and word; the arithmetic
// around it is cheap), so everything here reads as few, as wide words as the
// layout allows: a block in 32-bit words (q4_0 and q8_0
// blocks are 18 and 34 bytes, so every other block starts mid-word and is
// stitched from halves), contiguous 16-byte aligned rows as uvec4.
//
// Slot 0 is w [K, M, B2w, B3w], slot 1 is x [K, N, B2, B3], TOUT the f32 output.

#if defined(W_Q8_0) || defined(W_Q4_0) || defined(W_Q4_1)
#define W_BLOCK 1
#endif

#if defined(W_Q8_0)
#define W_BLOCK_BYTES 34u
#elif defined(W_Q4_0)
#define W_BLOCK_BYTES 18u
#elif defined(W_Q4_1)
#define W_BLOCK_BYTES 20u
#endif

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
// One block of the weight: the scale d, the q4_1 minimum m (else 0) and the
// quant bytes as words (q4: 16 bytes in q[0]; q8_0: 32 bytes in q[0], q[1]).
struct Block {
  float d, m;
  uvec4 q[2];
};

// Stitches 16-bit halves: (a >> 16) | (b << 16), the word starting 2 bytes into a.
uvec4 mid_words(uvec4 a, uvec4 b) { return (a >> 16) | (b << 16); }

// The block at byte bb (2-byte aligned).
Block read_block(uint bb) {
  Block b;
  b.m = 0.0;
#if defined(W_Q4_1)
  if ((bb & 2u) == 0u) {
    // The usual case: 20-byte blocks from a word-aligned row are all word aligned.
    const uint w = bb >> 2;
    const vec2 dm = unpackHalf2x16(t32[W_SLOT].w[w]);
    b.d = dm.x;
    b.m = dm.y;
    b.q[0] = uvec4(t32[W_SLOT].w[w + 1u], t32[W_SLOT].w[w + 2u], t32[W_SLOT].w[w + 3u], t32[W_SLOT].w[w + 4u]);
  } else {
    // Starts mid-word: d alone, then (m, q0..q13) as 4 words, then q14 q15.
    const uint w = (bb + 2u) >> 2;
    const uvec4 a = uvec4(t32[W_SLOT].w[w], t32[W_SLOT].w[w + 1u], t32[W_SLOT].w[w + 2u], t32[W_SLOT].w[w + 3u]);
    const uint tail = uint(t16[W_SLOT].h[(bb + 18u) >> 1]);
    b.d = unpackHalf2x16(uint(t16[W_SLOT].h[bb >> 1])).x;
    b.m = unpackHalf2x16(a.x).x;
    b.q[0] = mid_words(a, uvec4(a.yzw, tail));
  }
#else
  // q4_0 (18 bytes) and q8_0 (34 bytes): the 2-byte scale then the quants.
  // A block starting on a word has its quants at +2 (stitched from halves)
  // and its last 2 quant bytes in a trailing half word; one starting mid-word
  // has word-aligned quants and its scale in a leading half word. Either way
  // one half-word load and NQ/4 word loads, all inside the block.
  const bool mid = (bb & 2u) != 0u;
  const uint w = (bb + 2u) >> 2;  // the word holding bb (not mid) or bb + 2 (mid)
  const uint half_ = uint(t16[W_SLOT].h[(mid ? bb : bb + W_BLOCK_BYTES - 2u) >> 1]);
  const uvec4 a = uvec4(t32[W_SLOT].w[w], t32[W_SLOT].w[w + 1u], t32[W_SLOT].w[w + 2u], t32[W_SLOT].w[w + 3u]);
#if defined(W_Q8_0)
  const uvec4 c = uvec4(t32[W_SLOT].w[w + 4u], t32[W_SLOT].w[w + 5u], t32[W_SLOT].w[w + 6u], t32[W_SLOT].w[w + 7u]);
  b.d = unpackHalf2x16(mid ? half_ : a.x).x;
  b.q[0] = mid ? a : mid_words(a, uvec4(a.yzw, c.x));
  b.q[1] = mid ? c : mid_words(c, uvec4(c.yzw, half_));
#else
  b.d = unpackHalf2x16(mid ? half_ : a.x).x;
  b.q[0] = mid ? a : mid_words(a, uvec4(a.yzw, half_));
  b.q[1] = uvec4(0u);
#endif
#endif
  return b;
}

// Low (elements 4i..4i+3) and high (16+4i..) nibbles of quant word u.
vec4 nib_lo(uint u) { return vec4((uvec4(u) >> uvec4(0u, 8u, 16u, 24u)) & 15u); }
vec4 nib_hi(uint u) { return vec4((uvec4(u) >> uvec4(4u, 12u, 20u, 28u)) & 15u); }
// Signed bytes of quant word u.
vec4 int8x4(uint u) { return vec4((ivec4(u) << ivec4(24, 16, 8, 0)) >> 24); }

// sum_e w[e] * x[e] over the block, x as load32 returns it; sx = sum of x
// (q4 formats fold their offset in through it).
float block_dot(Block b, vec4 x[8], float sx) {
#if defined(W_Q8_0)
  float s = 0.0;
  [[unroll]] for (uint i = 0; i < 4; ++i) s += dot(int8x4(b.q[0][i]), x[i]) + dot(int8x4(b.q[1][i]), x[4 + i]);
  return b.d * s;
#else
  float s = 0.0;
  [[unroll]] for (uint i = 0; i < 4; ++i) s += dot(nib_lo(b.q[0][i]), x[i]) + dot(nib_hi(b.q[0][i]), x[4 + i]);
#if defined(W_Q4_0)
  return b.d * (s - 8.0 * sx);
#else
  return b.d * s + b.m * sx;
#endif
#endif
}

// The 32 elements of a block, in order (v[i] holds 4i .. 4i+3).
void decode_block(Block b, out vec4 v[8]) {
#if defined(W_Q8_0)
  [[unroll]] for (uint i = 0; i < 4; ++i) {
    v[i] = b.d * int8x4(b.q[0][i]);
    v[4 + i] = b.d * int8x4(b.q[1][i]);
  }
#else
#if defined(W_Q4_0)
  const float m = -8.0 * b.d;
#else
  const float m = b.m;
#endif
  [[unroll]] for (uint i = 0; i < 4; ++i) {
    v[i] = b.d * nib_lo(b.q[0][i]) + m;
    v[4 + i] = b.d * nib_hi(b.q[0][i]) + m;
  }
#endif
}
#endif

#if defined(W_BLOCK)
// Decoded elements 4i .. 4i+3 (lo) and 16+4i .. 16+4i+3 (hi) of a block.
void block_quad(Block b, uint i, out vec4 lo, out vec4 hi) {
#if defined(W_Q8_0)
  lo = b.d * int8x4(b.q[0][i]);
  hi = b.d * int8x4(b.q[1][i]);
#else
#if defined(W_Q4_0)
  const float m = -8.0 * b.d;
#else
  const float m = b.m;
#endif
  lo = b.d * nib_lo(b.q[0][i]) + m;
  hi = b.d * nib_hi(b.q[0][i]) + m;
#endif
}
#endif
