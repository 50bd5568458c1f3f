// add, sub, mul, div, scale, silu, gelu, softcap, swiglu, geglu:
// the elementwise kernel with the op as a constant (spec[0]).
#include <fmt/format.h>

#include "tessera/kit/op_support.h"
#include "tessera/kit/shader_dispatch.h"

namespace tsr::kit::shader {
namespace {

constexpr uint32_t kGroup = 256;  // local size of elementwise

bool supports(const ComputeCaps&, const tsr_node_desc& n, std::string& reason) {
  return ops::elementwise_supported(n, reason);
}

Status encode(Recorder& rec, const tsr_subgraph_node& n) {
  Dispatch d = node_dispatch(n, "elementwise", kGroup);
  d.spec[0] = static_cast<uint32_t>(n.desc.op);
  const uint64_t count = element_count(n.desc.output);
  d.p.set_ku(0, static_cast<uint32_t>(count));
  return rec.add_flat(d, ceil_div(count, kGroup));
}

}  // namespace

const OpKernel Kernels::elementwise{supports, encode};

}  // namespace tsr::kit::shader
