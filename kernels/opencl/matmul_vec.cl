// Matrix-vector matmul for decode (few x columns): out[m, n] = sum_k w[k, m] * x[k, n].
// Port of kernels/vulkan/matmul_vec.comp.
//
// One workgroup computes MV_ROWS weight rows against one x column of one
// batch. K is cut into 32-element blocks (one chunk of the block formats: a
// whole q4_0 block, an eighth of a k-quant super-block); the work-items take
// blocks lane, lane + WG, ... and, per block, load x once and every row's
// chunk once (w_chunk), so the weight is streamed exactly once per column
// and each x element is loaded once per MV_ROWS rows. Then the work-items'
// partial sums meet in local memory and MV_ROWS of them sum one row each.
//
// matmul_vec.comp synchronises that exchange with subgroupBarrier only (a
// workgroup barrier makes lavapipe run a shader as coroutines: +0.7 ms on a
// 1536-row q4_1 matvec that took ~2 ms), its workgroup normally one subgroup.
// OpenCL C 1.2 has no subgroups, so here the exchange is ordered by a
// workgroup barrier, which is right for any workgroup size: the whole
// workgroup is the one "subgroup" of the GLSL (every work-item owns every
// row, as there when gl_NumSubgroups is 1), and the sums are added in the
// same order.
//
// SPEC0 = WG, the workgroup size (a power of two; the encoder's 8..64). Local
// memory: MV_ROWS * WG floats (4 KiB at WG = 64).
// Flat dispatch over (row group, column, batch), row groups fastest.
// KU(0) = B2 / B2w, KU(1) = B3 / B3w, KU(2) = row groups, KU(3) = columns (N).
// Slot 0 is w [K, M, B2w, B3w], slot 1 x [K, N, B2, B3], TOUT the f32 output.
// W_BLOCK (build define) is w's block dtype; undefined for f32/f16/bf16 w,
// whose dtype is DT_SLOT0. x's dtype is DT_SLOT1 (f32, f16 or bf16).

#define W_SLOT 0
#define X_SLOT 1

#ifndef MV_ROWS
#define MV_ROWS 16
#endif

#define WG SPEC0

// Byte of w's batch that x batch (b2, b3) reads: KU(0) = B2 / B2w, KU(1) = B3 / B3w.
#define w_batch_byte(b2, b3) (((b2) / KU(0)) * TNB(W_SLOT).z + ((b3) / KU(1)) * TNB(W_SLOT).w)

// q4_K, q5_K and q6_K super-blocks are read a pair of chunks at a time (read_pair).
inline bool pair_format(uint dt) { return dt == DT_Q4_K || dt == DT_Q5_K || dt == DT_Q6_K; }

