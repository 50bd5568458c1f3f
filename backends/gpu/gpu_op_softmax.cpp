// softmax: kernels/gpu/softmax.cu, one block per row.
#include <fmt/format.h>

#include "backends/gpu/gpu_ops.h"
#include "core/dtype.h"
#include "core/tensor.h"

namespace tsr::gpu {
namespace {

// Rows of real models are hundreds to tens of thousands long: 256 threads
// keep the passes short without leaving most of a block idle on short rows.
constexpr uint32_t kBlock = 256;

bool supports(const Caps& caps, const tsr_node_desc& n, std::string& reason) {
  if (n.n_inputs != 1 && n.n_inputs != 2) {
    reason = fmt::format("{} inputs, expected x and an optional mask", n.n_inputs);
    return false;
  }
  const tsr_tensor_desc& x = n.inputs[0];
  if (!is_float_dtype(x.dtype)) {
    reason = fmt::format("{} x (f32, f16, bf16 only)", dtype_name(x.dtype));
    return false;
  }
  if (n.n_inputs == 2) {
    const tsr_tensor_desc& m = n.inputs[1];
    if (m.dtype != TSR_DTYPE_F32 && m.dtype != TSR_DTYPE_F16) {
      reason = fmt::format("{} mask (f32, f16 only)", dtype_name(m.dtype));
      return false;
    }
    if (m.ne[0] != x.ne[0] || m.ne[1] < x.ne[1] || m.ne[2] != 1 || m.ne[3] != 1) {
      reason = fmt::format("mask {} is not [{}, >= {}, 1, 1]", shape_str(m), x.ne[0], x.ne[1]);
      return false;
    }
  }
  if (n.output.dtype != x.dtype || !same_shape(n.output, x)) {
    reason = fmt::format("output {} is not x's {}", desc_str(n.output), desc_str(x));
    return false;
  }
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

extern const OpKernel kSoftmax{supports, encode};

}  // namespace tsr::gpu
