// Graph IR: inference at build time, clear errors, dead-node elimination.
#include "core/graph.h"

#include <gtest/gtest.h>

namespace tsr {
namespace {

TensorDesc f32(std::initializer_list<int64_t> ne) { return make_desc(TSR_DTYPE_F32, ne).value(); }

TEST(Graph, matmul_infers_output_shape) {
  Graph g;
  static float w[8 * 5] = {};
  const ValueId wv = g.add_weight("w", f32({8, 5}), w, sizeof(w)).value();
  const ValueId x = g.add_input("x", f32({8, 3})).value();
  auto y = g.add_node(TSR_OP_MATMUL, {wv, x}, {});
  ASSERT_TRUE(y.is_ok()) << y.status().message();
  EXPECT_EQ(g.value(y.value()).desc.ne[0], 5);
  EXPECT_EQ(g.value(y.value()).desc.ne[1], 3);
}

TEST(Graph, mismatched_matmul_names_op_and_shapes) {
  Graph g;
  const ValueId a = g.add_input("a", f32({4, 576})).value();
  const ValueId b = g.add_input("b", f32({577, 1})).value();
  auto y = g.add_node(TSR_OP_MATMUL, {a, b}, {});
  ASSERT_FALSE(y.is_ok());
  EXPECT_EQ(y.status().code(), TSR_ERR_INVALID_ARGUMENT);
  const std::string m = y.status().message();
  EXPECT_NE(m.find("[matmul]"), std::string::npos) << m;
  EXPECT_NE(m.find("[4, 576]"), std::string::npos) << m;
  EXPECT_NE(m.find("[577, 1]"), std::string::npos) << m;
  EXPECT_EQ(g.nodes().size(), 0u) << "a rejected node must not be added";
}

TEST(Graph, wrong_input_count_and_unknown_ids_are_rejected) {
  Graph g;
  const ValueId a = g.add_input("a", f32({4})).value();
  auto r = g.add_node(TSR_OP_ADD, {a}, {});
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("add"), std::string::npos) << r.status().message();
  r = g.add_node(TSR_OP_SILU, {42}, {});
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("42"), std::string::npos) << r.status().message();
  r = g.add_node(1234, {a}, {});
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("1234"), std::string::npos) << r.status().message();
}

TEST(Graph, leaf_with_bad_dims_is_rejected) {
  Graph g;
  TensorDesc d{};
  d.dtype = TSR_DTYPE_Q4_0;
  d.rank = 2;
  d.ne[0] = 30;  // not a multiple of the 32-element block
  d.ne[1] = 2;
  auto r = g.add_input("q", d);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("30"), std::string::npos) << r.status().message();
  d.dtype = TSR_DTYPE_F32;
  d.ne[0] = int64_t{1} << 40;
  d.ne[1] = int64_t{1} << 40;
  r = g.add_input("huge", d);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("overflow"), std::string::npos) << r.status().message();
}

// Sizes are checked before they are computed (found by fuzz_graph_api; the
// ASan + UBSan build reports the overflow itself): a dim 0 whose row size
// overflows, and a block format whose byte size fits (3.96e18 bytes) while
// its element count (2^63) does not.
TEST(Graph, leaf_sizes_are_checked_before_they_overflow) {
  Graph g;
  TensorDesc d{};
  d.dtype = TSR_DTYPE_F32;
  d.rank = 1;
  d.ne[0] = int64_t{1} << 62;
  auto r = g.add_input("wide", d);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("overflows"), std::string::npos) << r.status().message();
  d.dtype = TSR_DTYPE_Q3_K;
  d.rank = 2;
  d.ne[1] = 2;
  r = g.add_input("packed", d);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("element count"), std::string::npos) << r.status().message();
}

TEST(Graph, weight_size_must_match_layout) {
  Graph g;
  static float w[10];
  auto r = g.add_weight("w", f32({11}), w, sizeof(w));
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("44"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("40"), std::string::npos) << r.status().message();
}

TEST(Graph, dead_nodes_are_eliminated) {
  Graph g;
  const ValueId x = g.add_input("x", f32({16})).value();
  const ValueId dead1 = g.add_node(TSR_OP_SILU, {x}, {}).value();
  g.add_node(TSR_OP_GELU, {dead1}, {}).value();
  const ValueId live = g.add_node(TSR_OP_SCALE, {x}, {}).value();
  ASSERT_TRUE(g.mark_output(live).is_ok());
  auto order = live_nodes(g);
  ASSERT_TRUE(order.is_ok());
  ASSERT_EQ(order.value().size(), 1u);
  EXPECT_EQ(g.node(order.value()[0]).op, TSR_OP_SCALE);
}

TEST(Graph, state_writes_survive_elimination) {
  Graph g;
  const ValueId cache = g.add_state("kv", f32({8, 4})).value();
  const ValueId src = g.add_input("src", f32({8, 1})).value();
  const ValueId idx = g.add_input("idx", make_desc(TSR_DTYPE_I32, {1}).value()).value();
  const ValueId w = g.add_node(TSR_OP_SET_ROWS, {cache, src, idx}, {}).value();
  EXPECT_EQ(g.value(w).root, cache) << "set_rows writes into the state's storage";
  auto order = live_nodes(g);
  ASSERT_TRUE(order.is_ok()) << order.status().message();
  EXPECT_EQ(order.value().size(), 1u);
}

TEST(Graph, nothing_to_compute_is_an_error) {
  Graph g;
  g.add_input("x", f32({4})).value();
  auto order = live_nodes(g);
  ASSERT_FALSE(order.is_ok());
  EXPECT_NE(order.status().message().find("no outputs"), std::string::npos);
}

TEST(Graph, views_alias_their_root_with_offsets) {
  Graph g;
  const ValueId x = g.add_input("x", f32({6, 4})).value();
  tsr_op_params p{};
  p.i[0] = 3;  // ne
  p.i[1] = 2;
  p.i[2] = 1;
  p.i[3] = 1;
  p.i[4] = 24;  // nb1
  p.i[5] = 48;
  p.i[6] = 48;
  p.i[7] = 24 + 8;  // row 1, element 2
  auto v = g.add_node(TSR_OP_VIEW, {x}, p);
  ASSERT_TRUE(v.is_ok()) << v.status().message();
  EXPECT_EQ(g.value(v.value()).root, x);
  EXPECT_EQ(g.value(v.value()).root_offset, 32);
  auto t = g.add_node(TSR_OP_PERMUTE, {v.value()}, tsr_op_params{{1, 0, 2, 3}, {}});
  ASSERT_TRUE(t.is_ok()) << t.status().message();
  EXPECT_EQ(g.value(t.value()).root, x);
  EXPECT_EQ(g.value(t.value()).desc.ne[0], 2);
  EXPECT_EQ(g.value(t.value()).desc.nb[0], 24);
}

}  // namespace
}  // namespace tsr
