// Fused attention (the attention kernel of kernels/vulkan and kernels/opencl): one workgroup
// per (token, kv head, chunk of the query heads sharing it); its invocations
// split the visible kv rows, each with its own online softmax in f32, and
// combine at the end. The kv length is read by the kernel from the step
// parameters on every execution, so a graph recorded once serves every
// decode step. A sliding window (ip[2]) moves the start of the walk, so
// only the rows inside it are read. Head dim, heads per workgroup and
// workgroup size are specialization constants (q and the accumulators live
// in registers).
//
// paged_attention runs the same shader built with PAGED: each token's
// logical rows are mapped through its sequence's row of the block table to
// pool rows, and the token's sequence, position and table come from input
// tensors; everything else (workgroups, specialization, combine) is shared.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "tessera/kit/dtype.h"
#include "tessera/kit/op_support.h"
#include "tessera/kit/shader_dispatch.h"
#include "tessera/kit/tensor.h"

namespace tsr::kit::shader {
namespace {

constexpr int64_t kMaxHeadDim = 256;
constexpr int64_t kStepValues = 16;  // ints in the step parameter block (STEP(k))
// Each invocation keeps q and its accumulators for HB heads of D dims in
// registers: HB * D <= kMaxRegFloats bounds HB.
constexpr int64_t kMaxRegFloats = 256;
constexpr int64_t kMaxHeads = 8;

// Query heads per workgroup: the heads sharing a kv head, as many as fit.
int64_t heads_per_group(const tsr_tensor_desc& q, const tsr_tensor_desc& k) {
  const int64_t group = q.ne[1] / k.ne[1];
  return std::max<int64_t>(1, std::min({group, kMaxRegFloats / q.ne[0], kMaxHeads}));
}

// Invocations per workgroup. Each one walks its own slice of the kv rows and
// exports its accumulators once through shared memory at the end. On GPUs
// more invocations shorten that walk. On CPU implementations (lavapipe:
// subgroups of 8 SIMD lanes) the invocations of a workgroup run one after
// the other on one thread, so more of them only add combine work and barrier
// switches: one subgroup's worth is fastest there (SmolLM2 decode at kv 1024
// on lavapipe: 8 invocations 2.3 ms, 32 3.2 ms, 128 6.3 ms).
uint32_t group_size(const ComputeCaps& caps) { return caps.subgroup_size >= 16 ? 128 : 8; }

// The combine through subgroup reductions (attention_sg) where the device has
// subgroup arithmetic, else through shared memory alone.
bool subgroup_combine(const ComputeCaps& caps) {
  constexpr uint32_t kNeed = kSubgroupBasic | kSubgroupArithmetic;
  return (caps.subgroup_ops & kNeed) == kNeed && caps.subgroup_size > 0;
}

// Subgroups in a workgroup of wg invocations (NSG of the attention kernel).
uint32_t subgroups(const ComputeCaps& caps, uint32_t wg) {
  return static_cast<uint32_t>(ceil_div(wg, caps.subgroup_size));
}

// Shared memory of the attention kernel: sg_s and part_s, or ml_s and acc_s.
uint32_t shared_bytes(const ComputeCaps& caps, int64_t heads, int64_t head_dim, uint32_t wg) {
  if (subgroup_combine(caps)) {
    const int64_t nsg = subgroups(caps, wg);
    return static_cast<uint32_t>((2 * heads * nsg + heads * (head_dim + 1) / 2 * 2 * nsg) * 4);
  }
  const int64_t chunk = std::min<int64_t>(heads * head_dim, 4096 / (wg + 1));
  return static_cast<uint32_t>((2 * heads * wg + chunk * (wg + 1)) * 4);
}

// Rows of kv tensor t are contiguous f16 starting on 4-byte boundaries (the
// binding starts at a multiple of storage_align, the tensor at ref.offset).
bool f16_words(const ComputeCaps& caps, const tsr_tensor_ref& t) {
  const tsr_tensor_desc& d = t.desc;
  return d.dtype == TSR_DTYPE_F16 && d.nb[0] == 2 && d.ne[0] % 2 == 0 && t.offset % 4 == 0 &&
         d.nb[1] % 4 == 0 && d.nb[2] % 4 == 0 && caps.storage_align % 4 == 0;
}

// The device limits both ops share: shared memory and invocations of the
// workgroup, q's element count (32-bit indices), and q, k, v and the output
// each within one binding.
bool fits_device(const ComputeCaps& caps, const tsr_node_desc& n, std::string& reason) {
  const tsr_tensor_desc& q = n.inputs[0];
  const tsr_tensor_desc& k = n.inputs[1];
  if (const uint32_t wg = group_size(caps), need = shared_bytes(caps, heads_per_group(q, k), q.ne[0], wg);
      caps.max_shared_bytes < need || caps.max_invocations < wg) {
    reason = fmt::format("needs {} bytes of shared memory and {} invocations per workgroup", need, wg);
    return false;
  }
  if (element_count(q) > std::numeric_limits<uint32_t>::max()) {
    reason = fmt::format("q {} has more than 2^32 elements", shape_str(q));
    return false;
  }
  return fits_binding(caps, q, "q", reason) && fits_binding(caps, k, "k", reason) &&
         fits_binding(caps, n.inputs[2], "v", reason) && fits_binding(caps, n.output, "output", reason);
}

bool supports_attention(const ComputeCaps& caps, const tsr_node_desc& n, std::string& reason) {
  if (!ops::attention_supported(n, kMaxHeadDim, kStepValues, reason, /*sliding_window=*/true)) return false;
  if (n.params.i[0] != 0 && !fits_binding(caps, n.inputs[3], "pos", reason)) return false;
  return fits_device(caps, n, reason);
}

bool supports_paged_attention(const ComputeCaps& caps, const tsr_node_desc& n, std::string& reason) {
  if (!ops::paged_attention_supported(n, kMaxHeadDim, reason)) return false;
  // The shader clamps a position to the table's max_blocks * bs logical rows
  // in 32-bit ints.
  const int64_t bs = n.params.i[0], max_blocks = n.inputs[5].ne[0];
  if (max_blocks > std::numeric_limits<int32_t>::max() / bs) {
    reason = fmt::format("block table of {} blocks of {} rows exceeds 2^31 positions", max_blocks, bs);
    return false;
  }
  return fits_binding(caps, n.inputs[3], "pos", reason) && fits_binding(caps, n.inputs[4], "seq", reason) &&
         fits_binding(caps, n.inputs[5], "block_table", reason) && fits_device(caps, n, reason);
}

// One workgroup per (token, kv head, chunk of heads) of `kernel` (the shared
// memory variant) or `kernel`_sg (the subgroup one).
Status encode(Recorder& rec, const tsr_subgraph_node& node, std::string_view kernel,
              std::string_view kernel_sg) {
  const tsr_tensor_desc& q = node.desc.inputs[0];
  const tsr_tensor_desc& k = node.desc.inputs[1];
  const int64_t heads = heads_per_group(q, k);
  const uint64_t chunks = ceil_div(static_cast<uint64_t>(q.ne[1] / k.ne[1]), static_cast<uint64_t>(heads));
  const ComputeCaps& caps = rec.caps();
  const bool sg = subgroup_combine(caps);
  const uint32_t wg = group_size(caps);
  Dispatch d = node_dispatch(node, sg ? kernel_sg : kernel, wg);
  const uint32_t flags = (f16_words(caps, node.inputs[1]) ? 1u : 0u) |
                         (f16_words(caps, node.inputs[2]) ? 2u : 0u) | (sg ? subgroups(caps, wg) << 2 : 0u);
  d.spec = {static_cast<uint32_t>(heads), static_cast<uint32_t>(q.ne[0]), wg, flags};
  d.p.set_ku(0, static_cast<uint32_t>(chunks));
  // One workgroup per (token, kv head, chunk of heads); the kv length is
  // looped over inside, so it is not part of the dispatch size.
  return rec.add_flat(d, static_cast<uint64_t>(q.ne[2]) * static_cast<uint64_t>(k.ne[1]) * chunks);
}

Status encode_attention(Recorder& rec, const tsr_subgraph_node& node) {
  return encode(rec, node, "attention", "attention_sg");
}

Status encode_paged_attention(Recorder& rec, const tsr_subgraph_node& node) {
  return encode(rec, node, "paged_attention", "paged_attention_sg");
}

}  // namespace

const OpKernel Kernels::attention{supports_attention, encode_attention};
const OpKernel Kernels::paged_attention{supports_paged_attention, encode_paged_attention};

}  // namespace tsr::kit::shader
