// The blocks every decoder architecture is built from: weight binding, RMS
// norm, the attention block (projections, optional biases and q/k norms,
// RoPE, KV cache, attention per sequence, output projection, optional post
// norm) and the gated FFN block. Shapes: N = the step's tokens (columns).
#pragma once

#include <string>
#include <vector>

#include "models/decoder.h"

namespace tessera::models {

// w as a graph weight (its GGUF bytes borrowed in place).
tsr_tensor bind(Graph& g, const GgufWeight& w);

// rms_norm(x) * w over dim 0: f32 [n, ...] with w [n] broadcast.
tsr_tensor rms_norm_mul(Graph& g, tsr_tensor x, const GgufWeight& w, float eps);

// What one step's attention needs besides the layer's weights.
struct AttentionStep {
  int64_t n_tokens = 1;  // N: tokens of the step
  int64_t n_ctx = 0;     // KV cache rows (one sequence)
  tsr_dtype kv_dtype = TSR_DTYPE_F16;
  std::string prefix;          // KV state name prefix (the sequence's cache, or the pools)
  tsr_tensor pos = -1;         // i32 [N]
  tsr_tensor rope_freqs = -1;  // f32 [n_rot / 2], or -1
  // Paged steps (see PagedKvLayout):
  const PagedKvLayout* paged = nullptr;
  tsr_tensor seq = -1, slots = -1, table = -1;
};

// Attention block of layer l over h = the normed input f32 [n_embd, N];
// returns f32 [n_embd, N] (post-normed when hp.post_norms), to be added to
// the residual.
tsr_tensor attention_block(Graph& g, const DecoderHParams& hp, const DecoderLayerWeights& L, int64_t l,
                           tsr_tensor h, const AttentionStep& st);

// Gated FFN: down(act(gate h) * up h), post-normed when hp.post_norms.
// h f32 [n_embd, N] -> f32 [n_embd, N].
tsr_tensor ffn_block(Graph& g, const DecoderHParams& hp, const DecoderLayerWeights& L, tsr_tensor h);

}  // namespace tessera::models
