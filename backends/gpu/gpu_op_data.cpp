// Data movement through kernels/gpu/copy.cu (get_rows, set_rows, cpy,
// concat) and kernels/gpu/argmax.cu.
#include <array>

#include "gpu_ops.h"
#include "tessera/kit/copy_plan.h"
#include "tessera/kit/op_support.h"

namespace tsr::gpu {
namespace {

constexpr uint32_t kBlock = 256;

// kernels/gpu/block_formats.h decodes every weight block format (for
// get_rows tables, cpy to float and block copies); copy.cu quantizes floats
// into q8_0, q4_0 and q4_1.
constexpr kit::CopyFormats kGpuFormats{ops::is_weight_block_dtype, ops::is_block_dtype};

// ---- get_rows, set_rows, cpy, concat: the kit's copy plan, one launch a step ----
Status data_encode(Encoder& enc, const tsr_subgraph_node& n) {
  for (const kit::CopyStep& step : kit::copy_steps(n, kGpuFormats)) {
    Launch l = node_launch(step.as_node(n), "tsr_copy");
    const std::array<uint64_t, 4> values = step.values();
    for (size_t k = 0; k < values.size(); ++k) l.args.ku[k] = static_cast<int64_t>(values[k]);
    l.block = kBlock;
    l.grid = flat_grid(ceil_div(step.units, kBlock));
    TSR_RETURN_IF_ERROR(enc.add(l));
  }
  return Status::ok();
}

// ---- argmax over dim 0 ----
bool argmax_supports(const Caps&, const tsr_node_desc& n, std::string& reason) {
  return ops::argmax_supported(n, reason);
}

Status argmax_encode(Encoder& enc, const tsr_subgraph_node& n) {
  const tsr_tensor_desc& x = n.desc.inputs[0];
  const uint64_t rows = static_cast<uint64_t>(x.ne[1] * x.ne[2] * x.ne[3]);
  Launch l = node_launch(n, "tsr_argmax");
  l.args.ku[0] = static_cast<int64_t>(rows);
  l.block = static_cast<uint32_t>(std::max(enc.caps().warp_size, 128));
  l.grid = flat_grid(rows);
  return enc.add(l);
}

}  // namespace

const OpKernel Kernels::data{kit::data_supports<Caps, kGpuFormats>, data_encode};
const OpKernel Kernels::argmax{argmax_supports, argmax_encode};

}  // namespace tsr::gpu
