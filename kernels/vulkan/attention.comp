#version 450
// Fused attention, flash-attention style: one workgroup per (query head,
// token) walks the visible kv rows in blocks of WG rows with an online
// softmax in f32. Within a block every invocation scores one kv row (so a
// single decode token still spreads its kv length over the whole workgroup),
// then the invocations split the V accumulation by head dim and by row.
//
// Slots: 0 q [D, n_head, n_tokens] (f32/f16/bf16), 1 k, 2 v
// [D, n_kv_head, kv_size] (KV_F16 defined: f16, else f32), 3 pos i32
// [n_tokens] (read when causal), TOUT out f32 [D, n_head, n_tokens].
// ip[0] causal, ip[1] step parameter holding the kv length (-1: kv_size),
// fp[0] scale (0: 1/sqrt(D)). The kv length is read here, per execution, so
// a prepared graph serves every step.
#include "common.glsl"

#define WG 128
#define MAX_D 512
#define ACC_N (MAX_D / WG)  // head dims per invocation when D > WG
layout(local_size_x = WG) in;
#include "norm_reduce.glsl"

#ifdef KV_F16
#define LOAD_KV(t, byte) f16_at(t, byte)
#else
#define LOAD_KV(t, byte) uintBitsToFloat(t32[t].w[(byte) >> 2])
#endif

shared float q_s[MAX_D];  // the query row, scaled
shared float p_s[WG];     // scores, then probabilities, of the current block

void main() {
  const uint g = flat_group();
  if (g >= N_GROUPS) return;
  const uint tid = gl_LocalInvocationIndex;
  const uint D = TNE(0).x, n_head = TNE(0).y;
  const uint h = g % n_head, t = g / n_head;
  const uint kvh = h / (n_head / TNE(1).y);
  const int kv_size = int(TNE(1).z);

  // Visible kv rows 0 .. n_vis-1 (uniform over the workgroup).
  int len = IP(1) >= 0 ? clamp(STEP(IP(1)), 0, kv_size) : kv_size;
  if (IP(0) != 0) len = clamp(int(t32[3].w[elem_byte(3, t, 0, 0, 0) >> 2]) + 1, 0, len);
  const uint n_vis = uint(len);

  const float scale = FP(0) == 0.0 ? inversesqrt(float(D)) : FP(0);
  for (uint d = tid; d < D; d += WG) q_s[d] = load_float(0, TTYPE(0), elem_byte(0, d, h, t, 0)) * scale;

  // V phase layout: DC dim lanes times R row groups.
  const uint DC = min(D, WG);
  const uint R = WG / DC;
  const uint lane = tid % DC, rgrp = tid / DC;
  const uint n_acc = (D + DC - 1) / DC;

  const uint kb = elem_byte(1, 0, kvh, 0, 0), knb0 = TNB(1).x, knb2 = TNB(1).z;
  const uint vb = elem_byte(2, lane, kvh, 0, 0), vnb0 = TNB(2).x, vnb2 = TNB(2).z;

  float acc[ACC_N];
  [[unroll]] for (uint k = 0; k < ACC_N; ++k) acc[k] = 0.0;
  float m = -1.0 / 0.0;  // running max of the scores
  float l_part = 0.0;    // this invocation's part of the softmax denominator
  barrier();  // q_s

  for (uint j0 = 0; j0 < n_vis; j0 += WG) {
    const uint j = j0 + tid;
    float s = -1.0 / 0.0;
    if (j < n_vis) {
      const uint rb = kb + j * knb2;
      s = 0.0;
      for (uint d = 0; d < D; ++d) s += q_s[d] * LOAD_KV(1, rb + d * knb0);
    }
    const float bmax = wg_max(s);
    if (bmax == -1.0 / 0.0) continue;  // every score -inf: the block adds nothing
    const float m_new = max(m, bmax);
    const float corr = exp(m - m_new);  // 0 on the first block
    const float p = exp(s - m_new);     // 0 past n_vis
    p_s[tid] = p;
    l_part = l_part * corr + p;
    m = m_new;
    barrier();

    const uint nj = min(uint(WG), n_vis - j0);
    if (rgrp < R) {
      [[unroll]] for (uint k = 0; k < ACC_N; ++k) {
        if (k < n_acc && lane + k * DC < D) {
          float a = acc[k] * corr;
          const uint b = vb + k * DC * vnb0;
          for (uint jj = rgrp; jj < nj; jj += R) a += p_s[jj] * LOAD_KV(2, b + (j0 + jj) * vnb2);
          acc[k] = a;
        }
      }
    }
    barrier();  // p_s is rewritten by the next block
  }

  const float l = wg_sum(l_part);
  const float inv = l > 0.0 ? 1.0 / l : 0.0;  // no visible rows: zeros

  // Sum the R row groups' partial accumulators, one head-dim slice at a time.
  const uint odt = TTYPE(TOUT), ob = elem_byte(TOUT, 0, h, t, 0), onb = TNB(TOUT).x;
  [[unroll]] for (uint k = 0; k < ACC_N; ++k) {
    if (k >= n_acc) break;  // uniform
    p_s[tid] = acc[k];
    barrier();
    const uint d = lane + k * DC;
    if (rgrp == 0u && d < D) {
      float a = 0.0;
      for (uint r = 0; r < R; ++r) a += p_s[lane + r * DC];
      store_float(TOUT, odt, ob + d * onb, a * inv);
    }
    barrier();
  }
}
