// add, sub, mul, div, scale, silu, gelu, swiglu: kernels/vulkan/elementwise.comp
// with the op as a specialization constant.
#include <fmt/format.h>

#include "backends/vulkan/vk_kernels.h"

namespace tsr::vk {
namespace {

constexpr uint64_t kGroup = 256;  // local_size_x of elementwise.comp

bool binary(int32_t op) { return op != TSR_OP_SCALE && op != TSR_OP_SILU && op != TSR_OP_GELU; }

bool supports(const DeviceCaps&, const tsr_node_desc& n, std::string& reason) {
  const int want = binary(n.op) ? 2 : 1;
  if (n.n_inputs != want) {
    reason = fmt::format("{} inputs, expected {}", n.n_inputs, want);
    return false;
  }
  for (int i = 0; i < want; ++i)
    if (!is_float_dtype(n.inputs[i].dtype)) {
      reason = fmt::format("input {} dtype {} is not f32/f16/bf16", i, n.inputs[i].dtype);
      return false;
    }
  if (!is_float_dtype(n.output.dtype)) {
    reason = "output dtype is not f32/f16/bf16";
    return false;
  }
  for (int i = 0; i < want; ++i)
    for (int k = 0; k < TSR_MAX_DIMS; ++k)
      if (n.inputs[i].ne[k] != 1 && n.inputs[i].ne[k] != n.output.ne[k]) {
        reason =
            fmt::format("input {} dim {} is {}, output's is {}", i, k, n.inputs[i].ne[k], n.output.ne[k]);
        return false;
      }
  return true;
}

Status encode(Recorder& rec, const tsr_subgraph_node& n) {
  Dispatch d = node_dispatch(n, "elementwise");
  d.spec[0] = static_cast<uint32_t>(n.desc.op);
  const uint64_t count = n_elements(n.desc.output);
  d.p.set_ku(0, static_cast<uint32_t>(count));
  return rec.add_flat(d, ceil_div(count, kGroup));
}

}  // namespace

extern const OpKernel kElementwise{supports, encode};

}  // namespace tsr::vk
