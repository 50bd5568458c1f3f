#include <gtest/gtest.h>

#include <cmath>

#include "tests/ops/op_test_util.h"

namespace tsr::ops::test {
namespace {

TEST(Norm, rms_norm_of_3_4_divides_by_root_mean_square) {
  const HostTensor x = make_f32({2}, {3, 4});
  const float rms = std::sqrt(12.5f);  // mean(9, 16)
  EXPECT_FLOATS_NEAR((std::vector<float>{3 / rms, 4 / rms}),
                     run_floats(TSR_OP_RMS_NORM, {&x}, params({}, {0.0f})), 1e-6);
}

TEST(Norm, rms_norm_eps_enters_under_the_root) {
  const HostTensor x = make_f32({2}, {1, 1});
  EXPECT_FLOATS_NEAR((std::vector<float>{1 / std::sqrt(4.0f), 1 / std::sqrt(4.0f)}),
                     run_floats(TSR_OP_RMS_NORM, {&x}, params({}, {3.0f})), 1e-6);
}

TEST(Norm, rms_norm_normalises_each_row_separately) {
  const HostTensor x = make_f32({2, 2}, {3, 4, 0, 2});
  const float r0 = std::sqrt(12.5f), r1 = std::sqrt(2.0f);
  EXPECT_FLOATS_NEAR((std::vector<float>{3 / r0, 4 / r0, 0, 2 / r1}), run_floats(TSR_OP_RMS_NORM, {&x}),
                     1e-6);
}

TEST(Norm, layer_norm_centres_and_scales_to_unit_variance) {
  const HostTensor x = make_f32({3}, {1, 2, 3});  // mean 2, var 2/3
  const float s = 1 / std::sqrt(2.0f / 3.0f);
  EXPECT_FLOATS_NEAR((std::vector<float>{-s, 0, s}), run_floats(TSR_OP_LAYER_NORM, {&x}), 1e-6);
}

TEST(Norm, f16_input_gives_f16_output) {
  const HostTensor x = make_tensor(TSR_DTYPE_F16, {2}, {3, 4});
  Result<HostTensor> r = run_op(TSR_OP_RMS_NORM, {&x});
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r.value().desc.dtype, TSR_DTYPE_F16);
  EXPECT_FLOATS_NEAR((std::vector<float>{0.8485281f, 1.1313708f}), to_floats(r.value()), 1e-3);
}

}  // namespace
}  // namespace tsr::ops::test
