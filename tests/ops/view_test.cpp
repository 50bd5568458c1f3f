// The reference of view ops materialises the viewed memory into out.
#include <gtest/gtest.h>

#include "tests/ops/op_test_util.h"

namespace tsr::ops::test {
namespace {

TEST(ViewRef, view_with_offset_reads_the_sub_block) {
  // x [4, 3]: element (i0, i1) = 10 * i1 + i0
  const HostTensor x = make_f32({4, 3}, {0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23});
  // rows 1..2, elements 1..2: ne [2, 2], nb1 = 16, offset 16 + 4
  const std::vector<float> got = run_floats(TSR_OP_VIEW, {&x}, params({2, 2, 0, 0, 16, 0, 0, 20}));
  EXPECT_EQ(got, (std::vector<float>{11, 12, 21, 22}));
}

TEST(ViewRef, permute_materialises_the_transpose) {
  const HostTensor x = make_f32({3, 2}, {1, 2, 3, 4, 5, 6});  // rows [1 2 3], [4 5 6]
  const std::vector<float> got = run_floats(TSR_OP_PERMUTE, {&x}, params({1, 0, 2, 3}));
  EXPECT_EQ(got, (std::vector<float>{1, 4, 2, 5, 3, 6}));
}

TEST(ViewRef, reshape_keeps_the_bytes_in_order) {
  const HostTensor x = make_tensor(TSR_DTYPE_F16, {2, 3}, {1, 2, 3, 4, 5, 6});
  Result<HostTensor> r = run_op(TSR_OP_RESHAPE, {&x}, params({3, 2}));
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(shape_str(r.value().desc), "[3, 2]");
  EXPECT_EQ(r.value().bytes, x.bytes);
}

TEST(ViewRef, reference_into_the_aliased_memory_is_a_no_op) {
  HostTensor x = make_f32({4, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
  const tsr_op_params p = params({2, 2, 0, 0, 16, 0, 0, 8});
  int64_t offset = 0;
  Result<TensorDesc> d = infer(TSR_OP_VIEW, &x.desc, 1, p, &offset);
  ASSERT_TRUE(d.is_ok());
  const void* in[] = {x.data()};
  const std::vector<uint8_t> before = x.bytes;
  ASSERT_TRUE(reference(TSR_OP_VIEW, &x.desc, in, 1, d.value(), x.bytes.data() + offset, p, nullptr).is_ok());
  EXPECT_EQ(x.bytes, before);
}

TEST(ViewRef, reference_rejects_an_output_of_the_wrong_shape) {
  const HostTensor x = make_f32({4, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
  const TensorDesc wrong = desc_of(TSR_DTYPE_F32, {4, 3});
  std::vector<float> out(12);
  const void* in[] = {x.data()};
  const Status s = reference(TSR_OP_SILU, &x.desc, in, 1, wrong, out.data(), params(), nullptr);
  EXPECT_EQ(s.message(), "[silu] output is f32 [4, 3], expected f32 [4, 2]");
}

// Strides of 0 let a few bytes span any number of elements: the view is
// refused when its shape is one no tensor can have (an element count past
// int64 overflowed wherever its size was taken; found by fuzz_graph_api),
// and kept when it is an ordinary broadcast.
TEST(ViewRef, zero_stride_view_with_an_impossible_shape_is_refused) {
  const HostTensor x = make_f32({4, 4}, std::vector<float>(16, 1.0f));
  int64_t offset = 0;
  Result<TensorDesc> d =
      infer(TSR_OP_VIEW, &x.desc, 1, params({4, 4, int64_t{1} << 61, 6, 0, 0, 0, 0}), &offset);
  ASSERT_FALSE(d.is_ok());
  EXPECT_NE(d.status().message().find("[view]"), std::string::npos) << d.status().message();
  d = infer(TSR_OP_VIEW, &x.desc, 1, params({4, 3, 0, 0, 0, 0, 0, 0}), &offset);  // row 0, three times
  ASSERT_TRUE(d.is_ok()) << d.status().message();
  EXPECT_EQ(shape_str(d.value()), "[4, 3]");
}

TEST(ViewRef, unused_shape_params_may_be_zero_or_one) {
  const HostTensor x = make_f32({6}, {1, 2, 3, 4, 5, 6});
  for (const tsr_op_params& p : {params({3, 2}), params({3, 2, 1, 1}), params({3, 2, 0, 0})}) {
    Result<HostTensor> r = run_op(TSR_OP_RESHAPE, {&x}, p);
    ASSERT_TRUE(r.is_ok()) << r.status().message();
    EXPECT_EQ(r.value().desc.rank, 2);
    EXPECT_EQ(shape_str(r.value().desc), "[3, 2]");
  }
}

}  // namespace
}  // namespace tsr::ops::test
