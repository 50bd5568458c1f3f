// TESSERA_TEST_RESTRICT_OPS: what it lets a named device run, and that
// mistakes in it show as refusals with a reason.
#include "core/support_restriction.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>

namespace tsr {
namespace {

tsr_node_desc node(int32_t op, std::initializer_list<int32_t> input_dtypes,
                   int32_t out_dtype = TSR_DTYPE_F32) {
  tsr_node_desc d{};
  d.struct_size = sizeof(d);
  d.op = op;
  for (int32_t t : input_dtypes) d.inputs[d.n_inputs++].dtype = t;
  d.output.dtype = out_dtype;
  return d;
}

TEST(SupportRestriction, NamedDeviceRunsOnlyTheListedF32Ops) {
  const SupportRestriction r = SupportRestriction::parse("gpuemu:0=add,rms_norm;vulkan:0=mul");
  std::string reason;
  EXPECT_TRUE(r.allows("gpuemu:0", node(TSR_OP_ADD, {TSR_DTYPE_F32, TSR_DTYPE_F32}), &reason));
  EXPECT_FALSE(r.allows("gpuemu:0", node(TSR_OP_MUL, {TSR_DTYPE_F32, TSR_DTYPE_F32}), &reason));
  EXPECT_EQ(reason, "mul is not in TESSERA_TEST_RESTRICT_OPS");
  reason.clear();
  EXPECT_FALSE(r.allows("gpuemu:0", node(TSR_OP_ADD, {TSR_DTYPE_F16, TSR_DTYPE_F32}), &reason));
  EXPECT_EQ(reason, "TESSERA_TEST_RESTRICT_OPS allows f32 only");
  EXPECT_TRUE(r.allows("vulkan:0", node(TSR_OP_MUL, {TSR_DTYPE_F32, TSR_DTYPE_F32}), &reason));
  // Devices it does not name are not restricted.
  EXPECT_TRUE(r.allows("cpu:0", node(TSR_OP_MATMUL, {TSR_DTYPE_Q4_1, TSR_DTYPE_F32}), &reason));
}

TEST(SupportRestriction, UnknownOpRefusesEverythingOnThatDeviceNamingIt) {
  const SupportRestriction r = SupportRestriction::parse("gpuemu:0=add,rmsnorm");
  std::string reason;
  EXPECT_FALSE(r.allows("gpuemu:0", node(TSR_OP_ADD, {TSR_DTYPE_F32, TSR_DTYPE_F32}), &reason));
  EXPECT_EQ(reason, "TESSERA_TEST_RESTRICT_OPS names unknown op 'rmsnorm'");
}

TEST(SupportRestriction, EmptySpecRestrictsNothing) {
  const SupportRestriction r = SupportRestriction::parse("");
  std::string reason;
  EXPECT_TRUE(r.allows("gpuemu:0", node(TSR_OP_SOFTMAX, {TSR_DTYPE_F16}, TSR_DTYPE_F16), &reason));
  EXPECT_TRUE(reason.empty());
}

}  // namespace
}  // namespace tsr
