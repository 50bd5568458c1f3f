// The backend kit's glue, op families and copy plans, tested through the kit
// alone (no core, no backend): what a vendor links is what is tested here.
#include <gtest/gtest.h>

#include <climits>
#include <cstdint>
#include <string>
#include <vector>

#include "tessera/kit/backend_glue.h"
#include "tessera/kit/copy_plan.h"
#include "tessera/kit/op_families.h"
#include "tessera/kit/op_info.h"
#include "tessera/kit/op_support.h"
#include "tessera/kit/tensor.h"

namespace {

using tsr::kit::CopyMode;
using tsr::kit::CopyRows;
using tsr::kit::CopyStep;
using tsr::kit::OpFamily;

const tsr::kit::CopyFormats kFormats{tsr::ops::is_weight_block_dtype, tsr::ops::is_block_dtype};

// A fake buffer handle: its address stands for the buffer, its size is set
// per test.
uint64_t g_buffer_bytes = 0;
uint64_t fake_size(tsr_bk_buffer) { return g_buffer_bytes; }
tsr_bk_buffer fake_buffer(uintptr_t id) { return reinterpret_cast<tsr_bk_buffer>(id); }

tsr_tensor_ref ref(int32_t dtype, std::initializer_list<int64_t> ne, uintptr_t buffer, uint64_t offset = 0) {
  tsr_tensor_ref r{};
  tsr::Result<tsr_tensor_desc> d = tsr::make_desc(dtype, ne);
  EXPECT_TRUE(d.is_ok()) << d.status().message();
  if (d.is_ok()) r.desc = d.value();
  r.buffer = fake_buffer(buffer);
  r.offset = offset;
  return r;
}

tsr_subgraph_node node(int32_t op, std::vector<tsr_tensor_ref> inputs, tsr_tensor_ref out) {
  tsr_subgraph_node n{};
  n.desc.op = op;
  n.desc.n_inputs = static_cast<int32_t>(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    n.inputs[i] = inputs[i];
    n.desc.inputs[i] = inputs[i].desc;
  }
  n.output = out;
  n.desc.output = out.desc;
  return n;
}

TEST(OpFamilies, EveryComputingOpHasOneFamilyAndViewsHaveNone) {
  for (int32_t op = 1; op < TSR_OP_COUNT; ++op) {
    const tsr::ops::OpInfo* info = tsr::ops::op_info(op);
    ASSERT_NE(info, nullptr) << op;
    if (info->is_view || info->is_collective)  // nothing for a backend to encode
      EXPECT_EQ(tsr::kit::op_family(op), OpFamily::none) << info->name;
    else
      EXPECT_NE(tsr::kit::op_family(op), OpFamily::none) << info->name << " has no family";
  }
  EXPECT_EQ(tsr::kit::op_family(TSR_OP_COUNT), OpFamily::none);
  EXPECT_EQ(tsr::kit::op_family(-1), OpFamily::none);
}

struct Caps {};
struct Encoder {};
bool yes(const Caps&, const tsr_node_desc&, std::string&) { return true; }
tsr::Status none(Encoder&, const tsr_subgraph_node&) { return tsr::Status::ok(); }

// A backend with three families only.
struct Partial {
  using Kernel = tsr::kit::OpKernel<Caps, Encoder>;
  static const Kernel data, elementwise, matmul;
};
const Partial::Kernel Partial::data{yes, none};
const Partial::Kernel Partial::elementwise{yes, none};
const Partial::Kernel Partial::matmul{yes, none};

TEST(OpFamilies, LookupFindsTheFamilyMemberAndNothingForAbsentFamilies) {
  EXPECT_EQ(tsr::kit::find_kernel<Partial>(TSR_OP_SWIGLU), &Partial::elementwise);
  EXPECT_EQ(tsr::kit::find_kernel<Partial>(TSR_OP_CONCAT), &Partial::data);
  EXPECT_EQ(tsr::kit::find_kernel<Partial>(TSR_OP_MATMUL), &Partial::matmul);
  EXPECT_EQ(tsr::kit::find_kernel<Partial>(TSR_OP_ROPE), nullptr);
  EXPECT_EQ(tsr::kit::find_kernel<Partial>(TSR_OP_RESHAPE), nullptr);
  std::string reason;
  EXPECT_EQ(tsr::kit::kernel_for<Partial>(TSR_OP_SOFTMAX, "Acme", reason), nullptr);
  EXPECT_EQ(reason, "softmax has no Acme kernel");
}

TEST(CopyPlan, SetRowsIntoOtherMemoryCopiesTheDestinationFirst) {
  const tsr_tensor_ref dst = ref(TSR_DTYPE_F16, {64, 8}, 1);
  const tsr_tensor_ref src = ref(TSR_DTYPE_F32, {64, 3}, 2);
  const tsr_tensor_ref idx = ref(TSR_DTYPE_I32, {3}, 3);
  const tsr_tensor_ref out = ref(TSR_DTYPE_F16, {64, 8}, 4);
  const std::vector<CopyStep> steps =
      tsr::kit::copy_steps(node(TSR_OP_SET_ROWS, {dst, src, idx}, out), kFormats);
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_EQ(steps[0].src.buffer, dst.buffer);
  EXPECT_EQ(steps[0].rows, CopyRows::direct);
  EXPECT_EQ(steps[0].mode, CopyMode::raw);
  EXPECT_EQ(steps[0].units, 64u * 8u);
  EXPECT_EQ(steps[1].src.buffer, src.buffer);
  EXPECT_EQ(steps[1].index.buffer, idx.buffer);
  EXPECT_EQ(steps[1].rows, CopyRows::dest_rows);
  EXPECT_EQ(steps[1].mode, CopyMode::convert);
  EXPECT_EQ(steps[1].iterated_slot, 0);
  EXPECT_EQ(steps[1].units, 64u * 3u);
  // The index goes to slot 2 of the kernel's node, the source to slot 0.
  const tsr_subgraph_node k = steps[1].as_node(node(TSR_OP_SET_ROWS, {dst, src, idx}, out));
  EXPECT_EQ(k.inputs[0].buffer, src.buffer);
  EXPECT_EQ(k.inputs[1].buffer, nullptr);
  EXPECT_EQ(k.inputs[2].buffer, idx.buffer);
  EXPECT_EQ(k.output.buffer, out.buffer);

  // In place: one step.
  const tsr_tensor_ref same = ref(TSR_DTYPE_F16, {64, 8}, 1);
  EXPECT_EQ(tsr::kit::copy_steps(node(TSR_OP_SET_ROWS, {dst, src, idx}, same), kFormats).size(), 1u);
}

TEST(CopyPlan, QuantizingCountsBlocksAndGetRowsReadsIdsFromSlotOne) {
  const tsr_tensor_ref x = ref(TSR_DTYPE_F32, {64, 4}, 1);
  const tsr_tensor_ref q = ref(TSR_DTYPE_Q8_0, {64, 4}, 2);
  std::vector<CopyStep> steps = tsr::kit::copy_steps(node(TSR_OP_CPY, {x}, q), kFormats);
  ASSERT_EQ(steps.size(), 1u);
  EXPECT_EQ(steps[0].mode, CopyMode::quantize);
  EXPECT_EQ(steps[0].units, 64u * 4u / 32u);
  EXPECT_EQ(steps[0].values()[3], static_cast<uint64_t>(CopyMode::quantize));

  const tsr_tensor_ref table = ref(TSR_DTYPE_Q4_K, {256, 10}, 3);
  const tsr_tensor_ref ids = ref(TSR_DTYPE_I32, {2}, 4);
  const tsr_tensor_ref rows = ref(TSR_DTYPE_F32, {256, 2}, 5);
  const tsr_subgraph_node g = node(TSR_OP_GET_ROWS, {table, ids}, rows);
  steps = tsr::kit::copy_steps(g, kFormats);
  ASSERT_EQ(steps.size(), 1u);
  EXPECT_EQ(steps[0].rows, CopyRows::source_rows);
  EXPECT_EQ(steps[0].iterated_slot, tsr::kit::kCopyOutSlot);
  EXPECT_EQ(steps[0].as_node(g).inputs[1].buffer, ids.buffer);
}

TEST(CopyPlan, ConcatCopiesEachPartAtItsOffsetAndSkipsAnEmptyOne) {
  const tsr_tensor_ref a = ref(TSR_DTYPE_F32, {4, 3}, 1);
  const tsr_tensor_ref b = ref(TSR_DTYPE_F32, {4, 5}, 2);
  const tsr_tensor_ref out = ref(TSR_DTYPE_F32, {4, 8}, 3, 128);
  tsr_subgraph_node n = node(TSR_OP_CONCAT, {a, b}, out);
  n.desc.params.i[0] = 1;
  std::vector<CopyStep> steps = tsr::kit::copy_steps(n, kFormats);
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_EQ(steps[0].dst.offset, 128u);
  EXPECT_EQ(steps[1].dst.offset, 128u + 3u * 4u * 4u);
  EXPECT_EQ(steps[1].dst.desc.ne[1], 5);
  EXPECT_EQ(steps[1].units, 20u);

  const tsr_tensor_ref empty = ref(TSR_DTYPE_F32, {4, 0}, 4);
  tsr_subgraph_node e = node(TSR_OP_CONCAT, {empty, a}, ref(TSR_DTYPE_F32, {4, 3}, 3));
  e.desc.params.i[0] = 1;
  steps = tsr::kit::copy_steps(e, kFormats);
  ASSERT_EQ(steps.size(), 1u);
  EXPECT_EQ(steps[0].src.buffer, a.buffer);
}

TEST(CopyPlan, ConversionIntoABlockFormatTheKernelCannotWriteIsRefused) {
  const tsr_tensor_ref x = ref(TSR_DTYPE_F32, {64}, 1);
  const tsr_subgraph_node n = node(TSR_OP_CPY, {x}, ref(TSR_DTYPE_Q5_0, {64}, 2));
  std::string reason;
  EXPECT_FALSE(tsr::kit::data_op_supported(n.desc, kFormats, reason));
  EXPECT_NE(reason.find("q5_0"), std::string::npos) << reason;
  reason.clear();
  EXPECT_TRUE(
      tsr::kit::data_op_supported(node(TSR_OP_CPY, {x}, ref(TSR_DTYPE_Q4_0, {64}, 2)).desc, kFormats, reason))
      << reason;
  EXPECT_FALSE(tsr::kit::data_op_supported(node(TSR_OP_ADD, {x, x}, x).desc, kFormats, reason));
}

TEST(Glue, StepParamsAreCheckedForCountArrayAndRange) {
  int64_t values[3] = {1, 5, int64_t{1} << 40};
  tsr_step_params p{};
  p.values = values;
  p.n_values = 2;
  EXPECT_TRUE(tsr::kit::check_step_params(&p, 16, INT32_MIN, INT32_MAX).is_ok());
  EXPECT_TRUE(tsr::kit::check_step_params(nullptr, 16, INT32_MIN, INT32_MAX).is_ok());
  p.n_values = 3;
  tsr::Status s = tsr::kit::check_step_params(&p, 16, INT32_MIN, INT32_MAX);
  EXPECT_EQ(s.code(), TSR_ERR_INVALID_ARGUMENT);
  EXPECT_NE(s.message().find("step value 2 is 1099511627776"), std::string::npos) << s.message();
  EXPECT_TRUE(tsr::kit::check_step_params(&p, 16, INT64_MIN, INT64_MAX).is_ok());
  p.n_values = -1;
  EXPECT_FALSE(tsr::kit::check_step_params(&p, 16, INT64_MIN, INT64_MAX).is_ok());
  p.n_values = 17;
  EXPECT_FALSE(tsr::kit::check_step_params(&p, 16, INT64_MIN, INT64_MAX).is_ok());
  p.n_values = 1;
  p.values = nullptr;
  s = tsr::kit::check_step_params(&p, 16, INT64_MIN, INT64_MAX);
  EXPECT_NE(s.message().find("no array"), std::string::npos) << s.message();
}

TEST(Glue, SubgraphAndNodeChecksNameTheNodeAndTheNumbers) {
  const tsr_bk_device device = reinterpret_cast<tsr_bk_device>(uintptr_t{8});
  tsr_bk_prepared out = nullptr;
  tsr_subgraph g{};
  g.n_nodes = 1;
  EXPECT_NE(tsr::kit::check_subgraph(device, &g, &out).message().find("node array null"), std::string::npos);
  tsr_subgraph_node n = node(TSR_OP_ADD, {ref(TSR_DTYPE_F32, {8}, 1), ref(TSR_DTYPE_F32, {8}, 2)},
                             ref(TSR_DTYPE_F32, {8}, 3, 16));
  n.desc.n_inputs = 9;
  g.nodes = &n;
  tsr::Status s = tsr::kit::check_subgraph(device, &g, &out);
  EXPECT_NE(s.message().find("node 0 (add): 9 inputs"), std::string::npos) << s.message();
  n.desc.n_inputs = 2;
  EXPECT_TRUE(tsr::kit::check_subgraph(device, &g, &out).is_ok());

  g_buffer_bytes = 40;  // the output, 32 bytes at offset 16, does not fit
  s = tsr::kit::check_node(4, n, fake_size, [](std::string&) { return true; });
  EXPECT_NE(s.message().find("node 4 (add): output f32 [8] at offset 16 spans 32 bytes, buffer has 40"),
            std::string::npos)
      << s.message();
  g_buffer_bytes = 48;
  EXPECT_TRUE(tsr::kit::check_node(4, n, fake_size, [](std::string&) { return true; }).is_ok());
  s = tsr::kit::check_node(4, n, fake_size, [](std::string& why) {
    why = "too wide";
    return false;
  });
  EXPECT_EQ(s.code(), TSR_ERR_UNSUPPORTED);
  EXPECT_NE(s.message().find("node 4 (add): too wide"), std::string::npos) << s.message();
}

bool count_inputs(tsr_bk_device, const tsr_node_desc& n, std::string& why) {
  why = "saw " + std::to_string(n.n_inputs);
  return false;
}

TEST(Glue, SupportsEntryAnswersNoForNullAndBadArityWithoutCallingTheBackend) {
  char reason[64] = {};
  tsr_node_desc d{};
  d.op = TSR_OP_ADD;
  d.n_inputs = 2;
  const tsr_bk_device device = reinterpret_cast<tsr_bk_device>(uintptr_t{8});
  EXPECT_EQ(tsr::kit::supports_entry<count_inputs>(nullptr, &d, reason, sizeof reason), 0);
  EXPECT_STREQ(reason, "null argument");
  d.n_inputs = -3;
  EXPECT_EQ(tsr::kit::supports_entry<count_inputs>(device, &d, reason, sizeof reason), 0);
  EXPECT_STREQ(reason, "-3 inputs");
  d.n_inputs = 2;
  EXPECT_EQ(tsr::kit::supports_entry<count_inputs>(device, &d, reason, sizeof reason), 0);
  EXPECT_STREQ(reason, "saw 2");
}

}  // namespace
