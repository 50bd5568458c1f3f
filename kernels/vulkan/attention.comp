#version 450
// Fused attention, flash-attention style, f32 softmax and accumulation.
//
// One workgroup per (token, kv head, chunk of HB query heads sharing that kv
// head), so every K and V row loaded serves all HB heads. Each invocation
// walks its own slice of the visible kv rows (first + tid, + WG, ...) with
// its own online softmax (running max, denominator and accumulators in
// registers); the slices are combined once at the end, with subgroup
// reductions (SUBGROUP variant) or through shared memory alone. No barrier
// per kv row or block: a decode token spreads its kv length over the whole
// workgroup; a prefill token early in the sequence leaves invocations idle.
//
// Slots: 0 q [D, n_head, n_tokens] (f32/f16/bf16), 1 k and 2 v
// [D, n_kv_head, kv_size] (f32/f16 each), 3 pos i32 [n_tokens] (read when
// causal), TOUT out f32 [D, n_head, n_tokens].
// ip[0] causal, ip[1] step parameter holding the kv length (-1: kv_size),
// ip[2] sliding window W (0: none; causal only), fp[0] scale (0: 1/sqrt(D)).
// KU(0) workgroups per kv head (head chunks).
// The kv length is read here on every execution, so one recorded graph
// serves every step.
//
// PAGED (paged_attention): k and v are a pool of blocks of ip[0] rows, slot
// 4 seq i32 [n_tokens], slot 5 block_table i32 [max_blocks, n_rows]; token t
// is always causal and walks the logical rows of its sequence, each mapped
// to its pool row by kv_row() below. That mapping and the visible range are
// all that differ: the walk, the softmax and the combine are one body.
#include "common.glsl"

// Specialization: heads per workgroup, head dim (the register arrays are
// sized by both), workgroup size, and FLAGS: bit 0 (k) / bit 1 (v) set when
// every row is contiguous f16 on a 4-byte boundary (one 32-bit load per pair
// of dims instead of two 16-bit loads); bits 2.. the subgroups per workgroup,
// ceil(WG / subgroupSize) (SUBGROUP variant only).
layout(constant_id = 0) const uint HB = 1;
layout(constant_id = 1) const uint D = 64;
layout(constant_id = 2) const uint WG = 64;
layout(constant_id = 3) const uint FLAGS = 0;
layout(local_size_x_id = 2) in;

const uint KV_WORDS = FLAGS & 3u;
const uint NP = (D + 1) / 2;  // dim pairs
const uint COLS = HB * D;     // accumulator columns (head, dim) of a workgroup
const float NEG_INF = -1.0 / 0.0;

#ifdef SUBGROUP
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
const uint NSG = FLAGS >> 2;
shared float sg_s[2 * HB][NSG];    // per subgroup: max, then denominator of each head
shared vec2 part_s[HB * NP][NSG];  // per subgroup: accumulator pair sums
#else
// Columns exported per combine round: as many as fit in 16 KiB.
const uint CHUNK = COLS < 4096 / (WG + 1) ? COLS : 4096 / (WG + 1);
shared float ml_s[2 * HB][WG];      // each invocation's running max, then denominator
shared float acc_s[CHUNK][WG + 1];  // accumulators, one column per row (+1: no bank conflicts)
#endif

// Dims (2p, 2p+1) of the kv row of tensor t at byte `row` (0 past D).
// `words`: the row is contiguous f16 on a 4-byte boundary, one load per pair.
vec2 load_pair(uint t, uint row, uint p, uint nb0, bool words) {
  if (words) return unpackHalf2x16(t32[t].w[(row >> 2) + p]);
  const uint d = 2u * p, dt = TTYPE(t);
  return vec2(load_float(t, dt, row + d * nb0), d + 1u < D ? load_float(t, dt, row + (d + 1u) * nb0) : 0.0);
}

#ifdef PAGED
// The pool row of logical row j of sequence s (j inside the table's
// max_blocks * bs rows, s inside its n_rows), or -1 when the table names a
// block outside the pool's kv_size / bs blocks.
int kv_row(uint j, uint s) {
  const uint bs = uint(IP(0));
  const int b = int(t32[5].w[elem_byte(5, j / bs, s, 0, 0) >> 2]);
  if (b < 0 || uint(b) >= TNE(1).z / bs) return -1;
  return int(uint(b) * bs + j % bs);
}
#endif

