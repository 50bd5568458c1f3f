// A vendor's view of the installed backend kit: descriptor helpers, f16
// conversion, the op table, the op-contract checks, the exception guard and
// the backend glue (op families, copy plans, argument checks), built against
// the installed headers and static library only.
#include <climits>
#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "tessera/kit/abi_guard.h"
#include "tessera/kit/backend_glue.h"
#include "tessera/kit/copy_plan.h"
#include "tessera/kit/dtype.h"
#include "tessera/kit/half.h"
#include "tessera/kit/op_families.h"
#include "tessera/kit/op_info.h"
#include "tessera/kit/op_support.h"
#include "tessera/kit/tensor.h"

namespace {

int fail(const std::string& what) {
  std::fprintf(stderr, "kit consumer: %s\n", what.c_str());
  return 1;
}

}  // namespace

int main() {
  tsr::Result<tsr::TensorDesc> d = tsr::make_desc(TSR_DTYPE_F16, {8, 3});
  if (!d.is_ok()) return fail(d.status().message());
  if (tsr::n_bytes_contiguous(d.value()) != 8 * 3 * 2) return fail("f16 [8, 3] is not 48 bytes");
  if (tsr::f16_to_f32(tsr::f32_to_f16(1.5f)) != 1.5f) return fail("f16 round trip of 1.5");
  if (tsr::dtype_name(TSR_DTYPE_Q4_0) != "q4_0") return fail("dtype name of q4_0");
  if (tsr::ops::op_from_name("rms_norm") != TSR_OP_RMS_NORM) return fail("op_from_name(rms_norm)");

  tsr_node_desc node{};
  node.struct_size = sizeof node;
  node.op = TSR_OP_ADD;
  node.n_inputs = 2;
  node.inputs[0] = node.inputs[1] = node.output = d.value();
  std::string reason;
  if (!tsr::ops::elementwise_supported(node, reason)) return fail("f16 add refused: " + reason);

  tsr_error err{};
  const tsr_status_code code =
      tsr::guarded("consumer", &err, []() -> tsr::Status { throw std::runtime_error("boom"); });
  if (code != TSR_ERR_INTERNAL || std::string(err.message) != "[consumer] internal error: boom")
    return fail(std::string("guarded gave ") + err.message);

  if (tsr::kit::op_family(TSR_OP_GEGLU) != tsr::kit::OpFamily::elementwise) return fail("geglu's family");
  tsr_subgraph_node cpy{};
  cpy.desc = node;
  cpy.desc.op = TSR_OP_CPY;
  cpy.desc.n_inputs = 1;
  cpy.inputs[0].desc = cpy.output.desc = d.value();
  const tsr::kit::CopyFormats formats{tsr::ops::is_weight_block_dtype, tsr::ops::is_block_dtype};
  const std::vector<tsr::kit::CopyStep> steps = tsr::kit::copy_steps(cpy, formats);
  if (steps.size() != 1 || steps[0].units != 24 || steps[0].mode != tsr::kit::CopyMode::raw)
    return fail("copy plan of an f16 [8, 3] cpy");
  int64_t too_big = int64_t{1} << 40;
  const tsr_step_params step{.n_values = 1, .values = &too_big};
  if (tsr::kit::check_step_params(&step, 16, INT32_MIN, INT32_MAX).is_ok())
    return fail("2^40 as an int32 step");

  std::printf("kit consumer: ok (%s)\n", tsr::desc_str(d.value()).c_str());
  return 0;
}
