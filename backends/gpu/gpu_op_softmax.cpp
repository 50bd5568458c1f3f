// softmax: kernels/gpu/softmax.cu, one block per row.
#include <fmt/format.h>

#include "gpu_ops.h"
#include "tessera/kit/dtype.h"
#include "tessera/kit/op_support.h"
#include "tessera/kit/tensor.h"

namespace tsr::gpu {
namespace {

// Rows of real models are hundreds to tens of thousands long: 256 threads
// keep the passes short without leaving most of a block idle on short rows.
constexpr uint32_t kBlock = 256;

bool supports(const Caps& caps, const tsr_node_desc& n, std::string& reason) {
  if (!ops::softmax_supported(n, reason)) return false;
  if (static_cast<int>(kBlock) > caps.max_threads) {
    reason = fmt::format("needs {} threads per block, the device has {}", kBlock, caps.max_threads);
    return false;
  }
  return true;
}

Status encode(Encoder& enc, const tsr_subgraph_node& n) {
  const tsr_tensor_desc& x = n.desc.inputs[0];
  Launch l = node_launch(n, "tsr_softmax");
  l.args.ku[0] = n.desc.n_inputs == 2 ? 1 : 0;
  l.block = kBlock;
  l.grid = flat_grid(static_cast<uint64_t>(x.ne[1] * x.ne[2] * x.ne[3]));
  return enc.add(l);
}

}  // namespace

const OpKernel Kernels::softmax{supports, encode};

}  // namespace tsr::gpu
