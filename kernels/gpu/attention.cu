// Fused attention, flash-attention style: softmax(scale * q k^T) v without
// materialising the scores, f32 throughout.
//
// A block takes R = G x T query rows: G query heads that share one kv head
// (so every K and V row staged serves all of them) times T query tokens.
// It walks its kv range in chunks of C rows staged in shared memory as f32;
// per chunk: R x C scores, then per row the online softmax update (running
// max m, denominator l, and the factor exp(m_old - m_new) that rescales the
// accumulators), then acc = acc * factor + p V. Each thread keeps a fixed
// share of the R x D accumulators in registers.
//
// Grid: x token tiles, y kv heads x head chunks, z kv splits. With S = 1
// split the block writes the output; the split-KV variant (decode: few rows,
// long kv) gives each of S blocks a share of the kv range and writes its
// (m, l, acc) to partials, which tsr_attention_merge combines.
//
// Each row sees a range of kv rows: all L valid ones, or under causal
// masking rows up to its position p, and under a sliding window W only
// p - W < j <= p. A block walks just the union of its rows' ranges: rows
// before every row's window are never staged (a decode at p = 4000 with
// W = 512 reads rows 3489..4000, not 0..4000), and the splits share out that
// union, not the whole cache. Rows of one tile may have different windows
// (prefill): inside the union each row masks the rows outside its own range.
//
// The valid kv length is a step value read here on every execution, so one
// recorded launch serves every decode step; the splits divide the run-time
// range, not kv_size.
//
// Slots: 0 q [D, n_head, n_tokens] (f32/f16/bf16), 1 k, 2 v [D, n_kv_head,
// kv_size] (f32/f16, any strides), 3 pos i32 [n_tokens] (read when causal),
// out f32 [D, n_head, n_tokens]. ip[0] causal, ip[1] step index of the kv
// length (-1: kv_size), ip[2] sliding window (0: none; only when causal),
// fp[0] scale (0: 1/sqrt(D)). ku: attention_tiles.h.
//
// paged_attention runs the same body with another row policy (PagedRows for
// PlainRows): k and v are a pool of blocks of ip[0] rows, slots 4 seq i32
// [n_tokens] and 5 block_table i32 [max_blocks, n_rows] map each token's
// logical rows to pool rows, and every token is causal. The staged chunk is
// shared by all rows of a tile, so a tile's tokens are walked in runs of one
// sequence (a prefill chunk is one run; a decode batch of many sequences is
// a run per token).
#include "gpu/attention_tiles.h"
#include "gpu/tensor_access.h"

