// The forward step of a decoder as a Tessera graph: embedding, the layers'
// attention and FFN blocks with their residual adds, the final norm and the
// output projection (decoder_blocks.h holds the blocks).
#include <string>

#include "models/decoder_blocks.h"

namespace tessera::models {

DecoderGraph build_decoder_graph(Graph& g, const DecoderHParams& hp, const DecoderWeights& w,
                                 const DecoderGraphOptions& o, const std::function<void(float)>& progress) {
  const int64_t T = o.n_tokens;
  const int64_t S = static_cast<int64_t>(o.state_prefixes.size()), N = S * T;
  if (S < 1 || T < 1 || (o.all_logits && S > 1))
    throw Error(TSR_ERR_INVALID_ARGUMENT, "[build_decoder_graph] n_seq " + std::to_string(S) + ", n_tokens " +
                                              std::to_string(T) + ", all_logits " +
                                              std::to_string(o.all_logits) + " is not a supported step");
  DecoderGraph out;
  out.tokens = g.input("tokens", TSR_DTYPE_I32, {N});  // i32 [N]
  out.pos = g.input("pos", TSR_DTYPE_I32, {N});        // i32 [N]
  // Each sequence's positions, as attention and set_rows take them.
  std::vector<tsr_tensor> seq_pos(S, out.pos);
  if (S > 1)
    for (int64_t s = 0; s < S; ++s)
      seq_pos[s] = g.view(out.pos, {T}, {T * 4, T * 4, T * 4}, s * T * 4);  // i32 [T]
  AttentionStep st;
  st.n_tokens = T;
  st.n_ctx = o.n_ctx;
  st.kv_dtype = o.kv_dtype;
  st.prefixes = &o.state_prefixes;
  st.pos = out.pos;
  st.seq_pos = &seq_pos;
  if (w.rope_freqs.present()) st.rope_freqs = bind(g, w.rope_freqs);  // f32 [n_rot / 2]

  // The tied output matrix is the embedding table: bind it once.
  const tsr_tensor tok_embd = bind(g, w.tok_embd);  // [n_embd, n_vocab]
  tsr_tensor x = g.get_rows(tok_embd, out.tokens);  // f32 [n_embd, N]
  if (hp.embd_scale != 1.0f) x = g.scale(x, hp.embd_scale);
  for (int64_t l = 0; l < hp.n_layer; ++l) {
    const DecoderLayerWeights& L = w.layers[l];
    tsr_tensor h = rms_norm_mul(g, x, L.attn_norm, hp.eps);  // f32 [n_embd, N]
    x = g.add(x, attention_block(g, hp, L, l, h, st));       // f32 [n_embd, N]
    h = rms_norm_mul(g, x, L.ffn_norm, hp.eps);              // f32 [n_embd, N]
    x = g.add(x, ffn_block(g, hp, L, h));                    // f32 [n_embd, N]
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
  const tsr_tensor h = rms_norm_mul(g, x, w.output_norm, hp.eps);          // f32 [n_embd, rows]
  out.logits = g.matmul(w.tied_output ? tok_embd : bind(g, w.output), h);  // f32 [n_vocab, rows]
  if (hp.final_softcap > 0.0f) out.logits = g.softcap(out.logits, hp.final_softcap);
  g.output(out.logits);
  return out;
}

}  // namespace tessera::models
