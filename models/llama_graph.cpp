// The llama forward step as a Tessera graph.
#include <string>

#include "models/llama.h"

namespace tessera::models {
namespace {

tsr_tensor bind(Graph& g, const GgufWeight& w) {
  std::vector<int64_t> ne(w.ne, w.ne + w.n_dims);
  return g.weight(w.name, static_cast<tsr_dtype>(w.dtype), ne, w.data, w.size);
}

// Columns [s * T, (s + 1) * T) of x, a contiguous f32 [rows, S * T] tensor of
// any shape, as [rows, T] (one sequence's tokens).
tsr_tensor seq_cols(Graph& g, tsr_tensor x, int64_t rows, int64_t s, int64_t T, int64_t S) {
  if (S == 1) return g.reshape(x, {rows, T});
  const int64_t nb1 = rows * 4;
  return g.view(x, {rows, T}, {nb1, nb1 * T, nb1 * T}, s * T * nb1);
}

}  // namespace

LlamaGraph build_llama_graph(Graph& g, const LlamaHParams& hp, const LlamaWeights& w,
                             const LlamaGraphOptions& o, const std::function<void(float)>& progress) {
  const int64_t T = o.n_tokens, hd = hp.head_dim;
  const int64_t S = static_cast<int64_t>(o.state_prefixes.size()), N = S * T;
  if (S < 1 || T < 1 || (o.all_logits && S > 1))
    throw Error(TSR_ERR_INVALID_ARGUMENT, "[build_llama_graph] n_seq " + std::to_string(S) + ", n_tokens " +
                                              std::to_string(T) + ", all_logits " +
                                              std::to_string(o.all_logits) + " is not a supported step");
  const int64_t q_dim = hd * hp.n_head, kv_dim = hd * hp.n_head_kv;
  const int n_rot = static_cast<int>(hp.n_rot);
  LlamaGraph out;
  out.tokens = g.input("tokens", TSR_DTYPE_I32, {N});  // i32 [N]
  out.pos = g.input("pos", TSR_DTYPE_I32, {N});        // i32 [N]
  // Each sequence's positions, as attention and set_rows take them.
  std::vector<tsr_tensor> pos(S, out.pos);
  if (S > 1)
    for (int64_t s = 0; s < S; ++s)
      pos[s] = g.view(out.pos, {T}, {T * 4, T * 4, T * 4}, s * T * 4);  // i32 [T]

  // The tied output matrix is the embedding table: bind it once.
  const tsr_tensor tok_embd = bind(g, w.tok_embd);  // [n_embd, n_vocab]
  tsr_tensor x = g.get_rows(tok_embd, out.tokens);  // f32 [n_embd, N]
  for (int64_t l = 0; l < hp.n_layer; ++l) {
    const LlamaLayerWeights& L = w.layers[l];
    // Attention.
    tsr_tensor h = g.mul(g.rms_norm(x, hp.eps), bind(g, L.attn_norm));  // f32 [n_embd, N]
    tsr_tensor q = g.matmul(bind(g, L.wq), h);                          // f32 [q_dim, N]
    tsr_tensor k = g.matmul(bind(g, L.wk), h);                          // f32 [kv_dim, N]
    tsr_tensor v = g.matmul(bind(g, L.wv), h);                          // f32 [kv_dim, N]
    // llama.cpp's converter permutes the Q/K rows of llama checkpoints so that
    // rotated pairs are adjacent: NORMAL rope (llama_model_rope_type for
    // LLM_ARCH_LLAMA is LLAMA_ROPE_TYPE_NORM).
    q = g.rope(g.reshape(q, {hd, hp.n_head, N}), out.pos, n_rot, TSR_ROPE_NORMAL, hp.rope_base,
               hp.rope_scale);  // f32 [hd, n_head, N]
    k = g.rope(g.reshape(k, {hd, hp.n_head_kv, N}), out.pos, n_rot, TSR_ROPE_NORMAL, hp.rope_base,
               hp.rope_scale);  // f32 [hd, n_head_kv, N]
    // Per sequence: KV cache rows at its token positions, then attention over
    // the first n_past_s + T rows (step parameter s).
    tsr_tensor a = -1;
    for (int64_t s = 0; s < S; ++s) {
      const std::string p = o.state_prefixes[s] + "blk." + std::to_string(l) + ".";
      tsr_tensor kc = g.shared_state(p + "k", o.kv_dtype, {kv_dim, o.n_ctx});  // kv [kv_dim, n_ctx]
      tsr_tensor vc = g.shared_state(p + "v", o.kv_dtype, {kv_dim, o.n_ctx});  // kv [kv_dim, n_ctx]
      kc = g.set_rows(kc, seq_cols(g, k, kv_dim, s, T, S), pos[s]);            // kv [kv_dim, n_ctx]
      vc = g.set_rows(vc, seq_cols(g, v, kv_dim, s, T, S), pos[s]);            // kv [kv_dim, n_ctx]
      const tsr_tensor qs = S == 1 ? q
                                   : g.view(q, {hd, hp.n_head, T}, {hd * 4, q_dim * 4, q_dim * T * 4},
                                            s * T * q_dim * 4);  // f32 [hd, n_head, T]
      const tsr_tensor as = g.attention(qs, g.reshape(kc, {hd, hp.n_head_kv, o.n_ctx}),
                                        g.reshape(vc, {hd, hp.n_head_kv, o.n_ctx}), pos[s], /*causal=*/true,
                                        /*kv_len_param=*/static_cast<int>(s));  // f32 [hd, n_head, T]
      a = s == 0 ? as : g.concat(a, as, 2);                                     // f32 [hd, n_head, (s + 1) T]
    }
    x = g.add(x, g.matmul(bind(g, L.wo), g.reshape(a, {q_dim, N})));  // f32 [n_embd, N]
    // Feed-forward (SwiGLU).
    h = g.mul(g.rms_norm(x, hp.eps), bind(g, L.ffn_norm));            // f32 [n_embd, N]
    tsr_tensor gate = g.matmul(bind(g, L.ffn_gate), h);               // f32 [n_ff, N]
    tsr_tensor up = g.matmul(bind(g, L.ffn_up), h);                   // f32 [n_ff, N]
    x = g.add(x, g.matmul(bind(g, L.ffn_down), g.swiglu(gate, up)));  // f32 [n_embd, N]
    if (progress) progress(static_cast<float>(l + 1) / static_cast<float>(hp.n_layer));
  }
  // Without all_logits only the last token's row (per sequence) is projected:
  // the output matmul is the largest of a small model, and a prompt needs one
  // row. With several sequences, which column is last is known only at run
  // time (they are padded to T), so the `last` input picks the columns.
  if (o.all_logits) {
    out.n_logit_rows = T;
  } else if (S > 1) {
    out.last = g.input("last", TSR_DTYPE_I32, {S});  // i32 [S]
    x = g.get_rows(x, out.last);                     // f32 [n_embd, S]
    out.n_logit_rows = S;
  } else {
    out.n_logit_rows = 1;
    if (T > 1)
      x = g.view(x, {hp.n_embd, 1}, {hp.n_embd * 4, hp.n_embd * 4, hp.n_embd * 4},
                 (T - 1) * hp.n_embd * 4);  // f32 [n_embd, 1]
  }
  tsr_tensor h = g.mul(g.rms_norm(x, hp.eps), bind(g, w.output_norm));     // f32 [n_embd, rows]
  out.logits = g.matmul(w.tied_output ? tok_embd : bind(g, w.output), h);  // f32 [n_vocab, rows]
  g.output(out.logits);
  return out;
}

}  // namespace tessera::models
