// Register-tiled matmul for prefill (many x columns): out[m, n] = sum_k w[k, m] * x[k, n].
// Port of kernels/vulkan/matmul_tile.comp.
//
// Each work-item accumulates a TR x TC tile of outputs in registers: rows
// m0 + lane + WG r (r < TR) and columns n0 .. n0 + TC - 1, the columns shared
// by the whole workgroup. Per 32-element block it reads each of its rows'
// chunk once (w_chunk), then works through it a quarter at a time
// (elements 4i..4i+3 and 16+4i..16+4i+3, what one word of 4-bit quants holds),
// so a weight word serves TC columns and an x element TR rows.
//
// No local memory and no barrier (matmul_tile.comp: on lavapipe a 64 x 64
// shared-memory tile kernel, the first version, was ~10x slower; PoCL also
// runs a kernel without barriers as plain loops over the work-items).
//
// matmul_tile.comp's X_BCAST variant (matmul_tile_bc_<w>: x shared through
// subgroup broadcasts) has no port: it needs subgroups, which the OpenCL
// backend does not report, so the encoder picks this kernel.
//
// Slot 0 is w [K, M, B2w, B3w], slot 1 x [K, N, B2, B3], TOUT the f32 output.
// W_BLOCK (build define) is w's block dtype; undefined for f32/f16/bf16 w,
// whose dtype is DT_SLOT0. x's dtype is DT_SLOT1 (f32, f16 or bf16).
// SPEC0 = WG, the workgroup size (the encoder's 64).
// Flat dispatch over (row group, column group, batch), row groups fastest.
// KU(0) = B2 / B2w, KU(1) = B3 / B3w, KU(2) = row groups, KU(3) = column groups.

#define W_SLOT 0
#define X_SLOT 1

#define TR 8
#define TC 8

#define WG ((uint)get_local_size(0))

// Byte of w's batch that x batch (b2, b3) reads: KU(0) = B2 / B2w, KU(1) = B3 / B3w.
#define w_batch_byte(b2, b3) (((b2) / KU(0)) * TNB(W_SLOT).z + ((b3) / KU(1)) * TNB(W_SLOT).w)

// acc[r][c] += w[quad i of row r] . x[quad i of column c], with the x quads
// given (lo: elements 4i..4i+3 of the block, hi: 16+4i..16+4i+3).
#if defined(W_BLOCK)
inline void quad_update(uint i, const float4 *xlo, const float4 *xhi, const Chunk *wb, float (*acc)[TC]) {
#pragma unroll
  for (uint r = 0; r < TR; ++r) {
    float4 lo, hi;
    chunk_quad(wb[r], i, &lo, &hi);
#pragma unroll
    for (uint c = 0; c < TC; ++c) acc[r][c] += dot(lo, xlo[c]) + dot(hi, xhi[c]);
  }
}
#else
inline void quad_update(uint i, const float4 *xlo, const float4 *xhi, __global const uchar *w, uint wt,
                        uint wnb0, const uint *wrow, uint k0, uint K, bool w_vec4, float (*acc)[TC]) {
#pragma unroll
  for (uint r = 0; r < TR; ++r) {
    const float4 lo = load4(w, wt, wnb0, wrow[r], k0 + 4u * i, K, w_vec4);
    const float4 hi = load4(w, wt, wnb0, wrow[r], k0 + 16u + 4u * i, K, w_vec4);
#pragma unroll
    for (uint c = 0; c < TC; ++c) acc[r][c] += dot(lo, xlo[c]) + dot(hi, xhi[c]);
  }
}
#endif

// The workgroup size is SPEC0 (reqd_work_group_size: the encoder's group
// counts assume WG * TR rows per workgroup, so another local size is refused
// at enqueue instead of leaving rows uncomputed).
__kernel __attribute__((reqd_work_group_size(SPEC0, 1, 1))) void tsr_main(TSR_ARGS) {
  const uint g = flat_group();
  if (g >= N_GROUPS) return;
  const uint lane = (uint)get_local_id(0);

  const uint4 wne = TNE(W_SLOT);
  const uint K = wne.x, M = wne.y;
  const uint4 xne = TNE(X_SLOT);
  const uint N = xne.y, B2 = xne.z;
  const uint rg = g % KU(2);
  const uint cg = (g / KU(2)) % KU(3);
  const uint b = g / (KU(2) * KU(3));
  const uint b2 = b % B2, b3 = b / B2;
  const uint m0 = rg * (WG * TR) + lane, n0 = cg * TC;

  __global const uchar *w = TB(W_SLOT);
  __global const uchar *x = TB(X_SLOT);
  const uint4 wnb = TNB(W_SLOT);
  const uint4 xnb = TNB(X_SLOT);
  const uint xt = TTYPE(X_SLOT);
  const bool x_vec4 = rows_vec4(xt, xnb);
  const uint wbase = w_batch_byte(b2, b3);
  const uint xbase = b2 * xnb.z + b3 * xnb.w;
#if !defined(W_BLOCK)
  const uint wt = TTYPE(W_SLOT);
  const bool w_vec4 = rows_vec4(wt, wnb);
#endif

  // Rows and columns past the end read the last one and are not stored.
  uint wrow[TR], xcol[TC];
#pragma unroll
  for (uint r = 0; r < TR; ++r) wrow[r] = wbase + min(m0 + WG * r, M - 1u) * wnb.y;
#pragma unroll
  for (uint c = 0; c < TC; ++c) xcol[c] = xbase + min(n0 + c, N - 1u) * xnb.y;

  float acc[TR][TC];
#pragma unroll
  for (uint r = 0; r < TR; ++r) {
#pragma unroll
    for (uint c = 0; c < TC; ++c) acc[r][c] = 0.0f;
  }

  const uint n_blocks = (K + 31u) / 32u;
  for (uint blk = 0; blk < n_blocks; ++blk) {
    const uint k0 = blk * 32u;
#if defined(W_BLOCK)
    Chunk wb[TR];
#pragma unroll
    for (uint r = 0; r < TR; ++r) wb[r] = w_chunk(w, W_BLOCK, wrow[r], blk);
#endif
#pragma unroll
    for (uint i = 0; i < 4u; ++i) {
      float4 xlo[TC], xhi[TC];
#pragma unroll
      for (uint c = 0; c < TC; ++c) {
        xlo[c] = load4(x, xt, xnb.x, xcol[c], k0 + 4u * i, K, x_vec4);
        xhi[c] = load4(x, xt, xnb.x, xcol[c], k0 + 16u + 4u * i, K, x_vec4);
      }
#if defined(W_BLOCK)
      quad_update(i, xlo, xhi, wb, acc);
#else
      quad_update(i, xlo, xhi, w, wt, wnb.x, wrow, k0, K, w_vec4, acc);
#endif
    }
  }

  __global uchar *out = TB(TOUT);
  const uint4 onb = TNB(TOUT);
  const uint obase = b2 * onb.z + b3 * onb.w;
#pragma unroll
  for (uint c = 0; c < TC; ++c) {
    if (n0 + c >= N) continue;
#pragma unroll
    for (uint r = 0; r < TR; ++r) {
      const uint m = m0 + WG * r;
      if (m < M) *(__global float *)(out + obase + m * onb.x + (n0 + c) * onb.y) = acc[r][c];
    }
  }
}
