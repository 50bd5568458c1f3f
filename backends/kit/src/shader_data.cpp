// Data movement through the copy kernel (get_rows, set_rows, cpy, concat) and
// the argmax kernel (kernels/vulkan/*.comp, kernels/opencl/*.cl).
#include <array>

#include "tessera/kit/copy_plan.h"
#include "tessera/kit/op_support.h"
#include "tessera/kit/shader_dispatch.h"

namespace tsr::kit::shader {
namespace {

constexpr uint32_t kGroup = 256;        // local size of copy
constexpr uint32_t kArgmaxGroup = 128;  // local size of argmax
// read_chunk (blocks.glsl, blocks.cl) reads every weight block format;
// quantize_block (copy) writes q8_0, q4_0, q4_1.
constexpr kit::CopyFormats kFormats{ops::is_weight_block_dtype, ops::is_block_dtype};

// ---- get_rows, set_rows, cpy, concat: the kit's copy plan, one dispatch a step ----
Status data_encode(Recorder& rec, const tsr_subgraph_node& n) {
  for (const kit::CopyStep& step : kit::copy_steps(n, kFormats)) {
    Dispatch d = node_dispatch(step.as_node(n), "copy", kGroup);
    const std::array<uint64_t, 4> values = step.values();
    // The mode selects code at pipeline creation: a specialisation constant.
    d.spec[0] = static_cast<uint32_t>(values[3]);
    for (int k = 0; k < 3; ++k) d.p.set_ku(k, static_cast<uint32_t>(values[static_cast<size_t>(k)]));
    TSR_RETURN_IF_ERROR(rec.add_flat(d, ceil_div(step.units, kGroup)));
  }
  return Status::ok();
}

// ---- argmax over dim 0 ----
bool argmax_supports(const ComputeCaps&, const tsr_node_desc& n, std::string& reason) {
  return ops::argmax_supported(n, reason);
}

Status argmax_encode(Recorder& rec, const tsr_subgraph_node& n) {
  const tsr_tensor_desc& x = n.desc.inputs[0];
  return rec.add_flat(node_dispatch(n, "argmax", kArgmaxGroup),
                      static_cast<uint64_t>(x.ne[1] * x.ne[2] * x.ne[3]));
}

}  // namespace

const OpKernel Kernels::data{kit::data_supports<ComputeCaps, kFormats>, data_encode};
const OpKernel Kernels::argmax{argmax_supports, argmax_encode};

}  // namespace tsr::kit::shader
