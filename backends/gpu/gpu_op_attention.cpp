// attention and paged_attention: kernels/gpu/attention.cu. Picks the block's
// tile (query heads x tokens, kv rows per round) within attention_tiles.h's
// limits and, for decode-shaped nodes (few query rows, a long cache), the
// split-KV variant. Both ops share the plan, the launches and the merge; they
// differ in the kernel names and in how far tokens are packed into a tile.
#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <string>
#include <string_view>

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

// The shape a plan is made for: q and k as the node's, the most logical kv
// rows one token may see (kv_size; for a paged pool the table's max_blocks x
// block size), the sliding window (ip[2]; 0 none), and whether tokens of a
// tile may belong to different sequences (paged).
struct Shape {
  const tsr_tensor_desc& q;
  const tsr_tensor_desc& k;
  int64_t kv_span, window;
  bool paged;
};

Shape attention_shape(const tsr_node_desc& n) {
  return {n.inputs[0], n.inputs[1], n.inputs[1].ne[2], n.params.i[2], false};
}

Shape paged_shape(const tsr_node_desc& n) {
  return {n.inputs[0], n.inputs[1], n.inputs[5].ne[0] * n.params.i[0], n.params.i[2], true};
}

Plan plan(const Shape& s) {
  const int64_t D = s.q.ne[0], n_tokens = s.q.ne[2], group = s.q.ne[1] / s.k.ne[1];
  Plan p;
  const int64_t rows = std::min(kMaxRows, kMaxRowFloats / D);
  // A group larger than a block's rows is cut into equal chunks, so the last
  // block does not run mostly empty rows.
  p.head_chunks = ceil_div(group, rows);
  p.G = ceil_div(group, p.head_chunks);
  p.T = std::clamp<int64_t>(rows / p.G, 1, n_tokens);
  // A paged tile walks its tokens in runs of one sequence, one run after the
  // other, so packing the tokens of many sequences (a decode batch) into a
  // tile only serialises them. Tokens are packed just far enough that the
  // launch still has kFillBlocks blocks: a long prefill chunk (one run per
  // tile) keeps the shared staging, a decode batch gets a block per token.
  if (s.paged) p.T = std::clamp<int64_t>(n_tokens * s.k.ne[1] * p.head_chunks / kFillBlocks, 1, p.T);
  p.C = floor_pow2(std::min({kMaxChunk, kMaxKvFloats / D, kMaxScores / (p.G * p.T)}));
  p.token_tiles = ceil_div(n_tokens, p.T);
  const int64_t blocks = s.k.ne[1] * p.head_chunks * p.token_tiles;
  // The kernel splits only the kv rows its queries see: under a window, at
  // most the window plus the rows between the block's tokens (consecutive
  // positions, as in decode), however long the cache.
  const int64_t span = s.window > 0 ? std::min(s.kv_span, s.window + n_tokens - 1) : s.kv_span;
  p.splits = 1;
  if (n_tokens <= kSplitMaxTokens && blocks < kFillBlocks)
    p.splits = std::clamp<int64_t>(std::min(span / kSplitMinRows, kFillBlocks / blocks), 1, kMaxSplits);
  return p;
}

// The device limits of a plan: the grid and the threads per block.
bool fits_device(const Caps& caps, const Plan& p, int64_t n_kv_head, std::string& reason) {
  if (p.token_tiles > std::numeric_limits<int32_t>::max() || n_kv_head * p.head_chunks > 65535) {
    reason = fmt::format("{} token tiles x {} kv head blocks exceed the grid", p.token_tiles,
                         n_kv_head * p.head_chunks);
    return false;
  }
  if (static_cast<int>(kThreads) > caps.max_threads) {
    reason = fmt::format("needs {} threads per block, the device has {}", kThreads, caps.max_threads);
    return false;
  }
  return true;
}

bool supports_attention(const Caps& caps, const tsr_node_desc& n, std::string& reason) {
  if (!ops::attention_supported(n, kMaxHeadDim, kMaxStepValues, reason, /*sliding_window=*/true))
    return false;
  return fits_device(caps, plan(attention_shape(n)), n.inputs[1].ne[1], reason);
}

bool supports_paged_attention(const Caps& caps, const tsr_node_desc& n, std::string& reason) {
  if (!ops::paged_attention_supported(n, kMaxHeadDim, reason)) return false;
  return fits_device(caps, plan(paged_shape(n)), n.inputs[1].ne[1], reason);
}

// The launches of plan p running `kernel` (S = 1) or `kernel`_split and the
// merge (S > 1).
Status encode(Encoder& enc, const tsr_subgraph_node& n, const Plan& p, std::string_view kernel) {
  const tsr_tensor_desc& q = n.desc.inputs[0];
  const tsr_tensor_desc& k = n.desc.inputs[1];
  const bool split = p.splits > 1;
  Launch l = node_launch(n, split ? std::string(kernel) + "_split" : std::string(kernel));
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

Status encode_attention(Encoder& enc, const tsr_subgraph_node& n) {
  return encode(enc, n, plan(attention_shape(n.desc)), "tsr_attention");
}

Status encode_paged_attention(Encoder& enc, const tsr_subgraph_node& n) {
  return encode(enc, n, plan(paged_shape(n.desc)), "tsr_paged_attention");
}

}  // namespace

const OpKernel Kernels::attention{supports_attention, encode_attention};
const OpKernel Kernels::paged_attention{supports_paged_attention, encode_paged_attention};

}  // namespace tsr::gpu
