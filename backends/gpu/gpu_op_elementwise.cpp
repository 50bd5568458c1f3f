// add, sub, mul, div, scale, silu, gelu, swiglu: kernels/gpu/elementwise.cu.
#include <fmt/format.h>

#include "backends/gpu/gpu_ops.h"

namespace tsr::gpu {
namespace {

constexpr uint32_t kBlock = 256;

bool binary(int32_t op) { return op != TSR_OP_SCALE && op != TSR_OP_SILU && op != TSR_OP_GELU; }

bool supports(const Caps&, const tsr_node_desc& n, std::string& reason) {
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

Status encode(Encoder& enc, const tsr_subgraph_node& n) {
  Launch l = node_launch(n, "tsr_elementwise");
  const uint64_t count = n_elements(n.desc.output);
  l.args.ku[0] = n.desc.op;
  l.args.ku[1] = static_cast<int64_t>(count);
  l.block = kBlock;
  l.grid = flat_grid(ceil_div(count, kBlock));
  return enc.add(l);
}

}  // namespace

extern const OpKernel kElementwise{supports, encode};

}  // namespace tsr::gpu
