#include "models/decoder_blocks.h"

namespace tessera::models {
namespace {

// Columns [s * T, (s + 1) * T) of x, a contiguous f32 [rows, S * T] tensor of
// any shape, as [rows, T] (one sequence's tokens).
tsr_tensor seq_cols(Graph& g, tsr_tensor x, int64_t rows, int64_t s, int64_t T, int64_t S) {
  if (S == 1) return g.reshape(x, {rows, T});
  const int64_t nb1 = rows * 4;
  return g.view(x, {rows, T}, {nb1, nb1 * T, nb1 * T}, s * T * nb1);
}

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
  const int64_t hd = hp.head_dim, T = st.n_tokens;
  const int64_t S = static_cast<int64_t>(st.prefixes->size()), N = S * T;
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
  // Per sequence: KV cache rows at its token positions, then attention over
  // the first n_past_s + T rows (step parameter s), through the window on
  // sliding-window layers.
  tsr_tensor a = -1;
  for (int64_t s = 0; s < S; ++s) {
    const std::string p = (*st.prefixes)[s] + "blk." + std::to_string(l) + ".";
    const tsr_tensor pos = (*st.seq_pos)[s];
    tsr_tensor kc = g.shared_state(p + "k", st.kv_dtype, {kv_dim, st.n_ctx});  // kv [kv_dim, n_ctx]
    tsr_tensor vc = g.shared_state(p + "v", st.kv_dtype, {kv_dim, st.n_ctx});  // kv [kv_dim, n_ctx]
    kc = g.set_rows(kc, seq_cols(g, k, kv_dim, s, T, S), pos);
    vc = g.set_rows(vc, seq_cols(g, v, kv_dim, s, T, S), pos);
    const tsr_tensor qs = S == 1 ? q
                                 : g.view(q, {hd, hp.n_head, T}, {hd * 4, q_dim * 4, q_dim * T * 4},
                                          s * T * q_dim * 4);  // f32 [hd, n_head, T]
    const tsr_tensor as = g.attention(qs, g.reshape(kc, {hd, hp.n_head_kv, st.n_ctx}),
                                      g.reshape(vc, {hd, hp.n_head_kv, st.n_ctx}), pos, /*causal=*/true,
                                      /*kv_len_param=*/static_cast<int>(s), hp.attn_scale,
                                      swa ? hp.n_swa : 0);  // f32 [hd, n_head, T]
    a = s == 0 ? as : g.concat(a, as, 2);                   // f32 [hd, n_head, (s + 1) T]
  }
  tsr_tensor o = g.matmul(bind(g, L.wo), g.reshape(a, {q_dim, N}));  // f32 [n_embd, N]
  return hp.post_norms ? rms_norm_mul(g, o, L.post_attn_norm, hp.eps) : o;
}

tsr_tensor ffn_block(Graph& g, const DecoderHParams& hp, const DecoderLayerWeights& L, tsr_tensor h) {
  const tsr_tensor gate = g.matmul(bind(g, L.ffn_gate), h);  // f32 [n_ff, N]
  const tsr_tensor up = g.matmul(bind(g, L.ffn_up), h);      // f32 [n_ff, N]
  const tsr_tensor act = hp.ffn == FfnKind::kGeGlu ? g.geglu(gate, up) : g.swiglu(gate, up);
  const tsr_tensor f = g.matmul(bind(g, L.ffn_down), act);  // f32 [n_embd, N]
  return hp.post_norms ? rms_norm_mul(g, f, L.post_ffw_norm, hp.eps) : f;
}

}  // namespace tessera::models
