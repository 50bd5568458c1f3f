#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>

#include "tessera/kit/quant.h"
#include "tests/ops/op_test_util.h"

namespace tsr::ops::test {
namespace {

using ::testing::HasSubstr;

std::vector<float> ramp(int64_t n, float scale) {
  std::vector<float> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = scale * static_cast<float>((i * 29 % 31) - 15);
  return v;
}

// Runs set_rows in place (out is dst's memory), as core does.
Status set_rows_in_place(HostTensor& dst, const HostTensor& src, const HostTensor& idx) {
  const TensorDesc in[] = {dst.desc, src.desc, idx.desc};
  const void* ptr[] = {dst.data(), src.data(), idx.data()};
  return reference(TSR_OP_SET_ROWS, in, ptr, 3, dst.desc, dst.data(), params(), nullptr);
}

TEST(GetRows, picks_table_rows_by_id_in_order) {
  const HostTensor table = make_f32({2, 3}, {0, 1, 10, 11, 20, 21});
  const HostTensor ids = make_i32({3}, {2, 0, 2});
  EXPECT_EQ(run_floats(TSR_OP_GET_ROWS, {&table, &ids}), (std::vector<float>{20, 21, 0, 1, 20, 21}));
}

TEST(GetRows, two_dim_ids_give_a_three_dim_output) {
  const HostTensor table = make_tensor(TSR_DTYPE_F16, {1, 4}, {5, 6, 7, 8});
  const HostTensor ids = make_i32({2, 2}, {3, 2, 1, 0});
  Result<HostTensor> r = run_op(TSR_OP_GET_ROWS, {&table, &ids});
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(desc_str(r.value().desc), "f32 [1, 2, 2]");
  EXPECT_EQ(to_floats(r.value()), (std::vector<float>{8, 7, 6, 5}));
}

TEST(GetRows, block_format_rows_are_dequantized) {
  const std::vector<float> v = ramp(64 * 3, 0.1f);
  for (int32_t dt : {TSR_DTYPE_Q8_0, TSR_DTYPE_Q4_0, TSR_DTYPE_Q4_1}) {
    SCOPED_TRACE(dtype_name(dt));
    const HostTensor table = make_tensor(dt, {64, 3}, v);
    const HostTensor ids = make_i32({1}, {1});
    const int64_t row_bytes = dtype_row_bytes(dt, 64);
    std::vector<float> want(64);
    const void* row = table.bytes.data() + row_bytes;
    if (dt == TSR_DTYPE_Q8_0) dequantize_q8_0(row, want.data(), 64);
    if (dt == TSR_DTYPE_Q4_0) dequantize_q4_0(row, want.data(), 64);
    if (dt == TSR_DTYPE_Q4_1) dequantize_q4_1(row, want.data(), 64);
    EXPECT_EQ(run_floats(TSR_OP_GET_ROWS, {&table, &ids}), want);
  }
}

TEST(GetRows, id_outside_the_table_is_an_error_naming_id_and_range) {
  const HostTensor table = make_f32({2, 3}, {0, 1, 10, 11, 20, 21});
  for (int32_t bad : {3, -1}) {
    const HostTensor ids = make_i32({2}, {0, bad});
    Result<HostTensor> r = run_op(TSR_OP_GET_ROWS, {&table, &ids});
    ASSERT_FALSE(r.is_ok());
    EXPECT_THAT(r.status().message(), HasSubstr("[get_rows] id " + std::to_string(bad)));
    EXPECT_THAT(r.status().message(), HasSubstr("outside [0, 3)"));
  }
}

TEST(SetRows, writes_src_rows_at_the_indexed_dst_rows_only) {
  HostTensor dst = make_f32({2, 4}, {0, 0, 1, 1, 2, 2, 3, 3});
  const HostTensor src = make_f32({2, 2}, {10, 11, 20, 21});
  const HostTensor idx = make_i32({2}, {3, 1});
  ASSERT_TRUE(set_rows_in_place(dst, src, idx).is_ok());
  EXPECT_EQ(to_floats(dst), (std::vector<float>{0, 0, 20, 21, 2, 2, 10, 11}));
}

TEST(SetRows, into_a_separate_output_copies_dst_then_writes) {
  const HostTensor dst = make_tensor(TSR_DTYPE_F16, {1, 3}, {1, 2, 3});
  const HostTensor src = make_f32({1, 1}, {9});
  const HostTensor idx = make_i32({1}, {0});
  Result<HostTensor> r = run_op(TSR_OP_SET_ROWS, {&dst, &src, &idx});
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(to_floats(r.value()), (std::vector<float>{9, 2, 3}));
  EXPECT_EQ(to_floats(dst), (std::vector<float>{1, 2, 3}));
}

TEST(SetRows, into_a_q8_0_cache_quantizes_the_row) {
  const std::vector<float> row = ramp(32, 0.25f);
  HostTensor dst = make_tensor(TSR_DTYPE_Q8_0, {32, 2}, std::vector<float>(64, 1.0f));
  const std::vector<uint8_t> untouched(dst.bytes.begin(), dst.bytes.begin() + sizeof(BlockQ8_0));
  const HostTensor src = make_f32({32, 1}, row);
  const HostTensor idx = make_i32({1}, {1});
  ASSERT_TRUE(set_rows_in_place(dst, src, idx).is_ok());
  BlockQ8_0 want;
  quantize_q8_0(row.data(), &want, 32);
  EXPECT_EQ(std::memcmp(dst.bytes.data() + sizeof(BlockQ8_0), &want, sizeof want), 0);
  EXPECT_TRUE(std::equal(untouched.begin(), untouched.end(), dst.bytes.begin()));
}

TEST(SetRows, bad_index_is_an_error_and_leaves_dst_unchanged) {
  HostTensor dst = make_f32({1, 2}, {5, 6});
  const HostTensor src = make_f32({1, 2}, {7, 8});
  const HostTensor idx = make_i32({2}, {0, 2});
  const Status s = set_rows_in_place(dst, src, idx);
  EXPECT_EQ(s.message(), "[set_rows] idx 2 for src row 1 outside [0, 2) of dst f32 [1, 2]");
  EXPECT_EQ(to_floats(dst), (std::vector<float>{5, 6}));
}

}  // namespace
}  // namespace tsr::ops::test
