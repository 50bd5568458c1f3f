// rms_norm, layer_norm, rope (normal and neox, partial rotation) and softmax
// (with and without mask and scale); f32, f16, bf16 each.
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
  void add(std::string name, std::vector<Operand> in, const tsr_op_params& p) {
    Case c;
    c.op = op;
    c.row = std::string(ops::op_name(op));
    c.column = dt;
    c.name = std::move(name);
    c.inputs = std::move(in);
    c.params = p;
    out.push_back(std::move(c));
  }
};

void norm_family_cases(std::vector<Case>& out, int32_t op, int32_t dt) {
  Builder b{out, op, dt};
  const tsr_op_params eps = iparams({}, {1e-5f});
  for (const Magnitude& mag : kMagnitudes)
    b.add(fmt::format("odd_293x5_{}", mag.name), {act("x", dt, {293, 5}, mag.scale)}, eps);
  b.add("size1_row_1x7", {act("x", dt, {1, 7})}, eps);
  b.add("rows_3d_64x3x2_eps0", {act("x", dt, {64, 3, 2})}, iparams({}, {0.0f}));
  // eps as the model file gives it: a kernel with eps built in (1e-5) fails
  // these. 1e-6 only shows on tiny rows (mean x^2 ~1e-8); 1e-2 and 0.5 on
  // rows of unit scale (a 0.5% and a 20% change).
  b.add("eps_1e-6_tiny_96x4", {act("x", dt, {96, 4}, 1e-4f)}, iparams({}, {1e-6f}));
  b.add("eps_1e-2_96x4", {act("x", dt, {96, 4})}, iparams({}, {1e-2f}));
  b.add("eps_0.5_96x4", {act("x", dt, {96, 4})}, iparams({}, {0.5f}));
  {
    Operand x = act("x", dt, {5, 100});
    x.views.push_back(permute(1, 0));
    b.add("transposed_100x5", {x}, eps);
  }
}

void rope_cases(std::vector<Case>& out, int32_t dt) {
  Builder b{out, TSR_OP_ROPE, dt};
  // x [head_dim, n_head, n_tokens], pos [n_tokens] at random positions < 200.
  auto pos = [](int64_t n) { return ints("pos", {n}, Fill::kIds, 200); };
  const float base = 10000.0f;
  for (const Magnitude& mag : kMagnitudes)
    b.add(fmt::format("normal_full_64x4x5_{}", mag.name), {act("x", dt, {64, 4, 5}, mag.scale), pos(5)},
          iparams({64, TSR_ROPE_NORMAL}, {base}));
  b.add("neox_full_64x4x5", {act("x", dt, {64, 4, 5}), pos(5)}, iparams({64, TSR_ROPE_NEOX}, {base}));
  b.add("normal_partial_nrot32_of_80", {act("x", dt, {80, 3, 4}), pos(4)},
        iparams({32, TSR_ROPE_NORMAL}, {base}));
  b.add("neox_partial_nrot24_of_72", {act("x", dt, {72, 3, 4}), pos(4)},
        iparams({24, TSR_ROPE_NEOX}, {base}));
  b.add("neox_freq_scale_base5e5", {act("x", dt, {64, 2, 3}), pos(3)},
        iparams({64, TSR_ROPE_NEOX}, {500000.0f, 0.25f}));
  b.add("single_token_single_head", {act("x", dt, {64, 1, 1}), pos(1)},
        iparams({64, TSR_ROPE_NORMAL}, {base}));
  // Qwen-style base 1e6 with a partial rotation and a context-extension
  // freq_scale: each parameter changes every rotated pair's angle.
  b.add("normal_base1e6_nrot48_of_64_freq_scale_0.125", {act("x", dt, {64, 2, 4}), pos(4)},
        iparams({48, TSR_ROPE_NORMAL}, {1000000.0f, 0.125f}));
  b.add("neox_base500_freq_scale_4", {act("x", dt, {32, 2, 4}), pos(4)},
        iparams({32, TSR_ROPE_NEOX}, {500.0f, 4.0f}));
  {
    // Llama 3's rope_freqs: per-pair factors dividing the angles (values
    // 2..~6 here, as its long-wavelength pairs have), base 5e5.
    auto factors = [](int64_t n) {
      Operand f = weight("freq_factors", TSR_DTYPE_F32, {n}, 2.0f);
      f.fill = Fill::kPositive;
      return f;
    };
    b.add("normal_freq_factors_64x4x5", {act("x", dt, {64, 4, 5}), pos(5), factors(32)},
          iparams({64, TSR_ROPE_NORMAL}, {500000.0f}));
    b.add("neox_freq_factors_partial_nrot32_of_80", {act("x", dt, {80, 3, 4}), pos(4), factors(16)},
          iparams({32, TSR_ROPE_NEOX}, {base, 0.5f}));
  }
  {
    // q as a view of a fused qkv projection [3 * 4 * 64, 5]: head stride 64,
    // token stride 768, starting after the q part (this is "k").
    Operand x = act("x", dt, {768, 5});
    x.views.push_back(strided(dt, {64, 4, 5}, {64, 768}, 256));
    b.add("neox_view_of_fused_qkv", {x, pos(5)}, iparams({64, TSR_ROPE_NEOX}, {base}));
  }
}

void softmax_cases(std::vector<Case>& out, int32_t dt) {
  Builder b{out, TSR_OP_SOFTMAX, dt};
  const tsr_op_params none = iparams({}, {0.0f});
  const tsr_op_params scaled = iparams({}, {0.125f});
  for (const Magnitude& mag : kMagnitudes)
    b.add(fmt::format("plain_75x6x2_{}", mag.name), {act("x", dt, {75, 6, 2}, mag.scale)}, none);
  b.add("scale_0.125", {act("x", dt, {75, 6, 2}, 4.0f)}, scaled);
  Operand causal = act("mask", TSR_DTYPE_F32, {75, 8});  // 8 mask rows >= 6: only the first 6 are read
  causal.fill = Fill::kCausalMask;
  b.add("mask_f32_causal_scale", {act("x", dt, {75, 6, 2}), causal}, scaled);
  b.add("mask_f32_random_no_scale", {act("x", dt, {75, 6}), act("mask", TSR_DTYPE_F32, {75, 6})}, none);
  Operand causal16 = act("mask", TSR_DTYPE_F16, {75, 6});
  causal16.fill = Fill::kCausalMask;
  b.add("mask_f16_causal_scale", {act("x", dt, {75, 6, 3}), causal16}, scaled);
  b.add("size1_row_1x5", {act("x", dt, {1, 5})}, none);
  {
    Operand x = act("x", dt, {6, 75});
    x.views.push_back(permute(1, 0));
    b.add("transposed_75x6", {x}, none);
  }
}

}  // namespace

std::vector<Case> norm_cases() {
  std::vector<Case> cases;
  for (int32_t op : {TSR_OP_RMS_NORM, TSR_OP_LAYER_NORM})
    for (int32_t dt : kFloatTypes) norm_family_cases(cases, op, dt);
  for (int32_t dt : kFloatTypes) rope_cases(cases, dt);
  for (int32_t dt : kFloatTypes) softmax_cases(cases, dt);
  return cases;
}

}  // namespace tsr::conformance
