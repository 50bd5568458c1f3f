// Fused attention on Vulkan (kernels/vulkan/attention.comp): one workgroup
// per (query head, token), an online softmax over the visible kv rows in f32.
// The kv length is read by the kernel from the step parameters on every
// execution, so a graph recorded once serves every decode step.
#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "backends/vulkan/vk_kernels.h"
#include "core/dtype.h"
#include "core/tensor.h"

namespace tsr::vk {
namespace {

constexpr int64_t kMaxHeadDim = 512;  // MAX_D of attention.comp
constexpr int64_t kStepValues = 16;   // ints in the step parameter block (common.glsl)
constexpr uint32_t kGroupSize = 128;  // WG of attention.comp
constexpr uint32_t kSharedBytes = (kMaxHeadDim + 2 * kGroupSize) * 4;

bool supports_attention(const DeviceCaps& caps, const tsr_node_desc& n, std::string& reason) {
  if (n.n_inputs != 3 && n.n_inputs != 4) {
    reason = fmt::format("{} inputs, expected q, k, v and an optional pos", n.n_inputs);
    return false;
  }
  const tsr_tensor_desc& q = n.inputs[0];
  const tsr_tensor_desc& k = n.inputs[1];
  const tsr_tensor_desc& v = n.inputs[2];
  const tsr_tensor_desc& o = n.output;
  const bool causal = n.params.i[0] != 0;
  const int64_t step_index = n.params.i[1];
  if (!is_float_dtype(q.dtype)) {
    reason = fmt::format("{} q (f32, f16, bf16 only)", dtype_name(q.dtype));
    return false;
  }
  if ((k.dtype != TSR_DTYPE_F32 && k.dtype != TSR_DTYPE_F16) || v.dtype != k.dtype) {
    reason =
        fmt::format("k {} and v {}: both f32 or both f16 only", dtype_name(k.dtype), dtype_name(v.dtype));
    return false;
  }
  if (k.ne[0] != q.ne[0] || !same_shape(k, v) || q.ne[3] != 1 || k.ne[3] != 1 || k.ne[1] <= 0 ||
      q.ne[1] % k.ne[1] != 0 || k.ne[2] <= 0) {
    reason = fmt::format("q {}, k {}, v {} are not [D, n_head, T], [D, n_kv_head, kv_size] x2", shape_str(q),
                         shape_str(k), shape_str(v));
    return false;
  }
  if (q.ne[0] > kMaxHeadDim) {
    reason = fmt::format("head dim {} > {}", q.ne[0], kMaxHeadDim);
    return false;
  }
  if (caps.max_shared_bytes < kSharedBytes || caps.max_invocations < kGroupSize) {
    reason = fmt::format("needs {} bytes of shared memory and {} invocations per workgroup", kSharedBytes,
                         kGroupSize);
    return false;
  }
  if (step_index >= kStepValues) {
    reason = fmt::format("kv length step parameter {} >= {} (the kernel sees {} step values)", step_index,
                         kStepValues, kStepValues);
    return false;
  }
  if (causal) {
    const tsr_tensor_desc& pos = n.inputs[3];
    if (n.n_inputs != 4 || pos.dtype != TSR_DTYPE_I32 || pos.ne[0] != q.ne[2] ||
        pos.ne[1] * pos.ne[2] * pos.ne[3] != 1) {
      reason = "causal attention needs pos i32 [n_tokens]";
      return false;
    }
    if (!fits_binding(caps, pos, "pos", reason)) return false;
  }
  if (o.dtype != TSR_DTYPE_F32 || !same_shape(o, q)) {
    reason = fmt::format("output {} is not f32 of q's shape {}", desc_str(o), shape_str(q));
    return false;
  }
  if (n_elements(q) > std::numeric_limits<uint32_t>::max()) {
    reason = fmt::format("q {} has more than 2^32 elements", shape_str(q));
    return false;
  }
  return fits_binding(caps, q, "q", reason) && fits_binding(caps, k, "k", reason) &&
         fits_binding(caps, v, "v", reason) && fits_binding(caps, o, "output", reason);
}

Status encode_attention(Recorder& rec, const tsr_subgraph_node& node) {
  const tsr_tensor_desc& q = node.desc.inputs[0];
  const bool kv_f16 = node.desc.inputs[1].dtype == TSR_DTYPE_F16;
  Dispatch d = node_dispatch(node, kv_f16 ? "attention_kv_f16" : "attention_kv_f32");
  // One workgroup per (head, token); the kv length is looped over inside.
  return rec.add_flat(d, static_cast<uint64_t>(q.ne[1]) * static_cast<uint64_t>(q.ne[2]));
}

}  // namespace

extern const OpKernel kAttention{supports_attention, encode_attention};

}  // namespace tsr::vk
