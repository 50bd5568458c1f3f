// Decoder-only transformer models read from GGUF: llama (SmolLM2, Llama 3),
// qwen2, qwen3 and gemma3. Hyperparameters come from metadata, weights are
// referenced in place in the file's mapping, and the graph of one forward
// step over n_tokens tokens keeps its KV cache in shared states. Each
// architecture is one small file (arch_*.cpp) that reads its own keys and
// says which features its layers have; the loader (decoder_load.cpp) and the
// graph (decoder_graph.cpp, over the blocks of decoder_blocks.h) are shared.
// Built only on the public API (tessera.hpp, tessera_gguf.h); errors are
// thrown as tessera::Error with a message naming the key, the tensor and the
// values.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "models/gguf_meta.h"
#include "tessera/tessera.hpp"

namespace tessera::models {

enum class FfnKind { kSwiGlu, kGeGlu };

struct TensorParallel {
  int rank = 0;
  int size = 1;                  // 1: not split
  bool split_output = false;     // the output matrix split by vocabulary rows (then all_gather)
  bool split_embedding = false;  // the embedding table split by columns of n_embd (then all_gather)
};

struct DecoderHParams {
  std::string arch;  // general.architecture
  int64_t n_vocab = 0;
  int64_t n_ctx_train = 0;
  int64_t n_embd = 0;
  int64_t n_layer = 0;
  int64_t n_head = 0;
  int64_t n_head_kv = 0;
  int64_t n_ff = 0;
  int64_t head_dim = 0;  // n_embd / n_head unless attention.key_length says otherwise
  int64_t n_rot = 0;     // rope.dimension_count, default head_dim
  float eps = 1e-5f;     // RMS norm epsilon

  // RoPE: mode, and base / freq_scale (1 / rope.scaling.factor for linear
  // scaling) of the global layers and of the sliding-window ones.
  int rope_mode = TSR_ROPE_NORMAL;
  float rope_base = 10000.0f;
  float rope_scale = 1.0f;
  float rope_base_swa = 10000.0f;
  float rope_scale_swa = 1.0f;

  int64_t n_swa = 0;             // sliding window length (0: none)
  std::vector<bool> swa_layers;  // per layer: attends through the window (empty: none does)

  float attn_scale = 0.0f;     // softmax scale; 0 -> 1 / sqrt(head_dim)
  float embd_scale = 1.0f;     // token embeddings are multiplied by it (Gemma: sqrt(n_embd))
  float final_softcap = 0.0f;  // logits -> c tanh(logits / c) when > 0

  // Layer features (the tensors they need are required when set).
  bool qkv_bias = false;    // attn_{q,k,v}.bias added after the projections (Qwen 2)
  bool qk_norm = false;     // per-head RMS norms of q and k before RoPE (Qwen 3, Gemma 3)
  bool post_norms = false;  // RMS norms of the attention and FFN outputs before the residual adds (Gemma 3)
  FfnKind ffn = FfnKind::kSwiGlu;

  // Tensor parallelism: this rank's slice of a model split over `size`
  // ranks (decoder_shard.h); the counts above are then the local ones.
  TensorParallel tp;

  bool is_swa(int64_t layer) const { return n_swa > 0 && !swa_layers.empty() && swa_layers[layer]; }
};

struct DecoderLayerWeights {
  GgufWeight attn_norm, wq, wk, wv, wo, ffn_norm, ffn_gate, ffn_up, ffn_down;
  GgufWeight bq, bk, bv;                     // qkv_bias
  GgufWeight q_norm, k_norm;                 // qk_norm
  GgufWeight post_attn_norm, post_ffw_norm;  // post_norms
};

struct DecoderWeights {
  GgufWeight tok_embd, output_norm, output;  // output is tok_embd when tied
  bool tied_output = false;
  GgufWeight rope_freqs;  // optional f32 [n_rot / 2]: Llama 3's RoPE frequency factors
  std::vector<DecoderLayerWeights> layers;
  uint64_t bytes = 0;  // sum of the distinct tensors' sizes
};

// Reads and checks the hyperparameters of any supported architecture.
// Throws naming a missing or inconsistent key, or an unsupported architecture.
DecoderHParams read_decoder_hparams(const tsr_gguf* file);
// Finds every tensor the architecture's features need, checking shape and
// dtype. Throws naming a missing tensor, a wrong shape, or a type Tessera
// does not compute with.
DecoderWeights find_decoder_weights(const tsr_gguf* file, const DecoderHParams& hp);

// A batch step over a paged KV cache: every layer's K and V live in one pool
// of fixed-size blocks shared by the batch's sequences, and a block table
// maps each sequence's logical rows to pool blocks (TSR_OP_PAGED_ATTENTION).
struct PagedKvLayout {
  std::string prefix;        // pools are the shared states <prefix>blk.<l>.k / .v
  int64_t block_size = 16;   // rows per block
  int64_t pool_blocks = 0;   // blocks in the pool
  int64_t max_blocks = 0;    // block table entries per sequence
  int64_t table_rows = 0;    // block table rows (sequences)
  int64_t n_logit_rows = 1;  // tokens whose logits the step returns (the `last` input)
};

struct DecoderGraphOptions {
  int64_t n_tokens = 1;                // tokens per step
  int64_t n_ctx = 2048;                // KV cache rows (one sequence)
  tsr_dtype kv_dtype = TSR_DTYPE_F16;  // KV cache element type
  bool all_logits = false;             // logits of every token, else only the last one's (one sequence)
  // One sequence: its cache is the shared states <state_prefix>blk.<l>.k / .v.
  std::string state_prefix;
  // Set: a paged batch step instead (state_prefix, n_ctx and all_logits unused).
  const PagedKvLayout* paged = nullptr;
  // Empty, or the device of each layer (Graph::set_device; "" : the
  // compile's list): the embedding goes with layer 0, the output with the last.
  std::vector<std::string> layer_devices;
};

struct DecoderGraph {
  tsr_tensor tokens = -1;  // input i32 [n_tokens]
  tsr_tensor pos = -1;     // input i32 [n_tokens]: each token's position in its sequence
  // Paged steps only:
  tsr_tensor seq = -1;     // input i32 [n_tokens]: each token's block table row
  tsr_tensor slots = -1;   // input i32 [n_tokens]: the pool row each token's K and V are written to
  tsr_tensor table = -1;   // input i32 [max_blocks, table_rows]: the block table
  tsr_tensor last = -1;    // input i32 [n_logit_rows]: the tokens whose logits are returned
  tsr_tensor logits = -1;  // output f32 [n_vocab, n_logit_rows]
  int64_t n_logit_rows = 0;
};

// Builds one forward step into g. Everything token-wise (embedding, norms,
// matmuls, FFN) runs on all n_tokens columns at once, so each weight is read
// once per step.
// One sequence: attention runs against the cache <state_prefix>blk.<l>.k
// (and .v), kv_dtype [head_dim * n_head_kv, n_ctx], over its first n_past +
// n_tokens rows (step parameter 0), so every graph built with the same prefix
// in one context shares it; logits are the last token's, or every token's
// with all_logits.
// Paged: tokens of any sequences in any order; K and V are written to the
// pool rows `slots` and attention reads each token's sequence through the
// block table; logits are those of the tokens `last` names.
// progress (may be empty) gets the fraction of layers bound.
DecoderGraph build_decoder_graph(Graph& g, const DecoderHParams& hp, const DecoderWeights& w,
                                 const DecoderGraphOptions& o,
                                 const std::function<void(float)>& progress = {});

}  // namespace tessera::models