void main() {
  const uint g = flat_group();
  if (g >= N_GROUPS) return;
  const uint tid = gl_LocalInvocationIndex;
  const uint n_head = TNE(0).y, n_kv_head = TNE(1).y;
  const uint chunks = KU(0);
  const uint chunk = g % chunks, kvh = (g / chunks) % n_kv_head, t = g / (chunks * n_kv_head);
  const uint group = n_head / n_kv_head;
  const uint h0 = kvh * group + chunk * HB;      // first query head of this workgroup
  const uint nh = min(HB, group - chunk * HB);   // heads here; the last chunk may have fewer
  const int kv_size = int(TNE(1).z);

  // Visible kv rows first .. n_vis-1 (uniform over the workgroup: all its
  // queries are one token's, so they share one position and one window).
  int first = 0;
#ifdef PAGED
  // The device cannot report bad integer inputs, so they are clamped here
  // and in kv_row: a seq outside the table's rows sees nothing, a position
  // past the table's max_blocks * bs rows (a product the encoder keeps below
  // 2^31) is cut to it, so the table is read only at [j / bs, seq] inside
  // it. The output of such a token is unspecified; no read leaves k, v or
  // the table.
  const int s = int(t32[4].w[elem_byte(4, t, 0, 0, 0) >> 2]);
  const bool seq_ok = s >= 0 && s < int(TNE(5).y);
  int len = seq_ok ? int(TNE(5).x) * IP(0) : 0;
  const bool causal = true;
#else
  int len = IP(1) >= 0 ? clamp(STEP(IP(1)), 0, kv_size) : kv_size;
  const bool causal = IP(0) != 0;
#endif
  if (causal) {
    const int p = int(t32[3].w[elem_byte(3, t, 0, 0, 0) >> 2]);
    len = clamp(p + 1, 0, len);
    // A sliding window starts the walk at p - W + 1 rather than masking the
    // rows before it: decode against a long cache reads W rows, not p + 1.
    // (Written so that p - W cannot overflow.)
    if (IP(2) > 0 && p >= IP(2)) first = p - IP(2) + 1;
  }
  const uint n_vis = uint(len);

  // The scaled query rows, in registers (zero for heads past nh).
  const float scale = FP(0) == 0.0 ? inversesqrt(float(D)) : FP(0);
  const uint qdt = TTYPE(0);
  vec2 q[HB][NP];
  [[unroll]] for (uint h = 0; h < HB; ++h) {
    const uint hq = min(h0 + h, n_head - 1u);
    const float hs = h < nh ? scale : 0.0;
    [[unroll]] for (uint p = 0; p < NP; ++p) {
      const uint d = 2u * p;
      q[h][p] = hs * vec2(load_float(0, qdt, elem_byte(0, d, hq, t, 0)),
                          d + 1u < D ? load_float(0, qdt, elem_byte(0, d + 1u, hq, t, 0)) : 0.0);
    }
  }

  const uint kb = elem_byte(1, 0, kvh, 0, 0), knb0 = TNB(1).x, knb2 = TNB(1).z;
  const uint vb = elem_byte(2, 0, kvh, 0, 0), vnb0 = TNB(2).x, vnb2 = TNB(2).z;
  const bool k_words = (KV_WORDS & 1u) != 0u, v_words = (KV_WORDS & 2u) != 0u;

  // This invocation's online softmax over rows first + tid, first + tid + WG, ...
  vec2 acc[HB][NP];
  float m[HB], l[HB];
  [[unroll]] for (uint h = 0; h < HB; ++h) {
    m[h] = NEG_INF;
    l[h] = 0.0;
    [[unroll]] for (uint p = 0; p < NP; ++p) acc[h][p] = vec2(0.0);
  }
  for (uint j = uint(first) + tid; j < n_vis; j += WG) {
#ifdef PAGED
    const int row = kv_row(j, uint(s));
    if (row < 0) continue;  // a block id outside the pool: the row is skipped
#else
    const uint row = j;
#endif
    const uint krow = kb + uint(row) * knb2;
    float s[HB];
    [[unroll]] for (uint h = 0; h < HB; ++h) s[h] = 0.0;
    [[unroll]] for (uint p = 0; p < NP; ++p) {
      const vec2 kv = load_pair(1, krow, p, knb0, k_words);
      [[unroll]] for (uint h = 0; h < HB; ++h) s[h] += dot(q[h][p], kv);
    }
    float corr[HB], w[HB];
    [[unroll]] for (uint h = 0; h < HB; ++h) {
      // m is -inf only before the first finite score: nothing to rescale yet.
      const float m_new = max(m[h], s[h]);
      corr[h] = m_new == NEG_INF ? 1.0 : exp(m[h] - m_new);
      w[h] = m_new == NEG_INF ? 0.0 : exp(s[h] - m_new);
      l[h] = l[h] * corr[h] + w[h];
      m[h] = m_new;
    }
    const uint vrow = vb + uint(row) * vnb2;
    [[unroll]] for (uint p = 0; p < NP; ++p) {
      const vec2 vv = load_pair(2, vrow, p, vnb0, v_words);
      [[unroll]] for (uint h = 0; h < HB; ++h) acc[h][p] = acc[h][p] * corr[h] + w[h] * vv;
    }
  }

  const uint ob = elem_byte(TOUT, 0, 0, t, 0), onb0 = TNB(TOUT).x, onb1 = TNB(TOUT).y;
#ifdef SUBGROUP
  // Combine the slices with subgroup reductions: the workgroup's max of each
  // head, every slice rescaled to it, then sums. Across subgroups (NSG > 1)
  // through shared memory; with one subgroup (CPU devices) no barrier at all.
  float mx[HB];
  [[unroll]] for (uint h = 0; h < HB; ++h) mx[h] = subgroupMax(m[h]);
  if (NSG > 1u) {
    if (subgroupElect()) [[unroll]] for (uint h = 0; h < HB; ++h) sg_s[h][gl_SubgroupID] = mx[h];
    barrier();
    [[unroll]] for (uint h = 0; h < HB; ++h)
      for (uint i = 0; i < NSG; ++i) mx[h] = max(mx[h], sg_s[h][i]);
  }
  float f[HB], lsum[HB];
  [[unroll]] for (uint h = 0; h < HB; ++h) {
    f[h] = m[h] == NEG_INF ? 0.0 : exp(m[h] - mx[h]);  // 0 for a slice that saw no row
    lsum[h] = subgroupAdd(l[h] * f[h]);
  }
  if (NSG == 1u) {
    [[unroll]] for (uint h = 0; h < HB; ++h) {
      const float inv = lsum[h] > 0.0 ? 1.0 / lsum[h] : 0.0;  // no visible rows: zeros
      [[unroll]] for (uint p = 0; p < NP; ++p) {
        const vec2 a = subgroupAdd(acc[h][p] * f[h]) * inv;
        if (tid == (h * NP + p) % WG && h < nh) {
          const uint ab = ob + (h0 + h) * onb1 + 2u * p * onb0;
          t32[TOUT].w[ab >> 2] = floatBitsToUint(a.x);
          if (2u * p + 1u < D) t32[TOUT].w[(ab + onb0) >> 2] = floatBitsToUint(a.y);
        }
      }
    }
    return;
  }
  const bool lead = subgroupElect();
  [[unroll]] for (uint h = 0; h < HB; ++h) {
    if (lead) sg_s[HB + h][gl_SubgroupID] = lsum[h];
    [[unroll]] for (uint p = 0; p < NP; ++p) {
      const vec2 a = subgroupAdd(acc[h][p] * f[h]);
      if (lead) part_s[h * NP + p][gl_SubgroupID] = a;
    }
  }
  barrier();
  for (uint c = tid; c < HB * NP; c += WG) {
    const uint h = c / NP, p = c % NP;
    if (h < nh) {
      vec2 a = vec2(0.0);
      float ls = 0.0;
      for (uint i = 0; i < NSG; ++i) {
        a += part_s[c][i];
        ls += sg_s[HB + h][i];
      }
      a *= ls > 0.0 ? 1.0 / ls : 0.0;
      const uint ab = ob + (h0 + h) * onb1 + 2u * p * onb0;
      t32[TOUT].w[ab >> 2] = floatBitsToUint(a.x);
      if (2u * p + 1u < D) t32[TOUT].w[(ab + onb0) >> 2] = floatBitsToUint(a.y);
    }
  }
#else
  // Combine the slices: each invocation exports its (m, l) and accumulators;
  // after a barrier each column (head h, dim d) is summed over the slices,
  // every slice rescaled to the workgroup's max of head h.
  [[unroll]] for (uint h = 0; h < HB; ++h) {
    ml_s[h][tid] = m[h];
    ml_s[HB + h][tid] = l[h];
  }
  [[unroll]] for (uint c0 = 0; c0 < COLS; c0 += CHUNK) {
    [[unroll]] for (uint c = 0; c < CHUNK; ++c) {
      const uint col = c0 + c, h = col / D, d = col % D;
      if (col < COLS) acc_s[c][tid] = d % 2u == 0u ? acc[h][d / 2u].x : acc[h][d / 2u].y;
    }
    barrier();
    for (uint c = tid; c < CHUNK && c0 + c < COLS; c += WG) {
      const uint col = c0 + c, h = col / D, d = col % D;
      if (h < nh) {
        float mx = NEG_INF;
        for (uint r = 0; r < WG; ++r) mx = max(mx, ml_s[h][r]);
        float a = 0.0, lsum = 0.0;
        if (mx != NEG_INF) {
          for (uint r = 0; r < WG; ++r) {
            const float f = exp(ml_s[h][r] - mx);  // 0 for a slice that saw no row
            a += acc_s[c][r] * f;
            lsum += ml_s[HB + h][r] * f;
          }
        }
        const float inv = lsum > 0.0 ? 1.0 / lsum : 0.0;  // no visible rows: zeros
        t32[TOUT].w[(ob + (h0 + h) * onb1 + d * onb0) >> 2] = floatBitsToUint(a * inv);
      }
    }
    barrier();  // acc_s is rewritten by the next round
  }
#endif
}
