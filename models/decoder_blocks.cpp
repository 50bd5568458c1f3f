#include "models/decoder_blocks.h"

namespace tessera::models {
namespace {

// x @ w (+ b when present).
tsr_tensor project(Graph& g, const GgufWeight& w, const GgufWeight& b, tsr_tensor x) {
  const tsr_tensor y = g.matmul(bind(g, w), x);
  return b.present() ? g.add(y, bind(g, b)) : y;
}

}  // namespace

tsr_tensor bind(Graph& g, const GgufWeight& w) {
  std::vector<int64_t> ne(w.ne, w.ne + w.n_dims);
  return g.weight(w.name, static_cast<tsr_dtype>(w.dtype), ne, w.data, w.size);
}

tsr_tensor rms_norm_mul(Graph& g, tsr_tensor x, const GgufWeight& w, float eps) {
  return g.mul(g.rms_norm(x, eps), bind(g, w));
}

tsr_tensor attention_block(Graph& g, const DecoderHParams& hp, const DecoderLayerWeights& L, int64_t l,
                           tsr_tensor h, const AttentionStep& st) {
  const int64_t hd = hp.head_dim, N = st.n_tokens;
  const int64_t q_dim = hd * hp.n_head, kv_dim = hd * hp.n_head_kv;
  tsr_tensor q = g.reshape(project(g, L.wq, L.bq, h), {hd, hp.n_head, N});     // f32 [hd, n_head, N]
  tsr_tensor k = g.reshape(project(g, L.wk, L.bk, h), {hd, hp.n_head_kv, N});  // f32 [hd, n_head_kv, N]
  const tsr_tensor v = project(g, L.wv, L.bv, h);                              // f32 [kv_dim, N]
  if (hp.qk_norm) {  // each head's vector normed, one weight [hd] for all heads
    q = rms_norm_mul(g, q, L.q_norm, hp.eps);
    k = rms_norm_mul(g, k, L.k_norm, hp.eps);
  }
  const bool swa = hp.is_swa(l);
  const float base = swa ? hp.rope_base_swa : hp.rope_base;
  const float scale = swa ? hp.rope_scale_swa : hp.rope_scale;
  const int n_rot = static_cast<int>(hp.n_rot);
  const auto rope = [&](tsr_tensor x) {
    return st.rope_freqs >= 0 ? g.rope(x, st.pos, st.rope_freqs, n_rot, hp.rope_mode, base, scale)
                              : g.rope(x, st.pos, n_rot, hp.rope_mode, base, scale);
  };
  q = rope(q);  // f32 [hd, n_head, N]
  k = rope(k);  // f32 [hd, n_head_kv, N]
  // K and V rows into the cache (the sequence's rows at its positions, or
  // the pool rows the batch assigned), then attention over what the token's
  // sequence has so far, through the window on sliding-window layers.
  const std::string p = st.prefix + "blk." + std::to_string(l) + ".";
  const int64_t rows = st.paged ? st.paged->pool_blocks * st.paged->block_size : st.n_ctx;
  tsr_tensor kc = g.shared_state(p + "k", st.kv_dtype, {kv_dim, rows});  // kv [kv_dim, rows]
  tsr_tensor vc = g.shared_state(p + "v", st.kv_dtype, {kv_dim, rows});  // kv [kv_dim, rows]
  const tsr_tensor at = st.paged ? st.slots : st.pos;
  kc = g.reshape(g.set_rows(kc, g.reshape(k, {kv_dim, N}), at), {hd, hp.n_head_kv, rows});
  vc = g.reshape(g.set_rows(vc, v, at), {hd, hp.n_head_kv, rows});
  const int64_t window = swa ? hp.n_swa : 0;
  const tsr_tensor a =
      st.paged ? g.paged_attention(q, kc, vc, st.pos, st.seq, st.table, st.paged->block_size, hp.attn_scale,
                                   window)
               : g.attention(q, kc, vc, st.pos, /*causal=*/true, /*kv_len_param=*/0, hp.attn_scale,
                             window);                                // f32 [hd, n_head, N]
  tsr_tensor o = g.matmul(bind(g, L.wo), g.reshape(a, {q_dim, N}));  // f32 [n_embd, N]
  if (hp.tp.size > 1) o = g.all_reduce(o, hp.tp.size);               // this rank's heads: a partial sum
  return hp.post_norms ? rms_norm_mul(g, o, L.post_attn_norm, hp.eps) : o;
}

tsr_tensor ffn_block(Graph& g, const DecoderHParams& hp, const DecoderLayerWeights& L, tsr_tensor h) {
  const tsr_tensor gate = g.matmul(bind(g, L.ffn_gate), h);  // f32 [n_ff, N]
  const tsr_tensor up = g.matmul(bind(g, L.ffn_up), h);      // f32 [n_ff, N]
  const tsr_tensor act = hp.ffn == FfnKind::kGeGlu ? g.geglu(gate, up) : g.swiglu(gate, up);
  tsr_tensor f = g.matmul(bind(g, L.ffn_down), act);    // f32 [n_embd, N]
  if (hp.tp.size > 1) f = g.all_reduce(f, hp.tp.size);  // this rank's slice of n_ff: a partial sum
  return hp.post_norms ? rms_norm_mul(g, f, L.post_ffw_norm, hp.eps) : f;
}

}  // namespace tessera::models
