// Weight decoding shared by the matmul kernels. Included after common.glsl.
//
// The weight dtype is fixed at compile time (one SPIR-V kernel per dtype, see
// kernels_matmul.cmake): exactly one of W_F32, W_F16, W_BF16, W_Q8_0, W_Q4_0,
// W_Q4_1 is defined. Block weights are read as 16-bit words: q4_0 and q8_0
// blocks (18 and 34 bytes) are only 2-byte aligned, so 32-bit loads would need
// a shift per word.
//
// Slot 0 is w [K, M, B2w, B3w], slot 1 is x [K, N, B2, B3], TOUT the f32 output.

#if defined(W_Q8_0) || defined(W_Q4_0) || defined(W_Q4_1)
#define W_BLOCK 1
#endif

#if defined(W_Q8_0)
#define W_BLOCK_BYTES 34u
#define W_QS 2u  // byte offset of the quants inside a block
#elif defined(W_Q4_0)
#define W_BLOCK_BYTES 18u
#define W_QS 2u
#elif defined(W_Q4_1)
#define W_BLOCK_BYTES 20u
#define W_QS 4u
#endif

#define W_SLOT 0u
#define X_SLOT 1u

// Float weight element at `byte`.
float w_float_at(uint byte) {
#if defined(W_F32)
  return uintBitsToFloat(t32[W_SLOT].w[byte >> 2]);
#elif defined(W_F16)
  return unpackHalf2x16(uint(t16[W_SLOT].h[byte >> 1])).x;
#else  // W_BF16
  return uintBitsToFloat(uint(t16[W_SLOT].h[byte >> 1]) << 16);
#endif
}

float x_at(uint xt, uint byte) {
  if (xt == DT_F32) return uintBitsToFloat(t32[X_SLOT].w[byte >> 2]);
  if (xt == DT_F16) return unpackHalf2x16(uint(t16[X_SLOT].h[byte >> 1])).x;
  return uintBitsToFloat(uint(t16[X_SLOT].h[byte >> 1]) << 16);  // bf16
}

// Batch of w that x batch (b2, b3) reads: KU(0) = B2 / B2w, KU(1) = B3 / B3w.
uint w_batch_byte(uint b2, uint b3) {
  const uvec4 nb = TNB(W_SLOT);
  return TOFF(W_SLOT) + (b2 / KU(0)) * nb.z + (b3 / KU(1)) * nb.w;
}

#if defined(W_BLOCK)
float w_f16(uint byte) { return unpackHalf2x16(uint(t16[W_SLOT].h[byte >> 1])).x; }

// The two nibbles of 16-bit word `byte` (even) as (low of byte 0, low of
// byte 1, high of byte 0, high of byte 1).
vec4 nibbles(uint byte) {
  const uint v = uint(t16[W_SLOT].h[byte >> 1]);
  return vec4(float(v & 15u), float((v >> 8) & 15u), float((v >> 4) & 15u), float(v >> 12));
}

// Two signed bytes of 16-bit word `byte` (even).
vec2 int8_pair(uint byte) {
  const int v = int(uint(t16[W_SLOT].h[byte >> 1]));
  return vec2(float((v << 24) >> 24), float((v << 16) >> 24));
}
#endif