// The local array is sized by SPEC0, so the workgroup must be exactly SPEC0
// work-items (another local size is refused at enqueue).
__kernel __attribute__((reqd_work_group_size(SPEC0, 1, 1))) void tsr_main(TSR_ARGS) {
  __local float red[MV_ROWS][WG];

  const uint g = flat_group();
  // A group past N_GROUPS (padding of a flat dispatch) computes and stores
  // nothing, but does not return: every work-item reaches the barrier. The
  // GLSL returns, and OpenCL allows it when the whole workgroup returns, but
  // PoCL 3.1 (LLVM 15) then ran this kernel wrong with 32 or more work-items
  // (the second workgroup stored zeros or nothing, though no group returned);
  // without the return, or without unrolling the store loop into red, it is
  // right. A small kernel of the same shape did not show it.
  const bool live = g < N_GROUPS;
  const uint lanes = WG;
  const uint lane = (uint)get_local_id(0);

  const uint4 wne = TNE(W_SLOT);
  const uint K = wne.x, M = wne.y;
  const uint B2 = TNE(X_SLOT).z;
  const uint rg = g % KU(2);
  const uint n = (g / KU(2)) % KU(3);
  const uint b = g / (KU(2) * KU(3));
  const uint b2 = b % B2, b3 = b / B2;
  const uint m0 = rg * MV_ROWS;

  __global const uchar *w = TB(W_SLOT);
  __global const uchar *x = TB(X_SLOT);
  const uint4 wnb = TNB(W_SLOT);
  const uint4 xnb = TNB(X_SLOT);
  const uint xt = TTYPE(X_SLOT);
  const bool x_vec4 = rows_vec4(xt, xnb);
  const uint wbase = w_batch_byte(b2, b3);
  const uint xcol = n * xnb.y + b2 * xnb.z + b3 * xnb.w;
#if !defined(W_BLOCK)
  const uint wt = TTYPE(W_SLOT);
  const bool w_vec4 = rows_vec4(wt, wnb);
#endif

  float acc[MV_ROWS];
#pragma unroll
  for (uint r = 0; r < MV_ROWS; ++r) acc[r] = 0.0f;
  const uint n_blocks = live ? (K + 31u) / 32u : 0u;
#if defined(W_BLOCK)
  // q4_K, q5_K, q6_K: a work-item takes pairs of chunks that share their
  // quant bytes and scales (read_pair). K is whole super-blocks here.
  const bool pairs = pair_format(W_BLOCK);
  for (uint p = lane; pairs && p < n_blocks / 2u; p += lanes) {
    uint ca, cb;
    pair_chunks(W_BLOCK, p % 4u, &ca, &cb);
    const uint k0 = (p / 4u) * 256u;
    float4 xa[8], xb[8];
    load32(x, xt, xnb.x, xcol, k0 + 32u * ca, K, x_vec4, xa);
    load32(x, xt, xnb.x, xcol, k0 + 32u * cb, K, x_vec4, xb);
    const float4 one = (float4)(1.0f);
    const float2 sa =
        (float2)(dot(xa[0] + xa[1] + xa[2] + xa[3], one), dot(xa[4] + xa[5] + xa[6] + xa[7], one));
    const float2 sb =
        (float2)(dot(xb[0] + xb[1] + xb[2] + xb[3], one), dot(xb[4] + xb[5] + xb[6] + xb[7], one));
#pragma unroll
    for (uint r = 0; r < MV_ROWS; ++r) {
      const uint wrow = wbase + min(m0 + r, M - 1u) * wnb.y;
      Chunk c0, c1;
      read_pair(w, W_BLOCK, wrow + (p / 4u) * block_bytes(W_BLOCK), p % 4u, &c0, &c1);
      acc[r] += chunk_dot(c0, xa, sa) + chunk_dot(c1, xb, sb);
    }
  }
  for (uint blk = pairs ? n_blocks : lane; blk < n_blocks; blk += lanes) {
#else
  for (uint blk = lane; blk < n_blocks; blk += lanes) {
#endif
    float4 xv[8];
    load32(x, xt, xnb.x, xcol, blk * 32u, K, x_vec4, xv);
#if defined(W_BLOCK)
    const float4 s_lo = xv[0] + xv[1] + xv[2] + xv[3], s_hi = xv[4] + xv[5] + xv[6] + xv[7];
    const float2 sx = (float2)(dot(s_lo, (float4)(1.0f)), dot(s_hi, (float4)(1.0f)));
#endif
#pragma unroll
    for (uint r = 0; r < MV_ROWS; ++r) {
      const uint wrow = wbase + min(m0 + r, M - 1u) * wnb.y;
#if defined(W_BLOCK)
      acc[r] += chunk_dot(w_chunk(w, W_BLOCK, wrow, blk), xv, sx);
#else
      float4 wv[8];
      load32(w, wt, wnb.x, wrow, blk * 32u, K, w_vec4, wv);
      float s = 0.0f;
#pragma unroll
      for (uint i = 0; i < 8u; ++i) s += dot(wv[i], xv[i]);
      acc[r] += s;
#endif
    }
  }

  // ---- sum the work-items' partials, one row per work-item ----
#pragma unroll
  for (uint r = 0; r < MV_ROWS; ++r) red[r][lane] = acc[r];
  barrier(CLK_LOCAL_MEM_FENCE);
  __global uchar *out = TB(TOUT);
  const uint4 onb = TNB(TOUT);
  for (uint r = lane; live && r < MV_ROWS; r += lanes) {
    float s = 0.0f;
    for (uint i = 0; i < lanes; ++i) s += red[r][i];
    if (m0 + r < M) *(__global float *)(out + (m0 + r) * onb.x + n * onb.y + b2 * onb.z + b3 * onb.w) = s;
  }
}
