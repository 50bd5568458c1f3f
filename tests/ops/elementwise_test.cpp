#include <gtest/gtest.h>

#include <cmath>

#include "tests/ops/op_test_util.h"

namespace tsr::ops::test {
namespace {

TEST(Elementwise, add_sub_mul_div_of_equal_shapes) {
  const HostTensor a = make_f32({3}, {1, 2, 3});
  const HostTensor b = make_f32({3}, {4, 5, 8});
  EXPECT_EQ(run_floats(TSR_OP_ADD, {&a, &b}), (std::vector<float>{5, 7, 11}));
  EXPECT_EQ(run_floats(TSR_OP_SUB, {&a, &b}), (std::vector<float>{-3, -3, -5}));
  EXPECT_EQ(run_floats(TSR_OP_MUL, {&a, &b}), (std::vector<float>{4, 10, 24}));
  EXPECT_EQ(run_floats(TSR_OP_DIV, {&a, &b}), (std::vector<float>{0.25f, 0.4f, 0.375f}));
}

TEST(Elementwise, broadcasts_a_row_against_a_column_on_either_side) {
  const HostTensor row = make_f32({3, 1}, {1, 2, 3});  // [3, 1]
  const HostTensor col = make_f32({1, 2}, {10, 20});   // [1, 2]
  // out[i0, i1] = row[i0] + col[i1]
  EXPECT_EQ(run_floats(TSR_OP_ADD, {&row, &col}), (std::vector<float>{11, 12, 13, 21, 22, 23}));
  EXPECT_EQ(run_floats(TSR_OP_SUB, {&col, &row}), (std::vector<float>{9, 8, 7, 19, 18, 17}));
}

TEST(Elementwise, broadcasts_over_batch_dims) {
  const HostTensor x = make_f32({2, 1, 2}, {1, 2, 3, 4});
  const HostTensor w = make_f32({2}, {10, 100});  // per-channel weight, as after rms_norm
  EXPECT_EQ(run_floats(TSR_OP_MUL, {&x, &w}), (std::vector<float>{10, 200, 30, 400}));
}

TEST(Elementwise, output_keeps_the_dtype_of_a) {
  const HostTensor a = make_tensor(TSR_DTYPE_F16, {2}, {1.5f, -2.0f});
  const HostTensor b = make_tensor(TSR_DTYPE_BF16, {2}, {0.25f, 4.0f});
  Result<HostTensor> r = run_op(TSR_OP_ADD, {&a, &b});
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(r.value().desc.dtype, TSR_DTYPE_F16);
  EXPECT_EQ(to_floats(r.value()), (std::vector<float>{1.75f, 2.0f}));
}

TEST(Elementwise, strided_input_view_is_read_through_its_strides) {
  // Every other element of a [6] tensor: ne [3], nb0 = 8.
  const HostTensor base = make_f32({6}, {1, -1, 2, -1, 3, -1});
  TensorDesc d = base.desc;
  d.ne[0] = 3;
  d.nb[0] = 8;
  const HostTensor a = with_desc(base, d);
  const HostTensor b = make_f32({3}, {10, 20, 30});
  EXPECT_EQ(run_floats(TSR_OP_ADD, {&a, &b}), (std::vector<float>{11, 22, 33}));
}

TEST(Elementwise, scale_multiplies_then_adds) {
  const HostTensor x = make_f32({3}, {1, -2, 0.5f});
  EXPECT_EQ(run_floats(TSR_OP_SCALE, {&x}, params({}, {2.0f, 1.0f})), (std::vector<float>{3, -3, 2}));
}

TEST(Elementwise, silu_and_gelu_match_their_formulas_at_known_points) {
  const HostTensor x = make_f32({3}, {0.0f, 1.0f, -1.0f});
  // silu(1) = 1 / (1 + e^-1) = 0.7310586; silu(-1) = -0.2689414
  EXPECT_FLOATS_NEAR((std::vector<float>{0.0f, 0.7310586f, -0.2689414f}), run_floats(TSR_OP_SILU, {&x}),
                     1e-6);
  // gelu_tanh(1) = 0.5 * (1 + tanh(0.7978846 * 1.044715)) = 0.8411920
  EXPECT_FLOATS_NEAR((std::vector<float>{0.0f, 0.8411920f, -0.1588080f}), run_floats(TSR_OP_GELU, {&x}),
                     1e-6);
}

TEST(Elementwise, swiglu_is_silu_of_gate_times_up) {
  const HostTensor gate = make_f32({2}, {1.0f, 0.0f});
  const HostTensor up = make_f32({2}, {2.0f, 5.0f});
  EXPECT_FLOATS_NEAR((std::vector<float>{2 * 0.7310586f, 0.0f}), run_floats(TSR_OP_SWIGLU, {&gate, &up}),
                     1e-6);
}

TEST(Elementwise, geglu_is_gelu_of_gate_times_up_and_softcap_is_c_tanh_x_over_c) {
  const HostTensor gate = make_f32({2}, {1.0f, -1.0f});
  const HostTensor up = make_f32({2}, {2.0f, 3.0f});
  EXPECT_FLOATS_NEAR((std::vector<float>{2 * 0.8411920f, 3 * -0.1588080f}),
                     run_floats(TSR_OP_GEGLU, {&gate, &up}), 1e-6);
  // 30 tanh(x / 30): tanh(1) = 0.7615942, tanh(-2) = -0.9640276; tiny x passes almost unchanged.
  const HostTensor x = make_f32({3}, {30.0f, -60.0f, 1e-6f});
  EXPECT_FLOATS_NEAR((std::vector<float>{30 * 0.7615942f, 30 * -0.9640276f, 1e-6f}),
                     run_floats(TSR_OP_SOFTCAP, {&x}, params({}, {30.0f})), 1e-5);
}

}  // namespace
}  // namespace tsr::ops::test
