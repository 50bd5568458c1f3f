#version 450
// Register-tiled matmul for prefill (many x columns): out[m, n] = sum_k w[k, m] * x[k, n].
//
// Each invocation accumulates a TR x TC tile of outputs in registers: rows
// m0 + lane + WG r (r < TR) and columns n0 .. n0 + TC - 1, the columns shared
// by the whole workgroup. Per 32-element block it reads each of its rows'
// chunk once (w_chunk), then works through it a quarter at a time
// (elements 4i..4i+3 and 16+4i..16+4i+3, what one word of 4-bit quants holds),
// so a weight word serves TC columns and an x element TR rows.
//
// No shared memory: lavapipe executes every shared-memory load as the same
// per-lane scalar loop as a storage-buffer load, and a workgroup barrier turns
// the shader into coroutines; a 64 x 64 shared-memory tile kernel (the first
// version of this file) was ~10x slower there.
//
// X_BCAST (needs subgroup ballot): every lane of a subgroup needs the same x
// elements, so lane j loads only quarter j % 8 of each column's block and
// subgroupBroadcast hands it to the others; on lavapipe that halves the time
// (x loads were most of the loads).
//
// spec[0] = WG, the workgroup size.
// Flat dispatch over (row group, column group, batch), row groups fastest.
// KU(0) = B2 / B2w, KU(1) = B3 / B3w, KU(2) = row groups, KU(3) = column groups.
#include "common.glsl"
#if defined(X_BCAST)
#extension GL_KHR_shader_subgroup_ballot : require
#endif
#include "matmul_w.glsl"

#define TR 8
#define TC 8

layout(local_size_x_id = 0) in;
#define WG gl_WorkGroupSize.x

// acc[r][c] += w[quad i of row r] . x[quad i of column c], with the x quads
// given (lo: elements 4i..4i+3 of the block, hi: 16+4i..16+4i+3).
#if defined(W_BLOCK)
void quad_update(uint i, vec4 xlo[TC], vec4 xhi[TC], Chunk wb[TR], inout float acc[TR][TC]) {
  [[unroll]] for (uint r = 0; r < TR; ++r) {
    vec4 lo, hi;
    chunk_quad(wb[r], i, lo, hi);
    [[unroll]] for (uint c = 0; c < TC; ++c) acc[r][c] += dot(lo, xlo[c]) + dot(hi, xhi[c]);
  }
}
#else
void quad_update(uint i, vec4 xlo[TC], vec4 xhi[TC], uint wrow[TR], uint k0, uint K, bool w_vec4,
                 inout float acc[TR][TC]) {
  [[unroll]] for (uint r = 0; r < TR; ++r) {
    const vec4 lo = load4(W_SLOT, TTYPE(W_SLOT), wrow[r], k0 + 4u * i, K, w_vec4);
    const vec4 hi = load4(W_SLOT, TTYPE(W_SLOT), wrow[r], k0 + 16u + 4u * i, K, w_vec4);
    [[unroll]] for (uint c = 0; c < TC; ++c) acc[r][c] += dot(lo, xlo[c]) + dot(hi, xhi[c]);
  }
}
#endif

void main() {
  const uint g = flat_group();
  if (g >= N_GROUPS) return;
  const uint lane = gl_LocalInvocationID.x;

  const uint K = TNE(W_SLOT).x, M = TNE(W_SLOT).y;
  const uvec4 xne = TNE(X_SLOT);
  const uint N = xne.y, B2 = xne.z;
  const uint rg = g % KU(2);
  const uint cg = (g / KU(2)) % KU(3);
  const uint b = g / (KU(2) * KU(3));
  const uint b2 = b % B2, b3 = b / B2;
  const uint m0 = rg * (WG * TR) + lane, n0 = cg * TC;

  const uvec4 wnb = TNB(W_SLOT);
  const uvec4 xnb = TNB(X_SLOT);
  const uint xt = TTYPE(X_SLOT);
  const bool x_vec4 = rows_vec4(X_SLOT);
  const uint wbase = w_batch_byte(b2, b3);
  const uint xbase = TOFF(X_SLOT) + b2 * xnb.z + b3 * xnb.w;
#if !defined(W_BLOCK)
  const bool w_vec4 = rows_vec4(W_SLOT);
#endif

  // Rows and columns past the end read the last one and are not stored.
  uint wrow[TR], xcol[TC];
  [[unroll]] for (uint r = 0; r < TR; ++r) wrow[r] = wbase + min(m0 + WG * r, M - 1u) * wnb.y;
  [[unroll]] for (uint c = 0; c < TC; ++c) xcol[c] = xbase + min(n0 + c, N - 1u) * xnb.y;

  float acc[TR][TC];
  [[unroll]] for (uint r = 0; r < TR; ++r) {
    [[unroll]] for (uint c = 0; c < TC; ++c) acc[r][c] = 0.0;
  }

  const uint n_blocks = (K + 31u) / 32u;
  for (uint blk = 0; blk < n_blocks; ++blk) {
    const uint k0 = blk * 32u;
#if defined(W_BLOCK)
    Chunk wb[TR];
    [[unroll]] for (uint r = 0; r < TR; ++r) wb[r] = w_chunk(wrow[r], blk);
#define W_ARGS wb
#else
#define W_ARGS wrow, k0, K, w_vec4
#endif
#if defined(X_BCAST)
    if (gl_SubgroupSize >= 8u) {
      vec4 mine[TC];
      const uint j = gl_SubgroupInvocationID & 7u;
      [[unroll]] for (uint c = 0; c < TC; ++c) mine[c] = load4(X_SLOT, xt, xcol[c], k0 + 4u * j, K, x_vec4);
      // subgroupBroadcast wants a constant lane: one expansion per quad.
#define BCAST_QUAD(I)                                          \
  {                                                            \
    vec4 xlo[TC], xhi[TC];                                     \
    [[unroll]] for (uint c = 0; c < TC; ++c) {                 \
      xlo[c] = subgroupBroadcast(mine[c], I);                  \
      xhi[c] = subgroupBroadcast(mine[c], 4u + I);             \
    }                                                          \
    quad_update(I, xlo, xhi, W_ARGS, acc);                     \
  }
      BCAST_QUAD(0u)
      BCAST_QUAD(1u)
      BCAST_QUAD(2u)
      BCAST_QUAD(3u)
      continue;
    }
#endif
    [[unroll]] for (uint i = 0; i < 4; ++i) {
      vec4 xlo[TC], xhi[TC];
      [[unroll]] for (uint c = 0; c < TC; ++c) {
        xlo[c] = load4(X_SLOT, xt, xcol[c], k0 + 4u * i, K, x_vec4);
        xhi[c] = load4(X_SLOT, xt, xcol[c], k0 + 16u + 4u * i, K, x_vec4);
      }
      quad_update(i, xlo, xhi, W_ARGS, acc);
    }
  }

  const uvec4 onb = TNB(TOUT);
  const uint obase = TOFF(TOUT) + b2 * onb.z + b3 * onb.w;
  [[unroll]] for (uint c = 0; c < TC; ++c) {
    if (n0 + c >= N) continue;
    [[unroll]] for (uint r = 0; r < TR; ++r) {
      const uint m = m0 + WG * r;
      if (m < M) t32[TOUT].w[(obase + m * onb.x + (n0 + c) * onb.y) >> 2] = floatBitsToUint(acc[r][c]);
    }
  }
}