namespace tsr::gpu {

using namespace attn;

namespace {

struct Tile {
  int64_t D, G, T, C, R;
  int64_t kstride;  // K rows in shared memory: D padded to odd, so a warp
                    // reading one dim of many rows hits distinct banks
  int64_t n_head, n_tokens, group;
  int64_t kvh, h0, t0;  // kv head, first query head, first token
};

TSR_DEV Tile tile_of(const KArgs& a) {
  Tile t;
  t.D = a.t[0].ne[0];
  t.n_head = a.t[0].ne[1];
  t.n_tokens = a.t[0].ne[2];
  t.group = t.n_head / a.t[1].ne[1];
  t.G = a.ku[kKuHeads];
  t.T = a.ku[kKuTokens];
  t.C = a.ku[kKuChunk];
  t.R = t.G * t.T;
  t.kstride = t.D | 1;
  const int64_t head_chunks = a.ku[kKuHeadChunks];
  t.kvh = block_y() / head_chunks;
  t.h0 = t.kvh * t.group + (block_y() % head_chunks) * t.G;
  t.t0 = static_cast<int64_t>(block_x()) * t.T;
  return t;
}

// Rows of the block: r = token-in-tile * G + head-in-chunk. A row past the
// last token or past its kv head's group is computed (all masked) but never
// written.
TSR_DEV bool row_valid(const Tile& t, int64_t r, int64_t* h, int64_t* tok) {
  const int64_t gi = r % t.G;
  *h = t.h0 + gi;
  *tok = t.t0 + r / t.G;
  return *tok < t.n_tokens && (*h - t.kvh * t.group) < t.group && r < t.R;
}

// The logical rows a query at position p sees among L: [first, end), empty
// when end <= first (a negative p, or a window starting past L).
TSR_DEV void causal_range(int64_t p, int64_t L, int64_t window, int64_t* first, int64_t* end) {
  *end = p + 1 < L ? p + 1 : L;
  *first = window > 0 && p - window + 1 > 0 ? p - window + 1 : 0;
}

// Row policies: which kv rows a token sees and where each lives in k and v.
// The kernel body below calls, per tile: begin_run(tok, tile_end) -> the end
// of the run of tokens from tok that read the same kv rows; range(tok) ->
// the token's logical rows (its run's); per staged chunk map_chunk(j0, end,
// C), then row(c, j) -> the physical row of logical row j (chunk column c),
// or -1 to stage zeros.

// attention: logical row j is row j; every token of a tile reads the same
// rows (one run), up to the valid kv length, a step value read here on
// every execution.
struct PlainRows {
  const KArgs& a;
  int64_t L;
  TSR_DEV explicit PlainRows(const KArgs& args) : a(args) {
    const int64_t kv_size = a.t[1].ne[2];
    L = kv_size;
    if (a.ip[1] >= 0) {
      const int64_t len = reinterpret_cast<const int64_t*>(a.step)[a.ip[1]];
      L = len < 0 ? 0 : len > kv_size ? kv_size : len;
    }
  }
  TSR_DEV int64_t begin_run(int64_t, int64_t tile_end) { return tile_end; }
  TSR_DEV void range(int64_t tok, int64_t* first, int64_t* end) const {
    *first = 0;
    *end = L;
    if (a.ip[0] != 0) causal_range(load_i32(a.t[3], tok * a.t[3].nb[0]), L, a.ip[2], first, end);
  }
  TSR_DEV void map_chunk(int64_t, int64_t, int64_t) const {}
  TSR_DEV int64_t row(int64_t, int64_t j) const { return j; }
};

// paged_attention: logical row j of sequence s is pool row
// block_table[j / bs, s] * bs + j % bs. A device kernel cannot report bad
// integer inputs, so it guards them instead: a token whose seq is outside
// the table's rows sees nothing, a position is cut to the table's
// max_blocks * bs rows (so the table is read only inside it), and a block id
// outside the pool's blocks stages zeros. Such a token's output is
// unspecified; no read leaves q, k, v, pos, seq or the table.
struct PagedRows {
  const KArgs& a;
  int64_t bs, max_rows, n_blocks;
  int64_t seq = -1;  // the current run's table row, -1 when outside the table
  int64_t* rows_s;   // shared: the pool rows of the staged chunk (kMaxChunk)
  TSR_DEV PagedRows(const KArgs& args, int64_t* rows_shared) : a(args), rows_s(rows_shared) {
    bs = a.ip[0];
    max_rows = a.t[5].ne[0] * bs;
    n_blocks = a.t[1].ne[2] / bs;
  }
  TSR_DEV int64_t seq_of(int64_t tok) const { return load_i32(a.t[4], tok * a.t[4].nb[0]); }
  TSR_DEV int64_t begin_run(int64_t tok, int64_t tile_end) {
    const int64_t s = seq_of(tok);
    int64_t e = tok + 1;
    while (e < tile_end && seq_of(e) == s) ++e;
    seq = s >= 0 && s < a.t[5].ne[1] ? s : -1;
    return e;
  }
  TSR_DEV void range(int64_t tok, int64_t* first, int64_t* end) const {
    *first = *end = 0;
    if (seq >= 0) causal_range(load_i32(a.t[3], tok * a.t[3].nb[0]), max_rows, a.ip[2], first, end);
  }
  // Called by every thread; rows past end (the chunk's tail) stage zeros.
  TSR_DEV void map_chunk(int64_t j0, int64_t end, int64_t C) const {
    const GpuTensor& table = a.t[5];
    for (int64_t c = thread_x(); c < C; c += block_dim()) {
      const int64_t j = j0 + c;
      int64_t r = -1;
      if (j < end) {
        const int64_t b = load_i32(table, (j / bs) * table.nb[0] + seq * table.nb[1]);
        if (b >= 0 && b < n_blocks) r = b * bs + j % bs;
      }
      rows_s[c] = r;
    }
    sync_threads();
  }
  TSR_DEV int64_t row(int64_t c, int64_t) const { return rows_s[c]; }
};

// Stages kv rows j0 .. j0+C-1 of kv head kvh (zeros past kv_end) as f32.
template <class Rows>
TSR_DEV void stage(const GpuTensor& x, const Tile& t, const Rows& rows, int64_t j0, int64_t kv_end,
                   int64_t stride, float* dst) {
  for (int64_t e = thread_x(); e < t.C * t.D; e += block_dim()) {
    const int64_t c = e / t.D, d = e % t.D, j = j0 + c;
    const int64_t row = j < kv_end ? rows.row(c, j) : -1;
    dst[c * stride + d] = row >= 0 ? load_f(x, offset_of(x, d, t.kvh, row, 0)) : 0.0f;
  }
}

// The union of a block's row ranges; lo == hi when no row sees anything.
struct KvRange {
  int64_t lo, hi;
};

// Tokens [t0, t1) of the tile, which read the same kv rows (Rows::begin_run).
struct Run {
  int64_t t0, t1;
};

// row_valid for a row of the current run: the rows of the tile's other runs
// see nothing and are not written in this one.
TSR_DEV bool row_in_run(const Tile& t, const Run& run, int64_t r, int64_t* h, int64_t* tok) {
  return row_valid(t, r, h, tok) && *tok >= run.t0 && *tok < run.t1;
}

// Sets each row's visible kv rows [first_s[r], end_s[r]) (empty for a row
// that is not written in this run) and returns their union's bounds, the
// same in every thread.
template <class Rows>
TSR_DEV KvRange visible_rows(const Tile& t, const Rows& rows, const Run& run, int64_t* first_s,
                             int64_t* end_s) {
  for (int64_t r = thread_x(); r < t.R; r += block_dim()) {
    int64_t h = 0, tok = 0, first = 0, end = 0;
    if (row_in_run(t, run, r, &h, &tok)) rows.range(tok, &first, &end);
    first_s[r] = first;
    end_s[r] = end;
  }
  sync_threads();
  KvRange u{INT64_MAX, 0};
  for (int64_t r = 0; r < t.R; ++r) {
    if (first_s[r] >= end_s[r]) continue;
    u.lo = first_s[r] < u.lo ? first_s[r] : u.lo;
    u.hi = end_s[r] > u.hi ? end_s[r] : u.hi;
  }
  if (u.lo >= u.hi) u.lo = u.hi = 0;
  return u;
}

// The run's rows over kv rows [s0, s1), a part of the union of their ranges
// (visible_rows); returns with every thread's accumulators (acc[i] for
// outputs thread_x() + i * block_dim()) and the rows' m and l in shared
// memory.
template <class Rows>
TSR_DEV void attend(const KArgs& a, const Tile& t, const Rows& rows, const Run& run, int64_t s0, int64_t s1,
                    const int64_t* first_s, const int64_t* end_s, float* acc, float* m_s, float* l_s) {
  TSR_SHARED(float, k_s, kMaxKvFloats + kMaxChunk);  // + one pad float per row (kstride)
  TSR_SHARED(float, v_s, kMaxKvFloats);
  TSR_SHARED(float, q_s, kMaxRowFloats);
  TSR_SHARED(float, p_s, kMaxScores);
  TSR_SHARED(float, f_s, kMaxRows);
  const uint32_t tid = thread_x();
  const int64_t D = t.D, C = t.C, R = t.R;
  const float scale = a.fp[0] == 0.0f ? rsqrtf(static_cast<float>(D)) : a.fp[0];
  const GpuTensor &q = a.t[0], &k = a.t[1], &v = a.t[2];

  for (int64_t e = tid; e < R * D; e += block_dim()) {
    const int64_t r = e / D, d = e % D;
    int64_t h = 0, tok = 0;
    q_s[e] = row_in_run(t, run, r, &h, &tok) ? load_f(q, offset_of(q, d, h, tok, 0)) * scale : 0.0f;
  }
  for (int64_t r = tid; r < R; r += block_dim()) {
    m_s[r] = -INFINITY;
    l_s[r] = 0.0f;
  }
  for (int i = 0; i < kAccPerThread; ++i) acc[i] = 0.0f;
  sync_threads();
  // Row r's columns of the chunk at j0: [lo_c, hi_c) of [0, C), its range
  // clipped to [s0, s1).
  auto columns = [&](int64_t r, int64_t j0, int64_t* lo_c, int64_t* hi_c) {
    const int64_t first = first_s[r] > s0 ? first_s[r] : s0;
    const int64_t end = end_s[r] < s1 ? end_s[r] : s1;
    *lo_c = first - j0 < 0 ? 0 : first - j0;
    *hi_c = end - j0 > C ? C : end - j0;
  };

  for (int64_t j0 = s0; j0 < s1; j0 += C) {
    rows.map_chunk(j0, s1, C);
    stage(k, t, rows, j0, s1, t.kstride, k_s);
    stage(v, t, rows, j0, s1, D, v_s);
    sync_threads();
    for (int64_t e = tid; e < R * C; e += block_dim()) {
      const int64_t r = e / C, c = e % C;
      int64_t lo_c = 0, hi_c = 0;
      columns(r, j0, &lo_c, &hi_c);
      float s = -INFINITY;
      if (c >= lo_c && c < hi_c) {
        const float* qr = q_s + r * D;
        const float* kr = k_s + c * t.kstride;
        s = 0.0f;
        for (int64_t d = 0; d < D; ++d) s += qr[d] * kr[d];
      }
      p_s[e] = s;
    }
    sync_threads();
    // One warp per row; shuffles stay outside the lane-strided loops, whose
    // trip counts differ between lanes when C is not a multiple of the warp.
    for (int64_t r = warp_index(); r < R; r += n_warps()) {
      float* pr = p_s + r * C;
      float mx = -INFINITY;
      for (int64_t c = lane(); c < C; c += warp_size()) mx = fmaxf(mx, pr[c]);
      mx = warp_max(mx);
      const float m_old = m_s[r];
      const float m_new = fmaxf(m_old, mx);
      // Nothing visible yet: keep p = 0 and the (zero) accumulators as they
      // are rather than forming exp(-inf - -inf).
      const bool none = m_new == -INFINITY;
      float sum = 0.0f;
      for (int64_t c = lane(); c < C; c += warp_size()) {
        const float p = none ? 0.0f : expf(pr[c] - m_new);
        pr[c] = p;
        sum += p;
      }
      sum = warp_sum(sum);
      if (lane() == 0) {
        const float f = none ? 1.0f : expf(m_old - m_new);
        f_s[r] = f;
        m_s[r] = m_new;
        l_s[r] = l_s[r] * f + sum;
      }
    }
    sync_threads();
    for (int i = 0; i < kAccPerThread; ++i) {
      const int64_t e = tid + static_cast<int64_t>(i) * block_dim();
      if (e >= R * D) break;
      const int64_t r = e / D, d = e % D;
      const float* pr = p_s + r * C;
      // Columns outside the row's range have p = 0: not visited (a short
      // window in a prefill tile uses few of a chunk's columns per row).
      int64_t lo_c = 0, hi_c = 0;
      columns(r, j0, &lo_c, &hi_c);
      float x = acc[i] * f_s[r];
      for (int64_t c = lo_c; c < hi_c; ++c) x += pr[c] * v_s[c * D + d];
      acc[i] = x;
    }
    sync_threads();  // the next chunk overwrites k_s, v_s, p_s and the chunk's rows
  }
}

// The kernel body of both ops and both variants: the tile's runs one after
// another, each over the union of its rows' ranges. split (S = grid z > 1):
// split z of S takes rows [lo + z * share, lo + (z + 1) * share) of the union
// [lo, hi) at run time, share rounded up to whole chunks, and writes its
// partials; a split past hi (short kv) writes an empty partial (m = -inf,
// l = 0). Else the block writes the output.
template <class Rows>
TSR_DEV void attention_tile(const KArgs& a, Rows& rows, bool split) {
  TSR_SHARED(float, m_s, kMaxRows);
  TSR_SHARED(float, l_s, kMaxRows);
  TSR_SHARED(int64_t, first_s, kMaxRows);
  TSR_SHARED(int64_t, end_s, kMaxRows);
  const Tile t = tile_of(a);
  const int64_t tile_end = t.t0 + t.T < t.n_tokens ? t.t0 + t.T : t.n_tokens;
  const GpuTensor& o = a.t[kOutSlot];
  const int64_t S = a.ku[kKuSplits], z = block_z();
  float* part = reinterpret_cast<float*>(a.ku[kKuPartials]);
  const int64_t P = t.D + kPartialHeader;
  // Partial (z, token, head) at ((z * n_tokens + token) * n_head + head) * P.
  auto base = [&](int64_t h, int64_t tok) { return ((z * t.n_tokens + tok) * t.n_head + h) * P; };
  float acc[kAccPerThread];
  for (Run run{t.t0, t.t0}; run.t0 < tile_end; run.t0 = run.t1) {
    run.t1 = rows.begin_run(run.t0, tile_end);
    sync_threads();  // the previous run's writes still read l_s, first_s and end_s
    const KvRange u = visible_rows(t, rows, run, first_s, end_s);
    int64_t s0 = u.lo, s1 = u.hi;
    if (split) {
      const int64_t share = (u.hi - u.lo + S - 1) / S;
      const int64_t step = (share + t.C - 1) / t.C * t.C;
      s0 = u.lo + z * step < u.hi ? u.lo + z * step : u.hi;
      s1 = s0 + step < u.hi ? s0 + step : u.hi;
    }
    attend(a, t, rows, run, s0, s1, first_s, end_s, acc, m_s, l_s);
    for (int i = 0; i < kAccPerThread; ++i) {
      const int64_t e = thread_x() + static_cast<int64_t>(i) * block_dim();
      if (e >= t.R * t.D) break;
      const int64_t r = e / t.D, d = e % t.D;
      int64_t h = 0, tok = 0;
      if (!row_in_run(t, run, r, &h, &tok)) continue;
      if (split) {
        part[base(h, tok) + kPartialHeader + d] = acc[i];
      } else {
        // A row that sees no kv row (kv length 0, or a window starting past
        // it) attends to nothing: zeros.
        const float l = l_s[r];
        store_f(o, offset_of(o, d, h, tok, 0), l > 0.0f ? acc[i] / l : 0.0f);
      }
    }
    if (!split) continue;
    for (int64_t r = thread_x(); r < t.R; r += block_dim()) {
      int64_t h = 0, tok = 0;
      if (!row_in_run(t, run, r, &h, &tok)) continue;
      part[base(h, tok)] = m_s[r];
      part[base(h, tok) + 1] = l_s[r];
    }
  }
}

}  // namespace

TSR_KERNEL(tsr_attention) {
  PlainRows rows(a);
  attention_tile(a, rows, false);
}

TSR_KERNEL(tsr_attention_split) {
  PlainRows rows(a);
  attention_tile(a, rows, true);
}

TSR_KERNEL(tsr_paged_attention) {
  TSR_SHARED(int64_t, rows_s, kMaxChunk);
  PagedRows rows(a, rows_s);
  attention_tile(a, rows, false);
}

TSR_KERNEL(tsr_paged_attention_split) {
  TSR_SHARED(int64_t, rows_s, kMaxChunk);
  PagedRows rows(a, rows_s);
  attention_tile(a, rows, true);
}

// One block per output row (token, head): rescales each split's partial to
// the global max and divides by the global denominator. Threads over D.
TSR_KERNEL(tsr_attention_merge) {
  const GpuTensor& o = a.t[kOutSlot];
  const int64_t D = o.ne[0], n_head = o.ne[1], n_tokens = o.ne[2];
  const int64_t row = static_cast<int64_t>(block_y()) * grid_x() + block_x();
  if (row >= n_head * n_tokens) return;
  const int64_t h = row % n_head, tok = row / n_head;
  const int64_t S = a.ku[kKuSplits], P = D + kPartialHeader;
  const float* part = reinterpret_cast<const float*>(a.ku[kKuPartials]);
  auto at = [&](int64_t z) { return part + ((z * n_tokens + tok) * n_head + h) * P; };
  float M = -INFINITY;
  for (int64_t z = 0; z < S; ++z) M = fmaxf(M, at(z)[0]);
  float l = 0.0f;
  if (M != -INFINITY)
    for (int64_t z = 0; z < S; ++z)
      if (at(z)[1] > 0.0f) l += at(z)[1] * expf(at(z)[0] - M);
  for (int64_t d = thread_x(); d < D; d += block_dim()) {
    float x = 0.0f;
    if (l > 0.0f)
      for (int64_t z = 0; z < S; ++z)
        if (at(z)[1] > 0.0f) x += at(z)[kPartialHeader + d] * expf(at(z)[0] - M);
    store_f(o, offset_of(o, d, h, tok, 0), l > 0.0f ? x / l : 0.0f);
  }
}

}  // namespace tsr::gpu
