#version 450
// Matrix-vector matmul for decode (few x columns): out[m, n] = sum_k w[k, m] * x[k, n].
//
// One workgroup computes MV_ROWS weight rows against up to MV_COLS x columns of
// one batch. The K axis is cut into units of 16 elements (half a block for the
// block formats); invocation i takes units i, i + MV_WG, ... so the weight is
// streamed once and every decoded unit serves all columns. Partial sums meet
// in a shared-memory tree (no subgroup arithmetic: not every device has it).
//
// Flat dispatch over (row group, column group, batch), row groups fastest.
// KU(0) = B2 / B2w, KU(1) = B3 / B3w, KU(2) = row groups, KU(3) = column groups.
#include "common.glsl"
#include "matmul_w.glsl"

#ifndef MV_WG
#define MV_WG 64
#endif
#ifndef MV_ROWS
#define MV_ROWS 4
#endif
#ifndef MV_COLS
#define MV_COLS 4
#endif

layout(local_size_x = MV_WG) in;

shared float red[MV_ROWS * MV_COLS][MV_WG];

// Offset (in elements, from the unit's first element) of value j of a unit in
// the order the weight words deliver it. A q4 word holds elements (e, e+1) in
// its low nibbles and (e+16, e+17) in its high nibbles.
uint unit_off(uint j) {
#if defined(W_Q4_0) || defined(W_Q4_1)
  return (j >> 2) * 2u + ((j & 3u) < 2u ? (j & 3u) : 14u + (j & 3u));
#else
  return j;
#endif
}

void main() {
  const uint g = flat_group();
  if (g >= N_GROUPS) return;
  const uint tid = gl_LocalInvocationID.x;

  const uint K = TNE(W_SLOT).x, M = TNE(W_SLOT).y;
  const uvec4 xne = TNE(X_SLOT);
  const uint N = xne.y, B2 = xne.z;
  const uint rg = g % KU(2);
  const uint cg = (g / KU(2)) % KU(3);
  const uint b = g / (KU(2) * KU(3));
  const uint b2 = b % B2, b3 = b / B2;
  const uint m0 = rg * MV_ROWS, n0 = cg * MV_COLS;
  const uint nc = min(MV_COLS, N - n0);

  const uvec4 wnb = TNB(W_SLOT);
  const uvec4 xnb = TNB(X_SLOT);
  const uint xt = TTYPE(X_SLOT);
  const uint wbase = w_batch_byte(b2, b3);
  const uint xbase = TOFF(X_SLOT) + n0 * xnb.y + b2 * xnb.z + b3 * xnb.w;

  uint wrow[MV_ROWS];
  [[unroll]] for (uint r = 0; r < MV_ROWS; ++r) wrow[r] = wbase + min(m0 + r, M - 1u) * wnb.y;

  float acc[MV_ROWS][MV_COLS];
  [[unroll]] for (uint r = 0; r < MV_ROWS; ++r) {
    [[unroll]] for (uint c = 0; c < MV_COLS; ++c) acc[r][c] = 0.0;
  }

  const uint n_units = (K + 15u) / 16u;
  for (uint u = tid; u < n_units; u += MV_WG) {
    // ---- decode this unit of every row ----
    vec4 wq[MV_ROWS][4];
    float wd[MV_ROWS];
#if defined(W_Q4_1)
    float wm[MV_ROWS];
#endif
    uint k_unit;
#if defined(W_BLOCK)
    const uint blk = u >> 1u, half_ = u & 1u;
#if defined(W_Q8_0)
    k_unit = blk * 32u + half_ * 16u;
#else
    k_unit = blk * 32u + half_ * 8u;
#endif
    [[unroll]] for (uint r = 0; r < MV_ROWS; ++r) {
      const uint bb = wrow[r] + blk * W_BLOCK_BYTES;
      wd[r] = w_f16(bb);
#if defined(W_Q4_1)
      wm[r] = w_f16(bb + 2u);
#endif
#if defined(W_Q8_0)
      const uint q = bb + W_QS + half_ * 16u;
      [[unroll]] for (uint i = 0; i < 4; ++i) wq[r][i] = vec4(int8_pair(q + 4u * i), int8_pair(q + 4u * i + 2u));
#else
      const uint q = bb + W_QS + half_ * 8u;
      [[unroll]] for (uint i = 0; i < 4; ++i) wq[r][i] = nibbles(q + 2u * i);
#endif
    }
#else
    // Float weights, any dim-0 stride. The K tail is zero on both sides.
    k_unit = u * 16u;
    [[unroll]] for (uint r = 0; r < MV_ROWS; ++r) {
      wd[r] = 1.0;
      [[unroll]] for (uint i = 0; i < 4; ++i) {
        vec4 v;
        [[unroll]] for (uint j = 0; j < 4; ++j) {
          const uint k = k_unit + 4u * i + j;
          v[j] = k < K ? w_float_at(wrow[r] + k * wnb.x) : 0.0;
        }
        wq[r][i] = v;
      }
    }
#endif

    // ---- every column against the decoded rows ----
    [[unroll]] for (uint c = 0; c < MV_COLS; ++c) {
      if (c < nc) {
        const uint xcol = xbase + c * xnb.y;
        vec4 xv[4];
        [[unroll]] for (uint i = 0; i < 4; ++i) {
          vec4 v;
          [[unroll]] for (uint j = 0; j < 4; ++j) {
            const uint k = k_unit + unit_off(4u * i + j);
#if defined(W_BLOCK)
            v[j] = x_at(xt, xcol + k * xnb.x);
#else
            v[j] = k < K ? x_at(xt, xcol + k * xnb.x) : 0.0;
#endif
          }
          xv[i] = v;
        }
#if defined(W_Q4_0) || defined(W_Q4_1)
        const float sx = dot(xv[0] + xv[1] + xv[2] + xv[3], vec4(1.0));
#endif
        [[unroll]] for (uint r = 0; r < MV_ROWS; ++r) {
          const float d = dot(wq[r][0], xv[0]) + dot(wq[r][1], xv[1]) + dot(wq[r][2], xv[2]) + dot(wq[r][3], xv[3]);
#if defined(W_Q4_0)
          acc[r][c] += wd[r] * (d - 8.0 * sx);
#elif defined(W_Q4_1)
          acc[r][c] += wd[r] * d + wm[r] * sx;
#else
          acc[r][c] += wd[r] * d;
#endif
        }
      }
    }
  }

  // ---- reduce over the workgroup ----
  [[unroll]] for (uint r = 0; r < MV_ROWS; ++r) {
    [[unroll]] for (uint c = 0; c < MV_COLS; ++c) red[c * MV_ROWS + r][tid] = acc[r][c];
  }
  const uint n_sums = MV_ROWS * nc;
  [[unroll]] for (uint s = MV_WG / 2u; s > 0u; s >>= 1u) {
    barrier();
    if (tid < s) {
      for (uint j = 0; j < n_sums; ++j) red[j][tid] += red[j][tid + s];
    }
  }
  barrier();
  if (tid < n_sums) {
    const uint r = tid % MV_ROWS, c = tid / MV_ROWS;
    if (m0 + r < M) {
      const uvec4 onb = TNB(TOUT);
      const uint ob = TOFF(TOUT) + (m0 + r) * onb.x + (n0 + c) * onb.y + b2 * onb.z + b3 * onb.w;
      t32[TOUT].w[ob >> 2] = floatBitsToUint(red[tid][0]);
    }
  }
}
