// Element-wise ops: add, sub, mul, div (with broadcasting), scale, silu,
// gelu, softcap, swiglu, geglu; f32, f16, bf16 each. Odd sizes, size-1 dims, strided and
// transposed views, three magnitudes.
#include <fmt/format.h>

#include "ops/op_schema.h"
#include "tessera/kit/dtype.h"
#include "tools/conformance/conformance.h"

namespace tsr::conformance {
namespace {

const int32_t kFloatTypes[] = {TSR_DTYPE_F32, TSR_DTYPE_F16, TSR_DTYPE_BF16};

struct Builder {
  std::vector<Case>& out;
  int32_t op;
  int32_t dt;
  tsr_op_params params{};
  void add(std::string name, std::vector<Operand> in) {
    Case c;
    c.op = op;
    c.row = std::string(ops::op_name(op));
    c.column = dt;
    c.name = std::move(name);
    c.inputs = std::move(in);
    c.params = params;
    out.push_back(std::move(c));
  }
};

// b for a binary op: a safe divisor for div.
Operand operand_b(int32_t op, int32_t dt, std::vector<int64_t> ne, float scale) {
  Operand b = act("b", dt, std::move(ne), scale);
  if (op == TSR_OP_DIV) {
    b.fill = Fill::kDenominator;
    b.scale = 1.0f;
  }
  return b;
}

void binary_cases(std::vector<Case>& out, int32_t op, int32_t dt) {
  Builder b{out, op, dt};
  for (const Magnitude& mag : kMagnitudes) {
    // add/sub scale both sides; mul/div only a, so a product of two large
    // values cannot overflow f16 and two tiny ones do not vanish.
    const float sb = op == TSR_OP_ADD || op == TSR_OP_SUB ? mag.scale : 1.0f;
    b.add(fmt::format("odd_37x5_{}", mag.name),
          {act("a", dt, {37, 5}, mag.scale), operand_b(op, dt, {37, 5}, sb)});
  }
  b.add("size1_dims_1x7x1x3", {act("a", dt, {1, 7, 1, 3}), operand_b(op, dt, {1, 7, 1, 3}, 1.0f)});
  b.add("broadcast_b_column_37x1x2", {act("a", dt, {37, 6, 2}), operand_b(op, dt, {37, 1, 2}, 1.0f)});
  b.add("broadcast_b_scalar_rows_1x6", {act("a", dt, {37, 6}), operand_b(op, dt, {1, 6}, 1.0f)});
  b.add("broadcast_a_1x6_b_37x6", {act("a", dt, {1, 6}), operand_b(op, dt, {37, 6}, 1.0f)});
  {
    // a: columns 3..39 of a [48, 6] leaf; rows are 48 elements apart.
    Operand a = act("a", dt, {48, 6});
    a.views.push_back(slice(dt, {48, 6}, {37, 6}, 3, 0));
    b.add("strided_a_rows", {a, operand_b(op, dt, {37, 6}, 1.0f)});
  }
  {
    Operand bb = operand_b(op, dt, {6, 37}, 1.0f);
    bb.views.push_back(permute(1, 0));
    b.add("transposed_b", {act("a", dt, {37, 6}), bb});
  }
  if (dt == TSR_DTYPE_F32)
    b.add("mixed_b_f16", {act("a", dt, {37, 5}), operand_b(op, TSR_DTYPE_F16, {37, 5}, 1.0f)});
}

void unary_cases(std::vector<Case>& out, int32_t op, int32_t dt) {
  Builder b{out, op, dt};
  if (op == TSR_OP_SCALE) b.params = iparams({}, {0.37f, -1.25f});
  // A cap of 3 puts the large magnitude deep in tanh's saturation.
  if (op == TSR_OP_SOFTCAP) b.params = iparams({}, {3.0f});
  for (const Magnitude& mag : kMagnitudes)
    b.add(fmt::format("odd_53x3_{}", mag.name), {act("x", dt, {53, 3}, mag.scale)});
  b.add("size1_1x1", {act("x", dt, {1, 1})});
  b.add("rows_3d_7x5x3", {act("x", dt, {7, 5, 3})});
  {
    Operand x = act("x", dt, {6, 41});
    x.views.push_back(permute(1, 0));
    b.add("transposed", {x});
  }
  if (op == TSR_OP_SCALE) {
    b.params = iparams({}, {-3.0f, 0.0f});
    b.add("no_bias", {act("x", dt, {29, 4})});
  }
  if (op == TSR_OP_SOFTCAP) {
    b.params = iparams({}, {30.0f});  // Gemma 2's final logit cap, on logit-sized values
    b.add("cap30_logits_300x2", {act("x", dt, {300, 2}, 20.0f)});
  }
}

void gated_cases(std::vector<Case>& out, int32_t op, int32_t dt) {
  Builder b{out, op, dt};
  for (const Magnitude& mag : kMagnitudes)
    b.add(fmt::format("odd_75x3_{}", mag.name),
          {act("gate", dt, {75, 3}, mag.scale), act("up", dt, {75, 3})});
  b.add("size1_1x4", {act("gate", dt, {1, 4}), act("up", dt, {1, 4})});
  {
    // gate and up as the two halves of one fused [2 * 75, 3] projection.
    Operand gate = act("gate", dt, {150, 3});
    gate.views.push_back(slice(dt, {150, 3}, {75, 3}, 0, 0));
    Operand up = act("up", dt, {150, 3});
    up.views.push_back(slice(dt, {150, 3}, {75, 3}, 75, 0));
    b.add("halves_of_fused_projection", {gate, up});
  }
  {
    Operand gate = act("gate", dt, {3, 75});
    gate.views.push_back(permute(1, 0));
    b.add("transposed_gate", {gate, act("up", dt, {75, 3})});
  }
}

}  // namespace

std::vector<Case> elementwise_cases() {
  std::vector<Case> cases;
  for (int32_t op : {TSR_OP_ADD, TSR_OP_SUB, TSR_OP_MUL, TSR_OP_DIV})
    for (int32_t dt : kFloatTypes) binary_cases(cases, op, dt);
  for (int32_t op : {TSR_OP_SCALE, TSR_OP_SILU, TSR_OP_GELU, TSR_OP_SOFTCAP})
    for (int32_t dt : kFloatTypes) unary_cases(cases, op, dt);
  for (int32_t op : {TSR_OP_SWIGLU, TSR_OP_GEGLU})
    for (int32_t dt : kFloatTypes) gated_cases(cases, op, dt);
  return cases;
}

}  // namespace tsr::conformance
