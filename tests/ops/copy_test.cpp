#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "tests/ops/op_test_util.h"

namespace tsr::ops::test {
namespace {

// 4 blocks of 32 with very different magnitudes and signs.
std::vector<float> test_signal() {
  std::vector<float> v(128);
  const float mag[4] = {1.0f, 0.01f, 300.0f, 7.5f};
  for (int i = 0; i < 128; ++i) v[i] = mag[i / 32] * std::sin(0.7f * i + 0.3f) + (i / 32 == 3 ? 4.0f : 0.0f);
  return v;
}

std::vector<float> round_trip(int32_t dt, const std::vector<float>& v) {
  const HostTensor x = make_f32({static_cast<int64_t>(v.size())}, v);
  Result<HostTensor> q = run_op(TSR_OP_CPY, {&x}, params({dt}));
  EXPECT_TRUE(q.is_ok()) << q.status().message();
  EXPECT_EQ(q.value().desc.dtype, dt);
  return run_floats(TSR_OP_CPY, {&q.value()}, params({TSR_DTYPE_F32}));
}

TEST(Cpy, q8_0_round_trip_error_is_within_one_step_per_block) {
  const std::vector<float> v = test_signal(), back = round_trip(TSR_DTYPE_Q8_0, v);
  ASSERT_EQ(back.size(), v.size());
  for (int b = 0; b < 4; ++b) {
    float amax = 0;
    for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(v[b * 32 + j]));
    for (int j = 0; j < 32; ++j)
      EXPECT_NEAR(back[b * 32 + j], v[b * 32 + j], 0.6f * amax / 127) << b << "," << j;
  }
}

TEST(Cpy, q4_0_round_trip_error_is_within_one_step_per_block) {
  const std::vector<float> v = test_signal(), back = round_trip(TSR_DTYPE_Q4_0, v);
  ASSERT_EQ(back.size(), v.size());
  for (int b = 0; b < 4; ++b) {
    float amax = 0;
    for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(v[b * 32 + j]));
    for (int j = 0; j < 32; ++j)
      EXPECT_NEAR(back[b * 32 + j], v[b * 32 + j], 1.01f * amax / 8) << b << "," << j;
  }
}

TEST(Cpy, q4_1_round_trip_error_is_within_one_step_per_block) {
  const std::vector<float> v = test_signal(), back = round_trip(TSR_DTYPE_Q4_1, v);
  ASSERT_EQ(back.size(), v.size());
  for (int b = 0; b < 4; ++b) {
    const auto [lo, hi] = std::minmax_element(v.begin() + b * 32, v.begin() + b * 32 + 32);
    const float step = (*hi - *lo) / 15, f16_slack = 1e-3f * std::max(std::fabs(*lo), std::fabs(*hi));
    for (int j = 0; j < 32; ++j)
      EXPECT_NEAR(back[b * 32 + j], v[b * 32 + j], 0.6f * step + f16_slack) << b << "," << j;
  }
}

TEST(Cpy, same_block_dtype_copy_is_bit_exact) {
  const std::vector<float> v = test_signal();
  const HostTensor q = make_tensor(TSR_DTYPE_Q4_1, {128}, v);
  Result<HostTensor> r = run_op(TSR_OP_CPY, {&q}, params({TSR_DTYPE_Q4_1}));
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(r.value().bytes, q.bytes);
}

TEST(Cpy, casts_between_float_dtypes) {
  const HostTensor x = make_f32({3}, {1.5f, -0.25f, 1.0f / 3});
  Result<HostTensor> h = run_op(TSR_OP_CPY, {&x}, params({TSR_DTYPE_F16}));
  ASSERT_TRUE(h.is_ok());
  EXPECT_EQ(h.value().desc.dtype, TSR_DTYPE_F16);
  const std::vector<float> back = to_floats(h.value());
  EXPECT_EQ(back[0], 1.5f);
  EXPECT_EQ(back[1], -0.25f);
  EXPECT_NEAR(back[2], 1.0f / 3, 1e-3);
  EXPECT_NE(back[2], 1.0f / 3);  // really rounded to half
}

TEST(Cpy, makes_a_transposed_view_contiguous) {
  const HostTensor base = make_f32({3, 2}, {1, 2, 3, 4, 5, 6});
  TensorDesc t = base.desc;
  std::swap(t.ne[0], t.ne[1]);
  std::swap(t.nb[0], t.nb[1]);
  const HostTensor view = with_desc(base, t);
  EXPECT_EQ(run_floats(TSR_OP_CPY, {&view}, params({TSR_DTYPE_F32})), (std::vector<float>{1, 4, 2, 5, 3, 6}));
}

TEST(Concat, along_dim_0_and_dim_1) {
  const HostTensor a = make_f32({2, 2}, {1, 2, 3, 4});
  const HostTensor b = make_f32({1, 2}, {9, 8});
  EXPECT_EQ(run_floats(TSR_OP_CONCAT, {&a, &b}, params({0})), (std::vector<float>{1, 2, 9, 3, 4, 8}));
  const HostTensor c = make_f32({2, 1}, {7, 6});
  Result<HostTensor> r = run_op(TSR_OP_CONCAT, {&a, &c}, params({1}));
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(shape_str(r.value().desc), "[2, 3]");
  EXPECT_EQ(to_floats(r.value()), (std::vector<float>{1, 2, 3, 4, 7, 6}));
}

TEST(Concat, along_a_new_dim_raises_the_rank) {
  const HostTensor a = make_f32({2}, {1, 2});
  const HostTensor b = make_f32({2}, {3, 4});
  Result<HostTensor> r = run_op(TSR_OP_CONCAT, {&a, &b}, params({2}));
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(shape_str(r.value().desc), "[2, 1, 2]");
  EXPECT_EQ(to_floats(r.value()), (std::vector<float>{1, 2, 3, 4}));
}

TEST(Argmax, first_maximum_of_each_row_wins) {
  const HostTensor x = make_f32({4, 3}, {1, 3, 3, 2, -1, -5, -1, -9, 0, 0, 0, 7});
  Result<HostTensor> r = run_op(TSR_OP_ARGMAX, {&x});
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(desc_str(r.value().desc), "i32 [3]");
  EXPECT_EQ(to_i32(r.value()), (std::vector<int32_t>{1, 0, 3}));
}

}  // namespace
}  // namespace tsr::ops::test
