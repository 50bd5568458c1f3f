// add, sub, mul, div, scale, silu, gelu, softcap, swiglu, geglu:
// kernels/vulkan/elementwise.comp with the op as a specialization constant.
#include <fmt/format.h>

#include "tessera/kit/op_support.h"
#include "vk_kernels.h"

namespace tsr::vk {
namespace {

constexpr uint64_t kGroup = 256;  // local_size_x of elementwise.comp

bool supports(const DeviceCaps&, const tsr_node_desc& n, std::string& reason) {
  return ops::elementwise_supported(n, reason);
}

Status encode(Recorder& rec, const tsr_subgraph_node& n) {
  Dispatch d = node_dispatch(n, "elementwise");
  d.spec[0] = static_cast<uint32_t>(n.desc.op);
  const uint64_t count = element_count(n.desc.output);
  d.p.set_ku(0, static_cast<uint32_t>(count));
  return rec.add_flat(d, ceil_div(count, kGroup));
}

}  // namespace

const OpKernel Kernels::elementwise{supports, encode};

}  // namespace tsr::vk
