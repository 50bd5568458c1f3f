#version 450
// Matrix-vector matmul for decode (few x columns): out[m, n] = sum_k w[k, m] * x[k, n].
//
// One workgroup computes MV_ROWS weight rows against one x column of one
// batch. K is cut into 32-element blocks (one chunk of the block formats: a
// whole q4_0 block, an eighth of a k-quant super-block); the lanes of a
// subgroup take blocks lane, lane + lanes, ... and, per block, load x once
// and every row's chunk once (w_chunk: a few 32-bit words), so the weight is
// streamed exactly once per column and each x word is loaded once per
// MV_ROWS rows.
//
// Only subgroup-scope synchronisation (Vulkan 1.1 core, basic subgroup ops):
// a workgroup barrier anywhere in a shader makes lavapipe run it as
// coroutines (measured: +0.7 ms on a 1536-row q4_1 matvec, even with every
// workgroup returning before the barrier; the whole kernel now takes ~2 ms).
// Each subgroup owns the rows r with r % gl_NumSubgroups == gl_SubgroupID and
// sums its lanes' partials through its own slice of shared memory.
//
// spec[0] = WG, the workgroup size (a power of two; the encoder uses the
// device's subgroup size, so normally one subgroup is the whole workgroup).
// Flat dispatch over (row group, column, batch), row groups fastest.
// KU(0) = B2 / B2w, KU(1) = B3 / B3w, KU(2) = row groups, KU(3) = columns (N).
#include "common.glsl"
#extension GL_KHR_shader_subgroup_basic : require
#include "matmul_w.glsl"

#ifndef MV_ROWS
#define MV_ROWS 16
#endif

layout(local_size_x_id = 0) in;

shared float red[MV_ROWS][gl_WorkGroupSize.x];

void main() {
  const uint g = flat_group();
  if (g >= N_GROUPS) return;
  const uint WG = gl_WorkGroupSize.x;
  // A workgroup no wider than a subgroup is one (possibly partial) subgroup;
  // a wider one is whole subgroups (both are powers of two).
  const bool one_subgroup = WG <= gl_SubgroupSize;
  const uint lanes = one_subgroup ? WG : gl_SubgroupSize;
  const uint lane = one_subgroup ? gl_LocalInvocationIndex : gl_SubgroupInvocationID;
  const uint sg = one_subgroup ? 0u : gl_SubgroupID;
  const uint n_sg = one_subgroup ? 1u : gl_NumSubgroups;

  const uint K = TNE(W_SLOT).x, M = TNE(W_SLOT).y;
  const uint B2 = TNE(X_SLOT).z;
  const uint rg = g % KU(2);
  const uint n = (g / KU(2)) % KU(3);
  const uint b = g / (KU(2) * KU(3));
  const uint b2 = b % B2, b3 = b / B2;
  const uint m0 = rg * MV_ROWS;

  const uvec4 wnb = TNB(W_SLOT);
  const uvec4 xnb = TNB(X_SLOT);
  const uint xt = TTYPE(X_SLOT);
  const bool x_vec4 = rows_vec4(X_SLOT);
  const uint wbase = w_batch_byte(b2, b3);
  const uint xcol = TOFF(X_SLOT) + n * xnb.y + b2 * xnb.z + b3 * xnb.w;
#if !defined(W_BLOCK)
  const uint wt = TTYPE(W_SLOT);
  const bool w_vec4 = rows_vec4(W_SLOT);
#endif

  float acc[MV_ROWS];
  [[unroll]] for (uint r = 0; r < MV_ROWS; ++r) acc[r] = 0.0;
  const uint n_blocks = (K + 31u) / 32u;
#if defined(W_BLOCK)
  // q4_K, q5_K, q6_K: a lane takes pairs of chunks that share their quant
  // bytes and scales (read_pair). K is whole super-blocks here.
  const bool pairs = W_BLOCK == DT_Q4_K || W_BLOCK == DT_Q5_K || W_BLOCK == DT_Q6_K;
  for (uint p = lane; pairs && p < n_blocks / 2u; p += lanes) {
    uint ca, cb;
    pair_chunks(W_BLOCK, p % 4u, ca, cb);
    const uint k0 = (p / 4u) * 256u;
    vec4 xa[8], xb[8];
    load32(X_SLOT, xt, xcol, k0 + 32u * ca, K, x_vec4, xa);
    load32(X_SLOT, xt, xcol, k0 + 32u * cb, K, x_vec4, xb);
    const vec2 sa = vec2(dot(xa[0] + xa[1] + xa[2] + xa[3], vec4(1.0)), dot(xa[4] + xa[5] + xa[6] + xa[7], vec4(1.0)));
    const vec2 sb = vec2(dot(xb[0] + xb[1] + xb[2] + xb[3], vec4(1.0)), dot(xb[4] + xb[5] + xb[6] + xb[7], vec4(1.0)));
    [[unroll]] for (uint r = 0; r < MV_ROWS; ++r) {
      if (r % n_sg != sg) continue;
      const uint wrow = wbase + min(m0 + r, M - 1u) * wnb.y;
      Chunk c0, c1;
      read_pair(W_SLOT, W_BLOCK, wrow + (p / 4u) * block_bytes(W_BLOCK), p % 4u, c0, c1);
      acc[r] += chunk_dot(c0, xa, sa) + chunk_dot(c1, xb, sb);
    }
  }
  for (uint blk = pairs ? n_blocks : lane; blk < n_blocks; blk += lanes) {
#else
  for (uint blk = lane; blk < n_blocks; blk += lanes) {
#endif
    vec4 xv[8];
    load32(X_SLOT, xt, xcol, blk * 32u, K, x_vec4, xv);
#if defined(W_BLOCK)
    const vec4 s_lo = xv[0] + xv[1] + xv[2] + xv[3], s_hi = xv[4] + xv[5] + xv[6] + xv[7];
    const vec2 sx = vec2(dot(s_lo, vec4(1.0)), dot(s_hi, vec4(1.0)));
#endif
    [[unroll]] for (uint r = 0; r < MV_ROWS; ++r) {
      if (r % n_sg != sg) continue;
      const uint wrow = wbase + min(m0 + r, M - 1u) * wnb.y;
#if defined(W_BLOCK)
      acc[r] += chunk_dot(w_chunk(wrow, blk), xv, sx);
#else
      vec4 wv[8];
      load32(W_SLOT, wt, wrow, blk * 32u, K, w_vec4, wv);
      float s = 0.0;
      [[unroll]] for (uint i = 0; i < 8; ++i) s += dot(wv[i], xv[i]);
      acc[r] += s;
#endif
    }
  }

  // ---- sum the lanes of each subgroup ----
  const uint slot = sg * lanes + lane;
  [[unroll]] for (uint r = 0; r < MV_ROWS; ++r) red[r][slot] = acc[r];
  subgroupMemoryBarrierShared();
  subgroupBarrier();
  const uvec4 onb = TNB(TOUT);
  for (uint r = sg + lane * n_sg; r < MV_ROWS; r += lanes * n_sg) {
    float s = 0.0;
    for (uint i = 0; i < lanes; ++i) s += red[r][sg * lanes + i];
    if (m0 + r < M) {
      const uint ob = TOFF(TOUT) + (m0 + r) * onb.x + n * onb.y + b2 * onb.z + b3 * onb.w;
      t32[TOUT].w[ob >> 2] = floatBitsToUint(s);
    }
  }
}
