#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "tests/ops/op_test_util.h"

namespace tsr::ops::test {
namespace {

using ::testing::HasSubstr;

tsr_step_params step_of(const std::vector<int64_t>& values) {
  return tsr_step_params{sizeof(tsr_step_params), static_cast<int32_t>(values.size()), values.data()};
}

TEST(Attention, one_kv_row_returns_that_v_row) {
  const HostTensor q = make_f32({2, 1, 1}, {0.3f, -2});
  const HostTensor k = make_f32({2, 1, 1}, {5, 1});
  const HostTensor v = make_f32({2, 1, 1}, {3, 4});
  EXPECT_EQ(run_floats(TSR_OP_ATTENTION, {&q, &k, &v}, params({0, -1})), (std::vector<float>{3, 4}));
}

TEST(Attention, scores_are_scaled_dot_products_softmaxed_over_kv) {
  const HostTensor q = make_f32({2, 1, 1}, {1, 0});
  const HostTensor k = make_f32({2, 1, 2}, {0, 0, std::log(2.0f), 0});  // scores 0, ln2
  const HostTensor v = make_f32({2, 1, 2}, {1, 0, 0, 1});
  EXPECT_FLOATS_NEAR((std::vector<float>{1.0f / 3, 2.0f / 3}),
                     run_floats(TSR_OP_ATTENTION, {&q, &k, &v}, params({0, -1}, {1.0f})), 1e-6);
}

TEST(Attention, default_scale_is_one_over_sqrt_head_dim) {
  const HostTensor q = make_f32({4, 1, 1}, {2, 0, 0, 0});
  const HostTensor k = make_f32({4, 1, 2}, {0, 0, 0, 0, std::log(2.0f), 0, 0, 0});  // 2 ln2 / sqrt(4) = ln2
  const HostTensor v = make_f32({4, 1, 2}, {3, 0, 0, 0, 0, 3, 0, 0});
  EXPECT_FLOATS_NEAR((std::vector<float>{1, 2, 0, 0}),
                     run_floats(TSR_OP_ATTENTION, {&q, &k, &v}, params({0, -1})), 1e-5);
}

TEST(Attention, causal_query_at_pos_0_sees_only_kv_row_0) {
  const HostTensor q = make_f32({2, 1, 2}, {1, 1, 1, 1});
  const HostTensor k = make_tensor(TSR_DTYPE_F16, {2, 1, 2}, {0, 0, 0, 0});  // equal scores
  const HostTensor v = make_tensor(TSR_DTYPE_F16, {2, 1, 2}, {1, 0, 0, 1});
  const HostTensor pos = make_i32({2}, {0, 1});
  // token 0 sees row 0 only; token 1 averages rows 0 and 1
  EXPECT_FLOATS_NEAR((std::vector<float>{1, 0, 0.5f, 0.5f}),
                     run_floats(TSR_OP_ATTENTION, {&q, &k, &v, &pos}, params({1, -1})), 1e-6);
  // without the causal flag both tokens average both rows
  EXPECT_FLOATS_NEAR((std::vector<float>{0.5f, 0.5f, 0.5f, 0.5f}),
                     run_floats(TSR_OP_ATTENTION, {&q, &k, &v, &pos}, params({0, -1})), 1e-6);
}

TEST(Attention, grouped_query_heads_read_kv_head_h_over_group) {
  // 4 query heads, 2 kv heads, one kv row: heads 0,1 -> kv head 0, heads 2,3 -> kv head 1.
  const HostTensor q = make_f32({2, 4, 1}, {1, 0, 0, 1, 1, 1, 0, 0});
  const HostTensor k = make_f32({2, 2, 1}, {1, 1, 1, 1});
  const HostTensor v = make_f32({2, 2, 1}, {1, 1, 2, 2});
  EXPECT_EQ(run_floats(TSR_OP_ATTENTION, {&q, &k, &v}, params({0, -1})),
            (std::vector<float>{1, 1, 1, 1, 2, 2, 2, 2}));
}

TEST(Attention, kv_length_comes_from_the_step_parameter) {
  const HostTensor q = make_f32({1, 1, 1}, {1});
  const HostTensor k = make_f32({1, 1, 3}, {0, 0, 0});
  const HostTensor v = make_f32({1, 1, 3}, {1, 2, 100});
  const std::vector<int64_t> values = {7, 2};
  const tsr_step_params step = step_of(values);
  EXPECT_FLOATS_NEAR((std::vector<float>{1.5f}),
                     run_floats(TSR_OP_ATTENTION, {&q, &k, &v}, params({0, 1}), &step), 1e-6);
}

TEST(Attention, kv_cache_view_is_read_through_its_strides) {
  // Cache [D=1, 1 head, 4 rows]; attend over a view of its first 2 rows.
  const HostTensor cache = make_f32({1, 1, 4}, {1, 3, 50, 70});
  TensorDesc view = cache.desc;
  view.ne[2] = 2;
  const HostTensor kv = with_desc(cache, view);
  const HostTensor q = make_f32({1, 1, 1}, {0});
  EXPECT_FLOATS_NEAR((std::vector<float>{2}), run_floats(TSR_OP_ATTENTION, {&q, &kv, &kv}, params({0, -1})),
                     1e-6);
}

TEST(Attention, bad_step_index_or_kv_length_is_a_runtime_error) {
  const HostTensor q = make_f32({1, 1, 1}, {1});
  const HostTensor k = make_f32({1, 1, 3}, {0, 0, 0});
  const std::vector<int64_t> values = {0, 4};
  const tsr_step_params step = step_of(values);
  Result<HostTensor> r = run_op(TSR_OP_ATTENTION, {&q, &k, &k}, params({0, 2}), &step);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().message(), "[attention] kv length step parameter 2 is missing: the step has 2 values");
  r = run_op(TSR_OP_ATTENTION, {&q, &k, &k}, params({0, 0}), nullptr);
  ASSERT_FALSE(r.is_ok());
  EXPECT_THAT(r.status().message(), HasSubstr("the step has 0 values"));
  for (int64_t idx : {0, 1}) {  // kv length 0 and 4, outside [1, 3]
    r = run_op(TSR_OP_ATTENTION, {&q, &k, &k}, params({0, idx}), &step);
    ASSERT_FALSE(r.is_ok());
    EXPECT_THAT(r.status().message(), HasSubstr("[attention] kv length"));
    EXPECT_THAT(r.status().message(), HasSubstr("outside [1, 3]"));
  }
}

TEST(Attention, negative_position_is_a_runtime_error) {
  const HostTensor q = make_f32({1, 1, 1}, {1});
  const HostTensor k = make_f32({1, 1, 2}, {0, 0});
  const HostTensor pos = make_i32({1}, {-1});
  Result<HostTensor> r = run_op(TSR_OP_ATTENTION, {&q, &k, &k, &pos}, params({1, -1}));
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().message(), "[attention] pos[0] = -1 is negative");
}

TEST(Attention, sliding_window_w_sees_the_last_w_positions_only) {
  // Equal scores, v row j = [j, 1]: the output is the mean of the visible j.
  const HostTensor q = make_f32({2, 1, 2}, {1, 1, 1, 1});
  const HostTensor k = make_f32({2, 1, 6}, std::vector<float>(12, 0.0f));
  const HostTensor v = make_f32({2, 1, 6}, {0, 1, 1, 1, 2, 1, 3, 1, 4, 1, 5, 1});
  const HostTensor pos = make_i32({2}, {1, 5});
  // window 3: position 1 sees rows 0..1 (mean 0.5), position 5 rows 3..5 (mean 4)
  EXPECT_FLOATS_NEAR((std::vector<float>{0.5f, 1, 4, 1}),
                     run_floats(TSR_OP_ATTENTION, {&q, &k, &v, &pos}, params({1, -1, 3})), 1e-6);
  // window 1: each position sees its own row
  EXPECT_FLOATS_NEAR((std::vector<float>{1, 1, 5, 1}),
                     run_floats(TSR_OP_ATTENTION, {&q, &k, &v, &pos}, params({1, -1, 1})), 1e-6);
}

}  // namespace
}  // namespace tsr::ops::test
