// Gemma 3 (text). What differs from llama, as llama.cpp reads and builds it
// (llama-model.cpp, models/gemma3.cpp):
//  * token embeddings scaled by sqrt(n_embd);
//  * per-head RMS norms of q and k before RoPE; NEOX RoPE;
//  * RMS norms of the attention and FFN outputs before each residual add
//    (post_attention_norm, post_ffw_norm); GELU-tanh gated FFN;
//  * sliding-window layers interleaved with global ones: of every 6 layers
//    the first 5 attend through a window of attention.sliding_window rows
//    (llama.cpp hard-codes the pattern 6 for gemma3); local layers use RoPE
//    base 10000 without scaling (also hard-coded there), global ones
//    rope.freq_base and the file's rope scaling;
//  * softmax scale 1/sqrt(head_dim), except the 27B (62 layers) whose
//    query_pre_attn_scalar is n_embd / n_head;
//  * logits soft-capped when final_logit_softcapping is present.
// The converter has already added 1 to the RMS norm weights, so they are
// used as stored.
#include <cmath>

#include "models/arch.h"

namespace tessera::models {

void read_gemma3(const GgufMeta& m, DecoderHParams& hp) {
  const std::string a = hp.arch + ".";
  hp.rope_mode = TSR_ROPE_NEOX;
  hp.qk_norm = true;
  hp.post_norms = true;
  hp.ffn = FfnKind::kGeGlu;
  hp.embd_scale = std::sqrt(static_cast<float>(hp.n_embd));
  hp.n_swa = m.required_int(a + "attention.sliding_window");
  const int64_t pattern = m.optional_int(a + "attention.sliding_window_pattern", 6);
  hp.swa_layers.resize(static_cast<size_t>(hp.n_layer));
  for (int64_t l = 0; l < hp.n_layer; ++l) hp.swa_layers[l] = l % pattern < pattern - 1;
  hp.rope_base_swa = 10000.0f;
  hp.rope_scale_swa = 1.0f;
  const int64_t query_pre_attn_scalar = hp.n_layer == 62 ? hp.n_embd / hp.n_head : hp.head_dim;
  hp.attn_scale = 1.0f / std::sqrt(static_cast<float>(query_pre_attn_scalar));
  hp.final_softcap = m.optional_float(a + "final_logit_softcapping", 0.0f);
  if (!(hp.final_softcap >= 0.0f) || std::isinf(hp.final_softcap))
    m.fail(TSR_ERR_INVALID_ARGUMENT,
           a + "final_logit_softcapping = " + std::to_string(hp.final_softcap) + " must be finite and >= 0");
}

}  // namespace tessera::models
