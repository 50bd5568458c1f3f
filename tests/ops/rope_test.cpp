#include <gtest/gtest.h>

#include <cmath>

#include "tests/ops/op_test_util.h"

namespace tsr::ops::test {
namespace {

TEST(Rope, rotates_1_0_by_pos_times_theta) {
  // head_dim 2, one head, 3 tokens at positions 0, 1, 5; theta_0 = pos.
  const HostTensor x = make_f32({2, 1, 3}, {1, 0, 1, 0, 1, 0});
  const HostTensor pos = make_i32({3}, {0, 1, 5});
  const std::vector<float> got =
      run_floats(TSR_OP_ROPE, {&x, &pos}, params({2, TSR_ROPE_NORMAL}, {10000.0f}));
  EXPECT_FLOATS_NEAR(
      (std::vector<float>{1, 0, std::cos(1.0f), std::sin(1.0f), std::cos(5.0f), std::sin(5.0f)}), got, 1e-6);
}

TEST(Rope, freq_scale_scales_the_angle) {
  const HostTensor x = make_f32({2, 1, 1}, {0, 1});
  const HostTensor pos = make_i32({1}, {4});
  // theta = 4 * 0.25 = 1; [0, 1] rotates to [-sin, cos]
  const std::vector<float> got = run_floats(TSR_OP_ROPE, {&x, &pos}, params({2, 0}, {10000.0f, 0.25f}));
  EXPECT_FLOATS_NEAR((std::vector<float>{-std::sin(1.0f), std::cos(1.0f)}), got, 1e-6);
}

TEST(Rope, normal_mode_pairs_adjacent_dims_and_neox_pairs_halves) {
  // head_dim 4, n_rot 4, base 100: theta_0 = pos, theta_1 = pos * 100^(-1/2) = pos / 10.
  const HostTensor x = make_f32({4, 1, 1}, {1, 2, 3, 4});
  const HostTensor pos = make_i32({1}, {1});
  const float c0 = std::cos(1.0f), s0 = std::sin(1.0f), c1 = std::cos(0.1f), s1 = std::sin(0.1f);
  // normal: pairs (0,1) by theta_0 and (2,3) by theta_1
  EXPECT_FLOATS_NEAR((std::vector<float>{1 * c0 - 2 * s0, 1 * s0 + 2 * c0, 3 * c1 - 4 * s1, 3 * s1 + 4 * c1}),
                     run_floats(TSR_OP_ROPE, {&x, &pos}, params({4, TSR_ROPE_NORMAL}, {100.0f})), 1e-6);
  // neox: pairs (0,2) by theta_0 and (1,3) by theta_1
  EXPECT_FLOATS_NEAR((std::vector<float>{1 * c0 - 3 * s0, 2 * c1 - 4 * s1, 1 * s0 + 3 * c0, 2 * s1 + 4 * c1}),
                     run_floats(TSR_OP_ROPE, {&x, &pos}, params({4, TSR_ROPE_NEOX}, {100.0f})), 1e-6);
}

TEST(Rope, dims_past_n_rot_pass_through_and_heads_share_the_position) {
  const HostTensor x = make_f32({4, 2, 1}, {1, 0, 7, 8, 0, 1, 9, 10});
  const HostTensor pos = make_i32({1}, {2});
  const float c = std::cos(2.0f), s = std::sin(2.0f);
  EXPECT_FLOATS_NEAR((std::vector<float>{c, s, 7, 8, -s, c, 9, 10}),
                     run_floats(TSR_OP_ROPE, {&x, &pos}, params({2, TSR_ROPE_NORMAL}, {10000.0f})), 1e-6);
}

TEST(Rope, freq_factors_divide_each_pairs_angle) {
  // n_rot 4, base 100: pair 0 turns pos * 1, pair 1 pos * 100^(-1/2) = pos / 10; factors 2 and 0.5
  // make them pos / 2 and pos / 5. pos 2: angles 1 and 0.4; each pair starts at [1, 0].
  const HostTensor x = make_f32({4, 1, 1}, {1, 0, 1, 0});
  const HostTensor pos = make_i32({1}, {2});
  const HostTensor ff = make_f32({2}, {2.0f, 0.5f});
  EXPECT_FLOATS_NEAR((std::vector<float>{std::cos(1.0f), std::sin(1.0f), std::cos(0.4f), std::sin(0.4f)}),
                     run_floats(TSR_OP_ROPE, {&x, &pos, &ff}, params({4, TSR_ROPE_NORMAL}, {100.0f})), 1e-6);
}

}  // namespace
}  // namespace tsr::ops::test
