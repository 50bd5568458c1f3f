#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "tests/ops/op_test_util.h"

namespace tsr::ops::test {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

TEST(Softmax, of_0_and_ln2_is_one_third_two_thirds) {
  const HostTensor x = make_f32({2}, {0.0f, std::log(2.0f)});
  EXPECT_FLOATS_NEAR((std::vector<float>{1.0f / 3, 2.0f / 3}), run_floats(TSR_OP_SOFTMAX, {&x}), 1e-6);
}

TEST(Softmax, is_shift_invariant_for_large_inputs) {
  const HostTensor x = make_f32({2}, {1000.0f, 1000.0f + std::log(2.0f)});
  EXPECT_FLOATS_NEAR((std::vector<float>{1.0f / 3, 2.0f / 3}), run_floats(TSR_OP_SOFTMAX, {&x}), 1e-4);
}

TEST(Softmax, scale_multiplies_before_exp) {
  const HostTensor x = make_f32({2}, {0.0f, std::log(2.0f) / 2});
  EXPECT_FLOATS_NEAR((std::vector<float>{1.0f / 3, 2.0f / 3}),
                     run_floats(TSR_OP_SOFTMAX, {&x}, params({}, {2.0f})), 1e-6);
}

TEST(Softmax, mask_rows_apply_per_row_and_minus_inf_masks_out) {
  const HostTensor x = make_f32({3, 2}, {0, 0, 0, 0, 0, 0});
  // mask has 3 rows; only the first 2 are read. Row 0 sees 1 entry, row 1 sees 2.
  const HostTensor mask = make_tensor(TSR_DTYPE_F16, {3, 3}, {0, -kInf, -kInf, 0, 0, -kInf, 5, 5, 5});
  EXPECT_FLOATS_NEAR((std::vector<float>{1, 0, 0, 0.5f, 0.5f, 0}), run_floats(TSR_OP_SOFTMAX, {&x, &mask}),
                     1e-6);
}

TEST(Softmax, additive_mask_shifts_probabilities) {
  const HostTensor x = make_f32({2}, {0, 0});
  const HostTensor mask = make_f32({2, 1}, {0, std::log(2.0f)});
  EXPECT_FLOATS_NEAR((std::vector<float>{1.0f / 3, 2.0f / 3}), run_floats(TSR_OP_SOFTMAX, {&x, &mask}), 1e-6);
}

TEST(Softmax, fully_masked_row_gives_zeros_not_nan) {
  const HostTensor x = make_f32({2}, {1, 2});
  const HostTensor mask = make_f32({2}, {-kInf, -kInf});
  EXPECT_EQ(run_floats(TSR_OP_SOFTMAX, {&x, &mask}), (std::vector<float>{0, 0}));
}

}  // namespace
}  // namespace tsr::ops::test
