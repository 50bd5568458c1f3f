// AVX2 attention over tiles: one task is a kv head with all the query heads
// that share it (grouped-query attention) for up to 16 query tokens, so each
// block of 64 KV rows is converted from f16 once for up to 16 x group query
// rows instead of once per row. Scores come from a transposed K block (8
// accumulators, no horizontal sums), probabilities from a vector exp, and P.V
// from broadcasts against V rows. Softmax stays online, in f32. When there
// are too few such tasks for the threads (decode), the KV range is split as
// well and the partial softmax states merged.
// Internal to the attention family (attention.cpp chooses it).
#pragma once

#include <cstddef>
#include <cstdint>

#include "cpu/kernels.h"

namespace tsr::cpu {

// True when the node can run tiled: AVX2/FMA present and head_dim a
// multiple of 8 (and at most 512).
bool attention_tiled_applies(const tsr_node_desc& n);
// Bytes of per-thread scratch run_attention_tiled needs.
size_t attention_tiled_scratch(const tsr_node_desc& n);
// Bytes of shared scratch (split-KV partial states) for n_threads threads.
size_t attention_tiled_shared_scratch(const tsr_node_desc& n, int n_threads);
// L: valid kv length; scale: the softmax scale.
Status run_attention_tiled(const NodePlan& p, const ExecCtx& ctx, int64_t L, float scale);

}  // namespace tsr::cpu
