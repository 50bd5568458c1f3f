// The forward step of a decoder as a Tessera graph: embedding, the layers'
// attention and FFN blocks with their residual adds, the final norm and the
// output projection (decoder_blocks.h holds the blocks).
#include <string>

#include "models/decoder_blocks.h"

namespace tessera::models {
namespace {

// Joins the ranks' parts of x [n / R, cols] along dim 0 into [n, cols]:
// all_gather puts rank r's part at dim 3 index r, so with more than one
// column the ranks move inside the columns (a permuted copy).
tsr_tensor gather_rows(Graph& g, tsr_tensor x, int64_t R, int64_t n, int64_t cols) {
  const tsr_tensor all = g.all_gather(x, R);  // [n / R, cols, 1, R]
  if (cols == 1) return g.reshape(all, {n, 1});
  tsr_op_params p{};
  p.i[0] = TSR_DTYPE_F32;
  const tsr_tensor ranks_inner = g.permute(all, 0, 2, 3, 1);  // [n / R, R, cols]
  return g.reshape(g.op(TSR_OP_CPY, {ranks_inner}, p), {n, cols});
}

}  // namespace

DecoderGraph build_decoder_graph(Graph& g, const DecoderHParams& hp, const DecoderWeights& w,
                                 const DecoderGraphOptions& o, const std::function<void(float)>& progress) {
  const int64_t N = o.n_tokens;
  if (N < 1 || (o.all_logits && o.paged))
    throw Error(TSR_ERR_INVALID_ARGUMENT, "[build_decoder_graph] n_tokens " + std::to_string(N) +
                                              ", all_logits " + std::to_string(o.all_logits) + ", paged " +
                                              std::to_string(o.paged != nullptr) +
                                              " is not a supported step");
  DecoderGraph out;
  out.tokens = g.input("tokens", TSR_DTYPE_I32, {N});  // i32 [N]
  out.pos = g.input("pos", TSR_DTYPE_I32, {N});        // i32 [N]
  AttentionStep st;
  st.n_tokens = N;
  st.n_ctx = o.n_ctx;
  st.kv_dtype = o.kv_dtype;
  st.pos = out.pos;
  st.prefix = o.state_prefix;
  if (o.paged) {
    const PagedKvLayout& pl = *o.paged;
    st.paged = o.paged;
    st.prefix = pl.prefix;
    out.seq = st.seq = g.input("seq", TSR_DTYPE_I32, {N});        // i32 [N]
    out.slots = st.slots = g.input("slots", TSR_DTYPE_I32, {N});  // i32 [N]
    out.table = st.table = g.input("block_table", TSR_DTYPE_I32, {pl.max_blocks, pl.table_rows});
  }
  if (w.rope_freqs.present()) st.rope_freqs = bind(g, w.rope_freqs);  // f32 [n_rot / 2]

  // A pipeline split places each layer on its device; what comes before the
  // first layer goes with it, what comes after the last with that one.
  auto place_layer = [&](int64_t l) {
    if (!o.layer_devices.empty()) g.set_device(o.layer_devices[static_cast<size_t>(l)]);
  };
  place_layer(0);
  // The tied output matrix is the embedding table: bind it once.
  const tsr_tensor tok_embd = bind(g, w.tok_embd);  // [n_embd, n_vocab] (tensor parallel: n_embd / R)
  tsr_tensor x = g.get_rows(tok_embd, out.tokens);  // f32 [n_embd, N]
  if (hp.tp.split_embedding) x = gather_rows(g, x, hp.tp.size, hp.n_embd, N);
  if (hp.embd_scale != 1.0f) x = g.scale(x, hp.embd_scale);
  for (int64_t l = 0; l < hp.n_layer; ++l) {
    const DecoderLayerWeights& L = w.layers[l];
    place_layer(l);
    tsr_tensor h = rms_norm_mul(g, x, L.attn_norm, hp.eps);  // f32 [n_embd, N]
    x = g.add(x, attention_block(g, hp, L, l, h, st));       // f32 [n_embd, N]
    h = rms_norm_mul(g, x, L.ffn_norm, hp.eps);              // f32 [n_embd, N]
    x = g.add(x, ffn_block(g, hp, L, h));                    // f32 [n_embd, N]
    if (progress) progress(static_cast<float>(l + 1) / static_cast<float>(hp.n_layer));
  }
  // Without all_logits only the rows whose logits are wanted are projected:
  // the output matmul is the largest of a small model, and a prompt needs
  // one row (a paged step: one per sequence that ends its tokens here).
  if (o.all_logits) {
    out.n_logit_rows = N;
  } else if (o.paged) {
    out.n_logit_rows = o.paged->n_logit_rows;
    out.last = g.input("last", TSR_DTYPE_I32, {out.n_logit_rows});  // i32 [rows]
    x = g.get_rows(x, out.last);                                    // f32 [n_embd, rows]
  } else {
    out.n_logit_rows = 1;
    if (N > 1)
      x = g.view(x, {hp.n_embd, 1}, {hp.n_embd * 4, hp.n_embd * 4, hp.n_embd * 4},
                 (N - 1) * hp.n_embd * 4);  // f32 [n_embd, 1]
  }
  const tsr_tensor h = rms_norm_mul(g, x, w.output_norm, hp.eps);          // f32 [n_embd, rows]
  out.logits = g.matmul(w.tied_output ? tok_embd : bind(g, w.output), h);  // f32 [n_vocab, rows]
  if (hp.tp.split_output)                                                  // this rank's vocabulary rows
    out.logits = gather_rows(g, out.logits, hp.tp.size, hp.n_vocab, out.n_logit_rows);
  if (hp.final_softcap > 0.0f) out.logits = g.softcap(out.logits, hp.final_softcap);
  g.output(out.logits);
  return out;
}

}  // namespace tessera::models
