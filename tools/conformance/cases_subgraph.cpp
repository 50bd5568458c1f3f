// Single-node subgraph cases: layouts the ABI allows that core's planner does
// not produce today, each family named for the bug it catches.
//   inplace_*       the output is exactly input 0's memory and layout, for
//                   every op tessera_backend.h allows it for (a kernel that
//                   writes the output before it has read all of input 0);
//   strided_out_*   the output's rows padded and its dims apart, at a
//                   64-byte-aligned offset (a kernel that writes as if the
//                   output were contiguous);
//   min_align_*     every input and the output one element past a 64-byte
//                   boundary, the minimum alignment the ABI documents (a
//                   kernel that assumes 64-byte-aligned offsets).
// Each runs twice with new data, so a result cached from the first run fails.
#include <fmt/format.h>

#include "ops/op_schema.h"
#include "tessera/kit/dtype.h"
#include "tools/conformance/conformance.h"
#include "tools/conformance/subgraph_layout.h"

namespace tsr::conformance {
namespace {

enum class Placement { kInPlace, kStridedOut, kMinAlign };

// One node over the operands, placed as `how` says.
Case single_node(int32_t op, int32_t dt, const std::string& name, const std::vector<Operand>& in,
                 const tsr_op_params& p, Placement how, std::vector<int64_t> step = {}) {
  SubgraphLayout l;
  const bool inplace = how == Placement::kInPlace;
  const int32_t b_in = l.add_buffer("in", TSR_BUFFER_ACTIVATIONS, true, inplace ? dt : -1);
  std::vector<Placed> inputs;
  std::vector<tsr_tensor_desc> descs;
  for (const Operand& o : in) {
    const int64_t shift = how == Placement::kMinAlign ? dtype_traits(o.dtype)->block_bytes : 0;
    inputs.push_back(l.place(b_in, o, shift));
    descs.push_back(inputs.back().desc);
  }
  int64_t view_offset = 0;
  auto out = ops::infer(op, descs.data(), static_cast<int>(descs.size()), p, &view_offset);
  Placed output = inputs[0];
  if (!inplace && out.is_ok()) {
    const tsr_tensor_desc& od = out.value();
    const int32_t b_out = l.add_buffer("out", TSR_BUFFER_ACTIVATIONS, true, od.dtype);
    Operand shape = act("out", od.dtype, std::vector<int64_t>(od.ne, od.ne + std::max(1, od.rank)));
    output = how == Placement::kStridedOut ? l.place(b_out, shape, 128, 3, 1)
                                           : l.place(b_out, shape, dtype_traits(od.dtype)->block_bytes);
  }
  std::string args;
  for (const Operand& o : in) args += (args.empty() ? "" : ", ") + o.name;
  l.add_node(op, fmt::format("{} = {}({})", inplace ? in[0].name : "out", ops::op_name(op), args), inputs,
             output, p);

  Case c;
  c.op = op;
  // matmul rows are named for x's dtype, as in cases_matmul.cpp.
  c.row = op == TSR_OP_MATMUL ? fmt::format("matmul x={}", dtype_name(dt)) : std::string(ops::op_name(op));
  c.column = dt;
  c.name = name;
  c.inputs = in;  // the tolerance table reads the operands' dtypes
  c.params = p;
  const Tolerance tol = tolerance_for(c);
  std::vector<std::vector<int64_t>> runs = {step, step};
  c.subgraph = std::make_shared<const Subgraph>(l.finish(std::move(runs), tol));
  return c;
}

Operand divisor(int32_t dt, std::vector<int64_t> ne) {
  Operand b = act("b", dt, std::move(ne));
  b.fill = Fill::kDenominator;
  return b;
}

void inplace_cases(std::vector<Case>& out, int32_t dt) {
  // The ops tessera_backend.h lets core run in place (output = input 0).
  for (int32_t op : {TSR_OP_ADD, TSR_OP_SUB, TSR_OP_MUL, TSR_OP_DIV}) {
    auto b = [&](std::vector<int64_t> ne) { return op == TSR_OP_DIV ? divisor(dt, ne) : act("b", dt, ne); };
    out.push_back(
        single_node(op, dt, "inplace_37x5", {act("a", dt, {37, 5}), b({37, 5})}, {}, Placement::kInPlace));
    out.push_back(single_node(op, dt, "inplace_broadcast_b_37x5x2", {act("a", dt, {37, 5, 2}), b({37, 1, 2})},
                              {}, Placement::kInPlace));
  }
  out.push_back(single_node(TSR_OP_SCALE, dt, "inplace_53x3", {act("x", dt, {53, 3})},
                            iparams({}, {0.37f, -1.25f}), Placement::kInPlace));
  for (int32_t op : {TSR_OP_SILU, TSR_OP_GELU})
    out.push_back(single_node(op, dt, "inplace_53x3", {act("x", dt, {53, 3})}, {}, Placement::kInPlace));
  out.push_back(single_node(TSR_OP_SWIGLU, dt, "inplace_75x3",
                            {act("gate", dt, {75, 3}), act("up", dt, {75, 3})}, {}, Placement::kInPlace));
}

// strided_out_* and min_align_*: the same nodes, two placements.
void layout_cases(std::vector<Case>& out, int32_t dt, Placement how, const char* prefix) {
  auto add = [&](int32_t op, const std::string& shape, std::vector<Operand> in, const tsr_op_params& p,
                 std::vector<int64_t> step = {}) {
    out.push_back(single_node(op, dt, fmt::format("{}_{}", prefix, shape), in, p, how, std::move(step)));
  };
  add(TSR_OP_ADD, "37x5", {act("a", dt, {37, 5}), act("b", dt, {37, 5})}, {});
  add(TSR_OP_MUL, "37x5x2_broadcast_b", {act("a", dt, {37, 5, 2}), act("b", dt, {37, 1, 2})}, {});
  add(TSR_OP_SCALE, "53x3", {act("x", dt, {53, 3})}, iparams({}, {0.37f, -1.25f}));
  add(TSR_OP_SILU, "53x3", {act("x", dt, {53, 3})}, {});
  add(TSR_OP_SWIGLU, "75x3", {act("gate", dt, {75, 3}), act("up", dt, {75, 3})}, {});
  add(TSR_OP_RMS_NORM, "96x5", {act("x", dt, {96, 5})}, iparams({}, {1e-5f}));
  add(TSR_OP_LAYER_NORM, "96x5", {act("x", dt, {96, 5})}, iparams({}, {1e-5f}));
  add(TSR_OP_SOFTMAX, "75x6", {act("x", dt, {75, 6})}, iparams({}, {0.125f}));
  add(TSR_OP_ROPE, "64x4x5_neox", {act("x", dt, {64, 4, 5}), ints("pos", {5}, Fill::kIds, 200)},
      iparams({64, TSR_ROPE_NEOX}, {10000.0f}));
  add(TSR_OP_MATMUL, "w64x48_x64x5", {weight("w", dt, {64, 48}), act("x", dt, {64, 5})}, {});
  if (dt == TSR_DTYPE_F32)
    add(TSR_OP_ATTENTION, "32x2x3_kv9",
        {act("q", dt, {32, 2, 3}), act("k", dt, {32, 2, 9}), act("v", dt, {32, 2, 9})}, iparams({0, -1}));
}

}  // namespace

std::vector<Case> subgraph_cases() {
  std::vector<Case> cases;
  for (int32_t dt : {TSR_DTYPE_F32, TSR_DTYPE_F16}) {
    inplace_cases(cases, dt);
    layout_cases(cases, dt, Placement::kStridedOut, "strided_out");
    layout_cases(cases, dt, Placement::kMinAlign, "min_align");
  }
  return cases;
}

}  // namespace tsr::conformance
