// add, sub, mul, div, scale, silu, gelu, softcap, swiglu, geglu:
// kernels/gpu/elementwise.cu.
#include <fmt/format.h>

#include "gpu_ops.h"
#include "tessera/kit/op_support.h"

namespace tsr::gpu {
namespace {

constexpr uint32_t kBlock = 256;

bool supports(const Caps&, const tsr_node_desc& n, std::string& reason) {
  return ops::elementwise_supported(n, reason);
}

Status encode(Encoder& enc, const tsr_subgraph_node& n) {
  Launch l = node_launch(n, "tsr_elementwise");
  const uint64_t count = element_count(n.desc.output);
  l.args.ku[0] = n.desc.op;
  l.args.ku[1] = static_cast<int64_t>(count);
  l.block = kBlock;
  l.grid = flat_grid(ceil_div(count, kBlock));
  return enc.add(l);
}

}  // namespace

const OpKernel Kernels::elementwise{supports, encode};

}  // namespace tsr::gpu
