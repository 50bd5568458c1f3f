// Fused attention, flash-attention style, f32 softmax and accumulation.
//
// One workgroup per (token, kv head, chunk of HB query heads sharing that kv
// head), so every K and V row loaded serves all HB heads. Each work-item
// walks its own slice of the visible kv rows (first + tid, + WG, ...) with
// its own online softmax (running max, denominator and accumulators in
// private memory); the slices are combined once at the end through local
// memory. No barrier per kv row or block: a decode token spreads its kv
// length over the whole workgroup; a prefill token early in the sequence
// leaves work-items idle.
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
//
// Port of kernels/vulkan/attention.comp without its SUBGROUP variant (the
// combine through subgroup reductions, attention_sg / paged_attention_sg):
// OpenCL 1.2 has no subgroups and the host reports none, so the encoder
// picks attention / paged_attention and sets no subgroup count in FLAGS.

// Build defines (the Vulkan specialization constants): heads per workgroup,
// head dim (the private arrays are sized by both), workgroup size (the
// host's local size), and FLAGS: bit 0 (k) / bit 1 (v) set when every row is
// contiguous f16 on a 4-byte boundary (one 2-half load per pair of dims
// instead of two 16-bit loads); bits 2.. the subgroups per workgroup of the
// SUBGROUP variant (not used here).
#define HB SPEC0
#define D SPEC1
#define WG SPEC2
#define FLAGS SPEC3

#define KV_WORDS (FLAGS & 3u)
#define NP ((D + 1u) / 2u)  // dim pairs
#define COLS (HB * D)       // accumulator columns (head, dim) of a workgroup
// Columns exported per combine round: as many as fit in 16 KiB.
#define CHUNK (COLS < 4096u / (WG + 1u) ? COLS : 4096u / (WG + 1u))

// Dims (2p, 2p+1) of the kv row at byte `row` of memory b (0 past D).
// `words`: the row is contiguous f16 on a 4-byte boundary, one load per pair.
inline float2 load_pair(__global const uchar *b, uint dt, uint row, uint p, uint nb0, bool words) {
  if (words) return vload_half2(p, (__global const half *)(b + row));
  const uint d = 2u * p;
  return (float2)(load_float(b, dt, row + d * nb0),
                  d + 1u < D ? load_float(b, dt, row + (d + 1u) * nb0) : 0.0f);
}

#ifdef PAGED
// The pool row of logical row j of sequence s (j inside the table's
// max_blocks * bs rows, s inside its n_rows), or -1 when the table names a
// block outside the pool's kv_size / bs blocks. `table`: TB(5); np is passed
// for the macros.
inline int kv_row(__global const uchar *table, __constant uint *np, uint j, uint s) {
  const uint bs = (uint)IP(0);
  const int b = *(__global const int *)(table + elem_byte(5, j / bs, s, 0u, 0u));
  if (b < 0 || (uint)b >= TNE(1).z / bs) return -1;
  return (int)((uint)b * bs + j % bs);
}
#endif

