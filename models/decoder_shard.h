// Tensor parallelism for the decoders (Megatron-style): rank r of R keeps a
// slice of every layer and one all_reduce joins the slices twice per layer.
//   attention: q/k/v projections split by output rows along whole KV-head
//     groups (each rank's q heads use its own KV heads, so its KV cache holds
//     only those; with fewer KV heads than ranks, the ranks sharing a KV head
//     each keep it and split its q heads), the output projection split by
//     input columns, then all_reduce;
//   FFN: gate/up split by output rows, down by input columns, then all_reduce;
//   output: the vocabulary split by rows, then all_gather (when R divides it);
//   embedding table: split by columns of n_embd, then all_gather (when each
//     share is whole blocks);
//   norms and the residual stream stay whole on every rank.
// The graph code is unchanged but for the two reductions and the gather
// (decoder_blocks.cpp, decoder_graph.cpp): it sees the local head and FFN
// counts in the sharded hyperparameters.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "models/decoder.h"

namespace tessera::models {

// [begin, end) of n units for rank r of R: floor(n r / R) .. floor(n (r + 1) / R),
// so shards differ by at most one unit (9 heads over 2 ranks: 4 and 5).
struct ShardRange {
  int64_t begin = 0, end = 0;
  int64_t size() const { return end - begin; }
};
ShardRange shard_range(int64_t n, int rank, int ranks);

struct ShardedDecoder {
  DecoderHParams hp;  // n_head, n_head_kv, n_ff local; tp set
  DecoderWeights w;   // slices: rows in place in the file, columns copied into `owned`
  std::vector<std::unique_ptr<uint8_t[]>> owned;
};

// Rank tp.rank's slice of the model. Throws Error naming the tensor, the
// split and the block size when a column split does not fall on whole
// blocks, or a rank would get no KV head.
std::unique_ptr<ShardedDecoder> shard_decoder(const DecoderHParams& hp, const DecoderWeights& w,
                                              const TensorParallel& tp);

}  // namespace tessera::models
