// A llama-style transformer stack with random weights, built only from the
// public C++ API: the demo's workload and the planner's test graph until the
// real model loader lands.
#pragma once

#include <cstdint>
#include <vector>

#include "tessera/tessera.hpp"

namespace tessera::models {

struct BlockConfig {
  int64_t n_embd = 256;
  int64_t n_head = 8;
  int64_t n_kv_head = 2;  // grouped-query attention
  int64_t n_ff = 688;
  int64_t n_layer = 2;
  int64_t n_ctx = 256;  // KV cache rows
  int64_t n_vocab = 1000;
  float rope_base = 10000.0f;
  float eps = 1e-5f;
  uint32_t seed = 42;
};

struct BlockGraph {
  tsr_tensor x = -1;                        // input f32 [n_embd, n_tokens]
  tsr_tensor pos = -1;                      // input i32 [n_tokens]
  tsr_tensor logits = -1;                   // output f32 [n_vocab, n_tokens]
  std::vector<std::vector<float>> weights;  // owned weight memory (borrowed by the graph)
};

// Builds n_layer blocks over n_tokens tokens into g. The step parameter 0 is
// the KV length (positions 0..kv_len-1 valid). The returned struct owns the
// weight memory and must outlive every model compiled from g.
BlockGraph build_transformer(Graph& g, const BlockConfig& cfg, int64_t n_tokens);

}  // namespace tessera::models
