// Shape/dtype inference: the output each op promises, and the messages it
// gives when the inputs are wrong.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/ops/op_test_util.h"

namespace tsr::ops::test {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

TensorDesc infer_ok(int32_t op, const std::vector<TensorDesc>& descs, const tsr_op_params& p = params(),
                    int64_t* offset = nullptr) {
  int64_t off = -1;
  Result<TensorDesc> r = infer(op, descs.data(), static_cast<int>(descs.size()), p, &off);
  EXPECT_TRUE(r.is_ok()) << r.status().message();
  if (offset) *offset = off;
  return r.is_ok() ? r.value() : TensorDesc{};
}

TEST(Infer, matmul_output_is_f32_m_by_n_with_the_larger_rank) {
  const TensorDesc d =
      infer_ok(TSR_OP_MATMUL, {desc_of(TSR_DTYPE_Q4_0, {64, 5}), desc_of(TSR_DTYPE_F16, {64, 3, 2})});
  EXPECT_EQ(d.dtype, TSR_DTYPE_F32);
  EXPECT_EQ(d.rank, 3);
  EXPECT_EQ(shape_str(d), "[5, 3, 2]");
  EXPECT_TRUE(is_contiguous(d));
}

TEST(Infer, matmul_rejects_mismatched_inner_dims_naming_both_shapes) {
  const std::string msg =
      infer_error(TSR_OP_MATMUL, {desc_of(TSR_DTYPE_F32, {4, 576}), desc_of(TSR_DTYPE_F32, {577, 1})});
  EXPECT_EQ(msg, "[matmul] inner dims differ: w is [4, 576], x is [577, 1]");
}

TEST(Infer, matmul_rejects_batches_w_cannot_broadcast_over) {
  const std::string msg =
      infer_error(TSR_OP_MATMUL, {desc_of(TSR_DTYPE_F32, {8, 4, 3}), desc_of(TSR_DTYPE_F32, {8, 2, 4})});
  EXPECT_THAT(msg, StartsWith("[matmul]"));
  EXPECT_THAT(msg, HasSubstr("[8, 4, 3]"));
  EXPECT_THAT(msg, HasSubstr("[8, 2, 4]"));
}

TEST(Infer, wrong_input_count_names_op_and_counts) {
  const TensorDesc x = desc_of(TSR_DTYPE_F32, {4});
  EXPECT_EQ(infer_error(TSR_OP_MATMUL, {x}), "[matmul] expects 2 inputs, got 1");
  EXPECT_EQ(infer_error(TSR_OP_SOFTMAX, {x, x, x}), "[softmax] expects 1 to 2 inputs, got 3");
  EXPECT_EQ(infer_error(TSR_OP_SILU, {}), "[silu] expects 1 inputs, got 0");
}

TEST(Infer, bad_dtype_names_op_input_and_dtype) {
  const std::string msg = infer_error(TSR_OP_ADD, {desc_of(TSR_DTYPE_I32, {4}), desc_of(TSR_DTYPE_F32, {4})});
  EXPECT_THAT(msg, StartsWith("[add] a must be f32, f16 or bf16"));
  EXPECT_THAT(msg, HasSubstr("i32 [4]"));
  EXPECT_THAT(infer_error(TSR_OP_MATMUL, {desc_of(TSR_DTYPE_F32, {32, 2}), desc_of(TSR_DTYPE_Q8_0, {32, 2})}),
              StartsWith("[matmul] x must be f32, f16 or bf16, got q8_0 [32, 2]"));
  EXPECT_THAT(infer_error(TSR_OP_GET_ROWS, {desc_of(TSR_DTYPE_F32, {4, 3}), desc_of(TSR_DTYPE_F32, {2})}),
              StartsWith("[get_rows] ids must be i32"));
}

TEST(Infer, malformed_descriptors_are_rejected_not_trusted) {
  TensorDesc bad = desc_of(TSR_DTYPE_F32, {4, 2});
  bad.dtype = 9;  // q8_1 in GGUF, not a Tessera dtype
  EXPECT_THAT(infer_error(TSR_OP_SILU, {bad}), StartsWith("[silu] input 0 has unknown dtype id 9"));
  TensorDesc q = desc_of(TSR_DTYPE_Q8_0, {64, 2});
  q.nb[0] = 68;
  EXPECT_THAT(infer_error(TSR_OP_MATMUL, {q, desc_of(TSR_DTYPE_F32, {64, 1})}),
              HasSubstr("contiguous dim 0"));
  TensorDesc huge = desc_of(TSR_DTYPE_F32, {4, 2});
  huge.ne[1] = int64_t{1} << 62;
  huge.nb[1] = 16;
  EXPECT_THAT(infer_error(TSR_OP_SILU, {huge}), HasSubstr("too large"));
  EXPECT_THAT(infer(-1, nullptr, 0, params(), nullptr).status().message(), HasSubstr("unknown op id -1"));
}

TEST(Infer, binary_broadcast_takes_the_larger_dim_and_rejects_incompatible) {
  const TensorDesc d =
      infer_ok(TSR_OP_MUL, {desc_of(TSR_DTYPE_F16, {4, 1, 3}), desc_of(TSR_DTYPE_F32, {1, 5})});
  EXPECT_EQ(d.dtype, TSR_DTYPE_F16);
  EXPECT_EQ(shape_str(d), "[4, 5, 3]");
  const std::string msg =
      infer_error(TSR_OP_ADD, {desc_of(TSR_DTYPE_F32, {4, 3}), desc_of(TSR_DTYPE_F32, {4, 2})});
  EXPECT_EQ(msg, "[add] cannot broadcast a [4, 3] with b [4, 2]: dim 1 is 3 vs 2");
}

TEST(Infer, get_rows_and_argmax_ranks) {
  const TensorDesc g =
      infer_ok(TSR_OP_GET_ROWS, {desc_of(TSR_DTYPE_Q4_1, {64, 10}), desc_of(TSR_DTYPE_I32, {3, 2})});
  EXPECT_EQ(g.dtype, TSR_DTYPE_F32);
  EXPECT_EQ(shape_str(g), "[64, 3, 2]");
  const TensorDesc a = infer_ok(TSR_OP_ARGMAX, {desc_of(TSR_DTYPE_F32, {10, 3})});
  EXPECT_EQ(a.dtype, TSR_DTYPE_I32);
  EXPECT_EQ(shape_str(a), "[3]");
  EXPECT_EQ(shape_str(infer_ok(TSR_OP_ARGMAX, {desc_of(TSR_DTYPE_F32, {10})})), "[1]");
}

TEST(Infer, set_rows_output_is_dst_itself) {
  TensorDesc dst = desc_of(TSR_DTYPE_Q8_0, {64, 16, 2});
  int64_t offset = -1;
  const TensorDesc d =
      infer_ok(TSR_OP_SET_ROWS, {dst, desc_of(TSR_DTYPE_F32, {64, 3, 2}), desc_of(TSR_DTYPE_I32, {3})},
               params(), &offset);
  EXPECT_EQ(offset, 0);
  EXPECT_EQ(desc_str(d), desc_str(dst));
  EXPECT_EQ(d.nb[1], dst.nb[1]);
  EXPECT_THAT(
      infer_error(TSR_OP_SET_ROWS, {dst, desc_of(TSR_DTYPE_F32, {32, 3, 2}), desc_of(TSR_DTYPE_I32, {3})}),
      StartsWith("[set_rows] src [32, 3, 2] does not fit dst [64, 16, 2]"));
  EXPECT_THAT(
      infer_error(TSR_OP_SET_ROWS, {dst, desc_of(TSR_DTYPE_F32, {64, 3, 2}), desc_of(TSR_DTYPE_I32, {4})}),
      StartsWith("[set_rows] idx must be [3]"));
}

TEST(Infer, op_parameters_are_validated) {
  const TensorDesc x = desc_of(TSR_DTYPE_F32, {8, 2, 3});
  const TensorDesc pos = desc_of(TSR_DTYPE_I32, {3});
  EXPECT_THAT(infer_error(TSR_OP_ROPE, {x, pos}, params({3, 0}, {10000.0f})),
              StartsWith("[rope] n_rot (ip[0]) = 3"));
  EXPECT_THAT(infer_error(TSR_OP_ROPE, {x, pos}, params({8, 1}, {10000.0f})),
              StartsWith("[rope] mode (ip[1]) = 1"));
  EXPECT_THAT(infer_error(TSR_OP_ROPE, {x, desc_of(TSR_DTYPE_I32, {2})}, params({8, 0}, {10000.0f})),
              StartsWith("[rope] pos must be [n_tokens] = [3]"));
  EXPECT_THAT(infer_error(TSR_OP_RMS_NORM, {x}, params({}, {-1.0f})), StartsWith("[rms_norm] eps"));
  EXPECT_THAT(infer_error(TSR_OP_CONCAT, {x, x}, params({4})), StartsWith("[concat] dim (ip[0]) = 4"));
  EXPECT_THAT(infer_error(TSR_OP_CPY, {x}, params({9})), StartsWith("[cpy] target dtype (ip[0]) 9"));
  EXPECT_THAT(infer_error(TSR_OP_CPY, {desc_of(TSR_DTYPE_F32, {33, 2})}, params({TSR_DTYPE_Q8_0})),
              StartsWith("[cpy] cannot store f32 [33, 2] as q8_0"));
  EXPECT_THAT(infer_error(TSR_OP_CPY, {x}, params({TSR_DTYPE_I32})), StartsWith("[cpy] cannot convert f32"));
}

TEST(Infer, attention_checks_heads_kv_and_pos) {
  const TensorDesc q = desc_of(TSR_DTYPE_F32, {8, 6, 2});
  const TensorDesc k = desc_of(TSR_DTYPE_F16, {8, 4, 16});
  const TensorDesc pos = desc_of(TSR_DTYPE_I32, {2});
  const std::string msg = infer_error(TSR_OP_ATTENTION, {q, k, k, pos}, params({1, -1}));
  EXPECT_EQ(msg, "[attention] n_head 6 is not a multiple of n_kv_head 4: q is [8, 6, 2], k is [8, 4, 16]");
  const TensorDesc k2 = desc_of(TSR_DTYPE_F16, {8, 2, 16});
  EXPECT_THAT(infer_error(TSR_OP_ATTENTION, {q, k2, k2}, params({1, -1})), HasSubstr("needs pos"));
  EXPECT_THAT(
      infer_error(TSR_OP_ATTENTION, {q, k2, desc_of(TSR_DTYPE_BF16, {8, 2, 16}), pos}, params({1, -1})),
      StartsWith("[attention] v must be f32 or f16"));
  const TensorDesc o = infer_ok(TSR_OP_ATTENTION, {q, k2, k2, pos}, params({1, -1}));
  EXPECT_EQ(desc_str(o), "f32 [8, 6, 2]");
}

TEST(Infer, reshape_keeps_the_element_count_and_needs_contiguous_input) {
  const TensorDesc x = desc_of(TSR_DTYPE_F32, {6, 4});
  int64_t offset = -1;
  const TensorDesc r = infer_ok(TSR_OP_RESHAPE, {x}, params({3, 8}), &offset);
  EXPECT_EQ(shape_str(r), "[3, 8]");
  EXPECT_EQ(offset, 0);
  EXPECT_EQ(infer_error(TSR_OP_RESHAPE, {x}, params({5, 5})),
            "[reshape] element counts differ: x f32 [6, 4] has 24, new shape [5, 5] has 25");
  TensorDesc t = x;  // transposed view
  std::swap(t.ne[0], t.ne[1]);
  std::swap(t.nb[0], t.nb[1]);
  EXPECT_THAT(infer_error(TSR_OP_RESHAPE, {t}, params({24})), StartsWith("[reshape] x must be contiguous"));
}

TEST(Infer, view_inside_input_gives_its_offset_and_out_of_range_is_rejected) {
  const TensorDesc x = desc_of(TSR_DTYPE_F32, {8, 4});  // 128 bytes
  int64_t offset = -1;
  // rows 1..2, elements 2..5: ne [4, 2], nb1 32, offset 1*32 + 2*4
  const TensorDesc v = infer_ok(TSR_OP_VIEW, {x}, params({4, 2, 0, 0, 32, 0, 0, 40}), &offset);
  EXPECT_EQ(offset, 40);
  EXPECT_EQ(shape_str(v), "[4, 2]");
  EXPECT_EQ(v.nb[0], 4);
  EXPECT_EQ(v.nb[1], 32);
  const std::string msg = infer_error(TSR_OP_VIEW, {x}, params({8, 2, 0, 0, 32, 0, 0, 96}));
  EXPECT_THAT(msg, StartsWith("[view] view out of range"));
  EXPECT_THAT(msg, HasSubstr("offset 96"));
  EXPECT_THAT(msg, HasSubstr("64 bytes"));
  EXPECT_THAT(msg, HasSubstr("128 bytes"));
  EXPECT_THAT(infer_error(TSR_OP_VIEW, {x}, params({8, 2, 0, 0, int64_t{1} << 62})),
              HasSubstr("out of range"));
  EXPECT_THAT(infer_error(TSR_OP_VIEW, {x}, params({4, 0, 0, 0, 0, 0, 0, -4})),
              HasSubstr("negative byte offset"));
}

TEST(Infer, view_below_the_documented_minimum_alignment_is_rejected) {
  // tessera_backend.h promises backends offsets and strides that are
  // multiples of the element size (2 bytes for block formats).
  const TensorDesc x = desc_of(TSR_DTYPE_F32, {8, 4});
  EXPECT_EQ(infer_error(TSR_OP_VIEW, {x}, params({4, 2, 0, 0, 32, 0, 0, 6})),
            "[view] f32 view: byte offset 6 and strides [32, 64, 64] must be multiples of 4");
  EXPECT_THAT(infer_error(TSR_OP_VIEW, {x}, params({4, 2, 0, 0, 30, 0, 0, 0})), HasSubstr("multiples of 4"));
  int64_t offset = -1;
  infer_ok(TSR_OP_VIEW, {x}, params({4, 2, 0, 0, 32, 0, 0, 4}), &offset);  // one element in: legal
  EXPECT_EQ(offset, 4);
  const TensorDesc q = desc_of(TSR_DTYPE_Q4_0, {64, 2});  // 18-byte blocks
  infer_ok(TSR_OP_VIEW, {q}, params({32, 2, 0, 0, 36, 0, 0, 18}), &offset);
  EXPECT_EQ(offset, 18);
  EXPECT_THAT(infer_error(TSR_OP_VIEW, {q}, params({32, 1, 0, 0, 36, 0, 0, 9})), HasSubstr("multiples of 2"));
}

TEST(Infer, permute_moves_dims_and_rejects_a_non_permutation) {
  const TensorDesc x = desc_of(TSR_DTYPE_F16, {8, 4, 3});
  const TensorDesc p = infer_ok(TSR_OP_PERMUTE, {x}, params({0, 2, 1, 3}));
  EXPECT_EQ(shape_str(p), "[8, 3, 4]");
  EXPECT_EQ(p.nb[1], x.nb[2]);
  EXPECT_EQ(p.nb[2], x.nb[1]);
  const std::string msg = infer_error(TSR_OP_PERMUTE, {x}, params({0, 1, 1, 3}));
  EXPECT_EQ(msg, "[permute] ip[0..3] = [0, 1, 1, 3] is not a permutation of 0..3 (x is [8, 4, 3])");
  EXPECT_THAT(infer_error(TSR_OP_PERMUTE, {desc_of(TSR_DTYPE_Q4_0, {32, 2})}, params({1, 0, 2, 3})),
              StartsWith("[permute] dim 0 of a block format must stay dim 0"));
}

TEST(Infer, new_op_parameters_are_checked_naming_the_values) {
  const TensorDesc x = desc_of(TSR_DTYPE_F32, {64, 4, 5});
  const TensorDesc pos = desc_of(TSR_DTYPE_I32, {5});
  // rope: frequency factors must be f32 [n_rot / 2].
  EXPECT_THAT(infer_error(TSR_OP_ROPE, {x, pos, desc_of(TSR_DTYPE_F32, {16})},
                          params({64, TSR_ROPE_NORMAL}, {10000.0f})),
              HasSubstr("freq_factors must be [n_rot / 2] = [32], got [16]"));
  EXPECT_THAT(infer_error(TSR_OP_ROPE, {x, pos, desc_of(TSR_DTYPE_F16, {32})},
                          params({64, TSR_ROPE_NORMAL}, {10000.0f})),
              HasSubstr("freq_factors"));
  // attention: a sliding window needs causal attention and is >= 0.
  const TensorDesc kv = desc_of(TSR_DTYPE_F16, {64, 2, 40});
  EXPECT_THAT(infer_error(TSR_OP_ATTENTION, {x, kv, kv, pos}, params({0, -1, 8})),
              HasSubstr("sliding window (ip[2]) = 8"));
  EXPECT_THAT(infer_error(TSR_OP_ATTENTION, {x, kv, kv, pos}, params({1, -1, -3})),
              HasSubstr("sliding window (ip[2]) = -3"));
  // softcap: the cap is finite and > 0.
  EXPECT_THAT(infer_error(TSR_OP_SOFTCAP, {x}, params({}, {0.0f})),
              HasSubstr("cap (fp[0]) must be finite and > 0"));
  EXPECT_THAT(infer_error(TSR_OP_GEGLU, {x, desc_of(TSR_DTYPE_F32, {64, 4, 4})}), StartsWith("[geglu]"));
}

}  // namespace
}  // namespace tsr::ops::test
