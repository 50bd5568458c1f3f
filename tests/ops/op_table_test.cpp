#include <gtest/gtest.h>

#include "ops/op_schema.h"

namespace tsr::ops {
namespace {

TEST(OpTable, every_op_has_a_name_that_parses_back) {
  for (int32_t op = TSR_OP_NONE + 1; op < TSR_OP_COUNT; ++op) {
    const OpInfo* info = op_info(op);
    ASSERT_NE(info, nullptr) << op;
    EXPECT_EQ(op_name(op), info->name);
    EXPECT_EQ(op_from_name(info->name), op);
    EXPECT_LE(info->min_inputs, info->max_inputs);
    EXPECT_GE(info->min_inputs, 1);
    EXPECT_LE(info->max_inputs, TSR_MAX_INPUTS);
  }
}

TEST(OpTable, names_match_the_public_op_ids) {
  EXPECT_EQ(op_name(TSR_OP_GET_ROWS), "get_rows");
  EXPECT_EQ(op_name(TSR_OP_MATMUL), "matmul");
  EXPECT_EQ(op_name(TSR_OP_RMS_NORM), "rms_norm");
  EXPECT_EQ(op_name(TSR_OP_ATTENTION), "attention");
  EXPECT_EQ(op_name(TSR_OP_SET_ROWS), "set_rows");
  EXPECT_EQ(op_name(TSR_OP_ARGMAX), "argmax");
}

TEST(OpTable, unknown_ids_have_no_info_and_a_printable_name) {
  EXPECT_EQ(op_info(TSR_OP_NONE), nullptr);
  EXPECT_EQ(op_info(TSR_OP_COUNT), nullptr);
  EXPECT_EQ(op_info(-3), nullptr);
  EXPECT_EQ(op_name(999), "op(999)");
  EXPECT_EQ(op_from_name("matmull"), -1);
  EXPECT_EQ(op_from_name(""), -1);
}

TEST(OpTable, arity_and_flags_follow_the_contract) {
  EXPECT_EQ(op_info(TSR_OP_SOFTMAX)->min_inputs, 1);
  EXPECT_EQ(op_info(TSR_OP_SOFTMAX)->max_inputs, 2);
  EXPECT_EQ(op_info(TSR_OP_ATTENTION)->min_inputs, 3);
  EXPECT_EQ(op_info(TSR_OP_ATTENTION)->max_inputs, 4);
  EXPECT_EQ(op_info(TSR_OP_SET_ROWS)->min_inputs, 3);
  for (int32_t op : {TSR_OP_RESHAPE, TSR_OP_VIEW, TSR_OP_PERMUTE}) {
    EXPECT_TRUE(op_info(op)->is_view) << op_name(op);
    EXPECT_FALSE(op_info(op)->writes_input0);
  }
  EXPECT_TRUE(op_info(TSR_OP_SET_ROWS)->writes_input0);
  EXPECT_FALSE(op_info(TSR_OP_SET_ROWS)->is_view);
  EXPECT_FALSE(op_info(TSR_OP_MATMUL)->is_view);
  EXPECT_FALSE(op_info(TSR_OP_CPY)->is_view);
}

}  // namespace
}  // namespace tsr::ops