__kernel __attribute__((reqd_work_group_size(WG, 1, 1))) void tsr_main(TSR_ARGS) {
  // (OpenCL 1.2: __local arrays live at kernel function scope.)
  __local float ml_s[2u * HB][WG];      // each work-item's running max, then denominator
  __local float acc_s[CHUNK][WG + 1u];  // accumulators, one column per row (+1: no bank conflicts)
  const uint g = flat_group();
  if (g >= N_GROUPS) return;  // the whole workgroup: no barrier is skipped by part of it
  const uint tid = (uint)get_local_id(0);
  const uint n_head = TNE(0).y, n_kv_head = TNE(1).y;
  const uint chunks = KU(0);
  const uint chunk = g % chunks, kvh = (g / chunks) % n_kv_head, t = g / (chunks * n_kv_head);
  const uint group = n_head / n_kv_head;
  const uint h0 = kvh * group + chunk * HB;     // first query head of this workgroup
  const uint nh = min(HB, group - chunk * HB);  // heads here; the last chunk may have fewer
  const int kv_size = (int)TNE(1).z;

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
  const int seq = *(__global const int *)(TB(4) + elem_byte(4, t, 0u, 0u, 0u));
  const bool seq_ok = seq >= 0 && seq < (int)TNE(5).y;
  int len = seq_ok ? (int)TNE(5).x * IP(0) : 0;
  const bool causal = true;
#else
  int len = IP(1) >= 0 ? clamp(STEP(IP(1)), 0, kv_size) : kv_size;
  const bool causal = IP(0) != 0;
#endif
  if (causal) {
    const int p = *(__global const int *)(TB(3) + elem_byte(3, t, 0u, 0u, 0u));
    // clamp(p + 1, 0, len), written so that p + 1 cannot overflow (undefined
    // in OpenCL C; GLSL wraps, so a position of INT_MAX saw nothing there and
    // sees all len rows here: an unspecified output either way).
    len = p >= len ? len : max(p + 1, 0);
    // A sliding window starts the walk at p - W + 1 rather than masking the
    // rows before it: decode against a long cache reads W rows, not p + 1.
    // (Written so that p - W cannot overflow.)
    if (IP(2) > 0 && p >= IP(2)) first = p - IP(2) + 1;
  }
  const uint n_vis = (uint)len;

  // The scaled query rows, in private memory (zero for heads past nh).
  const float scale = FP(0) == 0.0f ? rsqrt((float)D) : FP(0);
  __global const uchar *qm = TB(0);
  const uint qdt = TTYPE(0);
  float2 q[HB][NP];
#pragma unroll
  for (uint h = 0; h < HB; ++h) {
    const uint hq = min(h0 + h, n_head - 1u);
    const float hs = h < nh ? scale : 0.0f;
#pragma unroll
    for (uint p = 0; p < NP; ++p) {
      const uint d = 2u * p;
      q[h][p] = hs * (float2)(load_float(qm, qdt, elem_byte(0, d, hq, t, 0u)),
                              d + 1u < D ? load_float(qm, qdt, elem_byte(0, d + 1u, hq, t, 0u)) : 0.0f);
    }
  }

  __global const uchar *km = TB(1), *vm = TB(2);
  const uint kdt = TTYPE(1), vdt = TTYPE(2);
  const uint kb = elem_byte(1, 0u, kvh, 0u, 0u), knb0 = TNB(1).x, knb2 = TNB(1).z;
  const uint vb = elem_byte(2, 0u, kvh, 0u, 0u), vnb0 = TNB(2).x, vnb2 = TNB(2).z;
  const bool k_words = (KV_WORDS & 1u) != 0u, v_words = (KV_WORDS & 2u) != 0u;

  // This work-item's online softmax over rows first + tid, first + tid + WG, ...
  float2 acc[HB][NP];
  float m[HB], l[HB];
#pragma unroll
  for (uint h = 0; h < HB; ++h) {
    m[h] = -INFINITY;
    l[h] = 0.0f;
#pragma unroll
    for (uint p = 0; p < NP; ++p) acc[h][p] = (float2)(0.0f);
  }
  for (uint j = (uint)first + tid; j < n_vis; j += WG) {
#ifdef PAGED
    const int row = kv_row(TB(5), np, j, (uint)seq);
    if (row < 0) continue;  // a block id outside the pool: the row is skipped
#else
    const uint row = j;
#endif
    const uint krow = kb + (uint)row * knb2;
    float s[HB];
#pragma unroll
    for (uint h = 0; h < HB; ++h) s[h] = 0.0f;
#pragma unroll
    for (uint p = 0; p < NP; ++p) {
      const float2 kv = load_pair(km, kdt, krow, p, knb0, k_words);
#pragma unroll
      for (uint h = 0; h < HB; ++h) s[h] += dot(q[h][p], kv);
    }
    float corr[HB], w[HB];
#pragma unroll
    for (uint h = 0; h < HB; ++h) {
      // m is -inf only before the first finite score: nothing to rescale yet.
      const float m_new = max(m[h], s[h]);
      corr[h] = m_new == -INFINITY ? 1.0f : exp(m[h] - m_new);
      w[h] = m_new == -INFINITY ? 0.0f : exp(s[h] - m_new);
      l[h] = l[h] * corr[h] + w[h];
      m[h] = m_new;
    }
    const uint vrow = vb + (uint)row * vnb2;
#pragma unroll
    for (uint p = 0; p < NP; ++p) {
      const float2 vv = load_pair(vm, vdt, vrow, p, vnb0, v_words);
#pragma unroll
      for (uint h = 0; h < HB; ++h) acc[h][p] = acc[h][p] * corr[h] + w[h] * vv;
    }
  }

  // Combine the slices: each work-item exports its (m, l) and accumulators;
  // after a barrier each column (head h, dim d) is summed over the slices,
  // every slice rescaled to the workgroup's max of head h.
  __global uchar *out = TB(TOUT);
  const uint ob = elem_byte(TOUT, 0u, 0u, t, 0u), onb0 = TNB(TOUT).x, onb1 = TNB(TOUT).y;
#pragma unroll
  for (uint h = 0; h < HB; ++h) {
    ml_s[h][tid] = m[h];
    ml_s[HB + h][tid] = l[h];
  }
#pragma unroll
  for (uint c0 = 0; c0 < COLS; c0 += CHUNK) {
#pragma unroll
    for (uint c = 0; c < CHUNK; ++c) {
      const uint col = c0 + c, h = col / D, d = col % D;
      if (col < COLS) acc_s[c][tid] = d % 2u == 0u ? acc[h][d / 2u].x : acc[h][d / 2u].y;
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint c = tid; c < CHUNK && c0 + c < COLS; c += WG) {
      const uint col = c0 + c, h = col / D, d = col % D;
      if (h < nh) {
        float mx = -INFINITY;
        for (uint r = 0; r < WG; ++r) mx = max(mx, ml_s[h][r]);
        float a = 0.0f, lsum = 0.0f;
        if (mx != -INFINITY) {
          for (uint r = 0; r < WG; ++r) {
            const float f = exp(ml_s[h][r] - mx);  // 0 for a slice that saw no row
            a += acc_s[c][r] * f;
            lsum += ml_s[HB + h][r] * f;
          }
        }
        const float inv = lsum > 0.0f ? 1.0f / lsum : 0.0f;  // no visible rows: zeros
        *(__global float *)(out + ob + (h0 + h) * onb1 + d * onb0) = a * inv;
      }
    }
    barrier(CLK_LOCAL_MEM_FENCE);  // acc_s is rewritten by the next round
  }
}
