// attention: kernels/gpu/attention.cu. Picks the block's tile (query heads x
// tokens, kv rows per round) within attention_tiles.h's limits and, for
// decode-shaped nodes (few query rows, a long cache), the split-KV variant.
#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "gpu/attention_tiles.h"
#include "gpu_ops.h"
#include "tessera/kit/dtype.h"
#include "tessera/kit/op_support.h"
#include "tessera/kit/tensor.h"

namespace tsr::gpu {
namespace {

using namespace attn;

// Split-KV: used for at most this many query tokens, with at least this many
// kv rows (of kv_size; the run-time length is divided in the kernel) per
// split, at most kMaxSplits splits, and only while the blocks of the plain
// launch are fewer than kFillBlocks: a launch that already fills the device
// gains nothing from the merge it would add.
constexpr int64_t kSplitMaxTokens = 4;
constexpr int64_t kSplitMinRows = 64;
constexpr int64_t kMaxSplits = 32;
constexpr int64_t kFillBlocks = 256;
constexpr uint32_t kMergeThreads = 64;

struct Plan {
  int64_t G, T, C, head_chunks, token_tiles, splits;
};

int64_t floor_pow2(int64_t x) {
  int64_t p = 1;
  while (p * 2 <= x) p *= 2;
  return p;
}

// window: the node's sliding window (ip[2]; 0 none).
Plan plan(const tsr_tensor_desc& q, const tsr_tensor_desc& k, int64_t window) {
  const int64_t D = q.ne[0], n_tokens = q.ne[2], group = q.ne[1] / k.ne[1], kv_size = k.ne[2];
  Plan p;
  const int64_t rows = std::min(kMaxRows, kMaxRowFloats / D);
  // A group larger than a block's rows is cut into equal chunks, so the last
  // block does not run mostly empty rows.
  p.head_chunks = ceil_div(group, rows);
  p.G = ceil_div(group, p.head_chunks);
  p.T = std::clamp<int64_t>(rows / p.G, 1, n_tokens);
  p.C = floor_pow2(std::min({kMaxChunk, kMaxKvFloats / D, kMaxScores / (p.G * p.T)}));
  p.token_tiles = ceil_div(n_tokens, p.T);
  const int64_t blocks = k.ne[1] * p.head_chunks * p.token_tiles;
  // The kernel splits only the kv rows its queries see: under a window, at
  // most the window plus the rows between the block's tokens (consecutive
  // positions, as in decode), however long the cache.
  const int64_t span = window > 0 ? std::min(kv_size, window + n_tokens - 1) : kv_size;
  p.splits = 1;
  if (n_tokens <= kSplitMaxTokens && blocks < kFillBlocks)
    p.splits = std::clamp<int64_t>(std::min(span / kSplitMinRows, kFillBlocks / blocks), 1, kMaxSplits);
  return p;
}

bool supports(const Caps& caps, const tsr_node_desc& n, std::string& reason) {
  if (!ops::attention_supported(n, kMaxHeadDim, kMaxStepValues, reason, /*sliding_window=*/true))
    return false;
  const tsr_tensor_desc& q = n.inputs[0];
  const tsr_tensor_desc& k = n.inputs[1];
  const Plan p = plan(q, k, n.params.i[2]);
  if (p.token_tiles > std::numeric_limits<int32_t>::max() || k.ne[1] * p.head_chunks > 65535) {
    reason = fmt::format("{} token tiles x {} kv head blocks exceed the grid", p.token_tiles,
                         k.ne[1] * p.head_chunks);
    return false;
  }
  if (static_cast<int>(kThreads) > caps.max_threads) {
    reason = fmt::format("needs {} threads per block, the device has {}", kThreads, caps.max_threads);
    return false;
  }
  return true;
}

Status encode(Encoder& enc, const tsr_subgraph_node& n) {
  const tsr_tensor_desc& q = n.desc.inputs[0];
  const tsr_tensor_desc& k = n.desc.inputs[1];
  const Plan p = plan(q, k, n.desc.params.i[2]);
  const bool split = p.splits > 1;
  Launch l = node_launch(n, split ? "tsr_attention_split" : "tsr_attention");
  l.args.ku[kKuHeads] = p.G;
  l.args.ku[kKuTokens] = p.T;
  l.args.ku[kKuChunk] = p.C;
  l.args.ku[kKuHeadChunks] = p.head_chunks;
  l.args.ku[kKuSplits] = p.splits;
  l.block = kThreads;
  l.grid = {static_cast<uint32_t>(p.token_tiles), static_cast<uint32_t>(k.ne[1] * p.head_chunks),
            static_cast<uint32_t>(p.splits)};
  if (!split) return enc.add(l);

  // f32 [D + 2, n_head, n_tokens, splits]
  const uint64_t rows = static_cast<uint64_t>(q.ne[1] * q.ne[2]);
  auto partials = enc.scratch(static_cast<uint64_t>(p.splits) * rows *
                              static_cast<uint64_t>(q.ne[0] + kPartialHeader) * sizeof(float));
  if (!partials.is_ok()) return partials.status();
  l.args.ku[kKuPartials] = static_cast<int64_t>(partials.value());
  TSR_RETURN_IF_ERROR(enc.add(l));

  Launch merge = node_launch(n, "tsr_attention_merge");
  merge.args.ku[kKuSplits] = p.splits;
  merge.args.ku[kKuPartials] = l.args.ku[kKuPartials];
  merge.block = kMergeThreads;
  merge.grid = flat_grid(rows);
  return enc.add(merge);
}

}  // namespace

const OpKernel Kernels::attention{supports, encode};

}  // namespace tsr::gpu
