// Llama-family model (general.architecture "llama", which covers SmolLM2)
// read from GGUF: hyperparameters from metadata, weights referenced in place
// in the file's mapping, and the graph of one forward step over n_tokens
// tokens with a KV cache kept in shared states. Built only on the public API
// (tessera.hpp, tessera_gguf.h); errors are thrown as tessera::Error with a
// message naming the key, the tensor and the values.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "tessera/tessera.hpp"
#include "tessera/tessera_gguf.h"

namespace tessera::models {

struct LlamaHParams {
  std::string arch;  // "llama"
  int64_t n_vocab = 0;
  int64_t n_ctx_train = 0;
  int64_t n_embd = 0;
  int64_t n_layer = 0;
  int64_t n_head = 0;
  int64_t n_head_kv = 0;
  int64_t n_ff = 0;
  int64_t head_dim = 0;  // n_embd / n_head unless attention.key_length says otherwise
  int64_t n_rot = 0;     // rope.dimension_count, default head_dim
  float rope_base = 10000.0f;
  float rope_scale = 1.0f;  // freq_scale: 1 / rope.scaling.factor for linear scaling
  float eps = 1e-5f;
};

// One GGUF tensor, borrowed from the mapping.
struct GgufWeight {
  std::string name;
  int32_t dtype = 0;  // tsr_dtype (checked to be one Tessera computes with)
  int32_t n_dims = 0;
  int64_t ne[TSR_MAX_DIMS] = {1, 1, 1, 1};
  const void* data = nullptr;
  uint64_t size = 0;
};

struct LlamaLayerWeights {
  GgufWeight attn_norm, wq, wk, wv, wo, ffn_norm, ffn_gate, ffn_up, ffn_down;
};

struct LlamaWeights {
  GgufWeight tok_embd, output_norm, output;  // output is tok_embd when tied
  bool tied_output = false;
  std::vector<LlamaLayerWeights> layers;
  uint64_t bytes = 0;  // sum of the distinct tensors' sizes
};

// Reads and checks the hyperparameters. Throws naming a missing required key.
LlamaHParams read_llama_hparams(const tsr_gguf* file);
// Finds every tensor, checking shape and dtype. Throws naming a missing tensor,
// a wrong shape, or a type Tessera does not compute with.
LlamaWeights find_llama_weights(const tsr_gguf* file, const LlamaHParams& hp);

struct LlamaGraphOptions {
  int64_t n_tokens = 1;                // tokens per sequence
  int64_t n_ctx = 2048;                // KV cache rows
  tsr_dtype kv_dtype = TSR_DTYPE_F16;  // KV cache element type
  bool all_logits = false;             // logits of every token, else only the last one's (n_seq 1 only)
  // One per sequence: shared-state names <prefix>blk.<l>.k / .v. Their count
  // is the number of sequences n_seq.
  std::vector<std::string> state_prefixes;
};

struct LlamaGraph {
  tsr_tensor tokens = -1;  // input i32 [n_tokens * n_seq], sequence s at [s * n_tokens, (s + 1) * n_tokens)
  tsr_tensor pos = -1;     // input i32 [n_tokens * n_seq]: sequence s at n_past_s .. n_past_s + n_tokens - 1
  tsr_tensor last = -1;    // input i32 [n_seq] when n_seq > 1: the column of each sequence's logits row
  tsr_tensor logits = -1;  // output f32 [n_vocab, rows]: rows n_tokens with all_logits, else n_seq
  int64_t n_logit_rows = 0;
};

// Builds one forward step over n_seq independent sequences of n_tokens tokens
// each into g. Everything token-wise (embedding, norms, matmuls, FFN) runs on
// all n_seq * n_tokens columns at once, so each weight is read once per step;
// attention runs per sequence against its own cache. Step parameter s is
// sequence s's valid KV length (n_past_s + tokens fed). The KV cache of
// sequence s, layer l is the shared state <state_prefixes[s]>blk.<l>.k (and
// .v), kv_dtype [head_dim * n_head_kv, n_ctx], so every graph built with the
// same prefix in one context shares it. Without all_logits and with one
// sequence the logits are the last column's; with several, the columns named
// by the `last` input. progress (may be empty) gets the fraction of layers bound.
LlamaGraph build_llama_graph(Graph& g, const LlamaHParams& hp, const LlamaWeights& w,
                             const LlamaGraphOptions& o, const std::function<void(float)>& progress = {});

}  // namespace tessera::models
