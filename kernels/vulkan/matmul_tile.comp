#version 450
// Tiled matmul for prefill (many x columns): out[m, n] = sum_k w[k, m] * x[k, n].
//
// One workgroup of 256 invocations computes a 64 (m) x 64 (n) output tile of
// one batch, 4 x 4 outputs per invocation. K advances 32 at a time (one block
// of the block formats): each step decodes the 64 x 32 weight slice and the
// 32 x 64 x slice into shared memory once, then every invocation runs 32
// rank-1 updates of its 4 x 4 accumulators from there. An invocation owns
// rows tm + 16i and columns tn + 16j, so neighbouring invocations read
// neighbouring shared words and write neighbouring output elements.
//
// Flat dispatch over (m tile, n tile, batch), m tiles fastest so the x tile
// stays in cache while the weight streams.
// KU(0) = B2 / B2w, KU(1) = B3 / B3w, KU(2) = m tiles, KU(3) = n tiles.
#include "common.glsl"
#include "matmul_w.glsl"

#define TM 64u
#define TN 64u
#define TK 32u
#define WG 256u
#define PAD 1u  // breaks the power-of-two stride between shared rows

layout(local_size_x = 256) in;

shared float ws[TK][TM + PAD];  // ws[k][m]
shared float xs[TK][TN + PAD];  // xs[k][n]

void main() {
  const uint g = flat_group();
  if (g >= N_GROUPS) return;
  const uint tid = gl_LocalInvocationID.x;

  const uint K = TNE(W_SLOT).x, M = TNE(W_SLOT).y;
  const uvec4 xne = TNE(X_SLOT);
  const uint N = xne.y, B2 = xne.z;
  const uint tmi = g % KU(2);
  const uint tni = (g / KU(2)) % KU(3);
  const uint b = g / (KU(2) * KU(3));
  const uint b2 = b % B2, b3 = b / B2;
  const uint m0 = tmi * TM, n0 = tni * TN;

  const uvec4 wnb = TNB(W_SLOT);
  const uvec4 xnb = TNB(X_SLOT);
  const uint xt = TTYPE(X_SLOT);

  // Weight loader: 4 invocations per weight row, 8 elements each per K step.
  const uint lrow = tid >> 2u, lpart = tid & 3u;
  const bool lrow_ok = m0 + lrow < M;
  const uint wrow = w_batch_byte(b2, b3) + min(m0 + lrow, M - 1u) * wnb.y;
  // x loader: k = tid % 32 (contiguous in memory for the usual layout), columns tid / 32 + 8i.
  const uint xk = tid & 31u, xn = tid >> 5u;
  const uint xbase = TOFF(X_SLOT) + b2 * xnb.z + b3 * xnb.w;

  const uint tm = tid & 15u, tn = tid >> 4u;
  float acc[4][4];
  [[unroll]] for (uint i = 0; i < 4; ++i) {
    [[unroll]] for (uint j = 0; j < 4; ++j) acc[i][j] = 0.0;
  }

  for (uint k0 = 0; k0 < K; k0 += TK) {
    // ---- weight slice -> ws ----
#if defined(W_BLOCK)
    {
      const uint bb = wrow + (k0 / 32u) * W_BLOCK_BYTES;
      const float d = w_f16(bb);
#if defined(W_Q8_0)
      const uint q = bb + W_QS + lpart * 8u;
      [[unroll]] for (uint i = 0; i < 4; ++i) {
        const vec2 v = int8_pair(q + 2u * i);
        ws[lpart * 8u + 2u * i][lrow] = lrow_ok ? d * v.x : 0.0;
        ws[lpart * 8u + 2u * i + 1u][lrow] = lrow_ok ? d * v.y : 0.0;
      }
#else
#if defined(W_Q4_1)
      const float mn = w_f16(bb + 2u);
#else
      const float mn = -8.0 * d;
#endif
      const uint q = bb + W_QS + lpart * 4u;
      [[unroll]] for (uint i = 0; i < 2; ++i) {
        const vec4 v = lrow_ok ? d * nibbles(q + 2u * i) + mn : vec4(0.0);
        const uint e = lpart * 4u + 2u * i;
        ws[e][lrow] = v.x;
        ws[e + 1u][lrow] = v.y;
        ws[e + 16u][lrow] = v.z;
        ws[e + 17u][lrow] = v.w;
      }
#endif
    }
#else
    [[unroll]] for (uint i = 0; i < 8; ++i) {
      const uint e = lpart * 8u + i;
      const uint k = k0 + e;
      ws[e][lrow] = (lrow_ok && k < K) ? w_float_at(wrow + k * wnb.x) : 0.0;
    }
#endif
    // ---- x slice -> xs ----
    [[unroll]] for (uint i = 0; i < 8; ++i) {
      const uint n = xn + 8u * i;
      const uint k = k0 + xk;
      xs[xk][n] = (n0 + n < N && k < K) ? x_at(xt, xbase + k * xnb.x + (n0 + n) * xnb.y) : 0.0;
    }
    barrier();

    [[unroll]] for (uint k = 0; k < TK; ++k) {
      vec4 a, c;
      [[unroll]] for (uint i = 0; i < 4; ++i) a[i] = ws[k][tm + 16u * i];
      [[unroll]] for (uint j = 0; j < 4; ++j) c[j] = xs[k][tn + 16u * j];
      [[unroll]] for (uint i = 0; i < 4; ++i) {
        [[unroll]] for (uint j = 0; j < 4; ++j) acc[i][j] += a[i] * c[j];
      }
    }
    barrier();
  }

  const uvec4 onb = TNB(TOUT);
  const uint obase = TOFF(TOUT) + b2 * onb.z + b3 * onb.w;
  [[unroll]] for (uint j = 0; j < 4; ++j) {
    const uint n = n0 + tn + 16u * j;
    if (n >= N) continue;
    [[unroll]] for (uint i = 0; i < 4; ++i) {
      const uint m = m0 + tm + 16u * i;
      if (m < M) t32[TOUT].w[(obase + m * onb.x + n * onb.y) >> 2] = floatBitsToUint(acc[i][j]);
    }
  }
}
