// The llama forward step as a Tessera graph.
#include <string>

#include "models/llama.h"

namespace tessera::models {
namespace {

tsr_tensor bind(Graph& g, const GgufWeight& w) {
  std::vector<int64_t> ne(w.ne, w.ne + w.n_dims);
  return g.weight(w.name, static_cast<tsr_dtype>(w.dtype), ne, w.data, w.size);
}

}  // namespace

LlamaGraph build_llama_graph(Graph& g, const LlamaHParams& hp, const LlamaWeights& w,
                             const LlamaGraphOptions& o, const std::function<void(float)>& progress) {
  const int64_t T = o.n_tokens, hd = hp.head_dim;
  const int64_t q_dim = hd * hp.n_head, kv_dim = hd * hp.n_head_kv;
  const int n_rot = static_cast<int>(hp.n_rot);
  LlamaGraph out;
  out.tokens = g.input("tokens", TSR_DTYPE_I32, {T});  // i32 [T]
  out.pos = g.input("pos", TSR_DTYPE_I32, {T});        // i32 [T]

  // The tied output matrix is the embedding table: bind it once.
  const tsr_tensor tok_embd = bind(g, w.tok_embd);  // [n_embd, n_vocab]
  tsr_tensor x = g.get_rows(tok_embd, out.tokens);  // f32 [n_embd, T]
  for (int64_t l = 0; l < hp.n_layer; ++l) {
    const LlamaLayerWeights& L = w.layers[l];
    // Attention.
    tsr_tensor h = g.mul(g.rms_norm(x, hp.eps), bind(g, L.attn_norm));  // f32 [n_embd, T]
    tsr_tensor q = g.matmul(bind(g, L.wq), h);                          // f32 [q_dim, T]
    tsr_tensor k = g.matmul(bind(g, L.wk), h);                          // f32 [kv_dim, T]
    tsr_tensor v = g.matmul(bind(g, L.wv), h);                          // f32 [kv_dim, T]
    // llama.cpp's converter permutes the Q/K rows of llama checkpoints so that
    // rotated pairs are adjacent: NORMAL rope (llama_model_rope_type for
    // LLM_ARCH_LLAMA is LLAMA_ROPE_TYPE_NORM).
    q = g.rope(g.reshape(q, {hd, hp.n_head, T}), out.pos, n_rot, TSR_ROPE_NORMAL, hp.rope_base,
               hp.rope_scale);  // f32 [hd, n_head, T]
    k = g.rope(g.reshape(k, {hd, hp.n_head_kv, T}), out.pos, n_rot, TSR_ROPE_NORMAL, hp.rope_base,
               hp.rope_scale);  // f32 [hd, n_head_kv, T]
    // KV cache rows at the token positions; attention reads the first
    // n_past + T rows (step parameter 0).
    const std::string p = o.state_prefix + "blk." + std::to_string(l) + ".";
    tsr_tensor kc = g.shared_state(p + "k", o.kv_dtype, {kv_dim, o.n_ctx});  // kv [kv_dim, n_ctx]
    tsr_tensor vc = g.shared_state(p + "v", o.kv_dtype, {kv_dim, o.n_ctx});  // kv [kv_dim, n_ctx]
    kc = g.set_rows(kc, g.reshape(k, {kv_dim, T}), out.pos);                 // kv [kv_dim, n_ctx]
    vc = g.set_rows(vc, v, out.pos);                                         // kv [kv_dim, n_ctx]
    tsr_tensor a = g.attention(q, g.reshape(kc, {hd, hp.n_head_kv, o.n_ctx}),
                               g.reshape(vc, {hd, hp.n_head_kv, o.n_ctx}), out.pos, /*causal=*/true,
                               /*kv_len_param=*/0);                   // f32 [hd, n_head, T]
    x = g.add(x, g.matmul(bind(g, L.wo), g.reshape(a, {q_dim, T})));  // f32 [n_embd, T]
    // Feed-forward (SwiGLU).
    h = g.mul(g.rms_norm(x, hp.eps), bind(g, L.ffn_norm));            // f32 [n_embd, T]
    tsr_tensor gate = g.matmul(bind(g, L.ffn_gate), h);               // f32 [n_ff, T]
    tsr_tensor up = g.matmul(bind(g, L.ffn_up), h);                   // f32 [n_ff, T]
    x = g.add(x, g.matmul(bind(g, L.ffn_down), g.swiglu(gate, up)));  // f32 [n_embd, T]
    if (progress) progress(static_cast<float>(l + 1) / static_cast<float>(hp.n_layer));
  }
  // Without all_logits only the last token's row is projected: the output
  // matmul is the largest of a small model, and a prompt needs one row.
  out.n_logit_rows = o.all_logits ? T : 1;
  if (!o.all_logits && T > 1)
    x = g.view(x, {hp.n_embd, 1}, {hp.n_embd * 4, hp.n_embd * 4, hp.n_embd * 4},
               (T - 1) * hp.n_embd * 4);                                   // f32 [n_embd, 1]
  tsr_tensor h = g.mul(g.rms_norm(x, hp.eps), bind(g, w.output_norm));     // f32 [n_embd, rows]
  out.logits = g.matmul(w.tied_output ? tok_embd : bind(g, w.output), h);  // f32 [n_vocab, rows]
  g.output(out.logits);
  return out;
}

}  // namespace tessera::models
