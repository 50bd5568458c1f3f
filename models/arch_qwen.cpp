// Qwen 2 / 2.5 and Qwen 3: llama layers with NEOX RoPE (rotated pairs are
// the two halves of a head: llama.cpp's LLAMA_ROPE_TYPE_NEOX for both).
// Qwen 2 adds biases to the q, k and v projections; Qwen 3 drops them and
// RMS-normalises each head of q and k before RoPE (its head_dim, from
// attention.key_length, need not be n_embd / n_head).
#include "models/arch.h"

namespace tessera::models {

void read_qwen2(const GgufMeta&, DecoderHParams& hp) {
  hp.rope_mode = TSR_ROPE_NEOX;
  hp.qkv_bias = true;
}

void read_qwen3(const GgufMeta&, DecoderHParams& hp) {
  hp.rope_mode = TSR_ROPE_NEOX;
  hp.qk_norm = true;
}

}  // namespace tessera::models
