// all_reduce and all_gather as graph ops in one process: shapes and errors
// at the node, a world of one without a communicator (a copy, on every
// device), the refusals a compile gives, and a communicator that cannot be
// found.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tessera/tessera.hpp"

namespace {

std::string error_of(tsr_status_code rc) { return rc == TSR_OK ? "" : tsr_last_error(); }

TEST(CollectiveGraph, ShapesAndBadNodes) {
  tessera::Context ctx;
  tessera::Graph g(ctx);
  const tsr_tensor x = g.input("x", TSR_DTYPE_F32, {6, 4});
  tsr_tensor_desc d{};
  ASSERT_EQ(tsr_graph_tensor_desc(g.get(), g.all_gather(x, 4), &d), TSR_OK);
  EXPECT_EQ(d.ne[0], 6);
  EXPECT_EQ(d.ne[1], 4);
  EXPECT_EQ(d.ne[3], 4);
  ASSERT_EQ(tsr_graph_tensor_desc(g.get(), g.all_reduce(x, 4), &d), TSR_OK);
  EXPECT_EQ(d.ne[1], 4);
  EXPECT_EQ(d.ne[3], 1);

  tsr_tensor out = -1;
  tsr_op_params p{};
  p.i[0] = 0;  // no world
  EXPECT_EQ(tsr_graph_op(g.get(), TSR_OP_ALL_REDUCE, &x, 1, &p, &out), TSR_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(tsr_last_error()).find("world size (ip[0]) = 0"), std::string::npos)
      << tsr_last_error();
  p.i[0] = 2;
  const tsr_tensor xt = g.transpose(x);  // a strided view
  EXPECT_EQ(tsr_graph_op(g.get(), TSR_OP_ALL_REDUCE, &xt, 1, &p, &out), TSR_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(tsr_last_error()).find("must be contiguous"), std::string::npos) << tsr_last_error();
  const tsr_tensor ids = g.input("ids", TSR_DTYPE_I32, {4});
  EXPECT_EQ(tsr_graph_op(g.get(), TSR_OP_ALL_REDUCE, &ids, 1, &p, &out), TSR_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(tsr_graph_op(g.get(), TSR_OP_ALL_GATHER, &ids, 1, &p, &out), TSR_OK) << tsr_last_error();
  const tsr_tensor x4 = g.input("x4", TSR_DTYPE_F32, {2, 2, 2, 2});
  EXPECT_EQ(tsr_graph_op(g.get(), TSR_OP_ALL_GATHER, &x4, 1, &p, &out), TSR_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(tsr_last_error()).find("ne[3] = 1"), std::string::npos) << tsr_last_error();
}

// Without a communicator the context is a world of one: the collectives
// copy, on whichever device the scheduler put them.
TEST(CollectiveGraph, WorldOfOneCopies) {
  tessera::Context ctx;
  EXPECT_EQ(ctx.comm_rank(), 0);
  EXPECT_EQ(ctx.comm_size(), 1);
  for (const char* dev : {"cpu", "null"}) {
    SCOPED_TRACE(dev);
    tessera::Graph g(ctx);
    const tsr_tensor x = g.input("x", TSR_DTYPE_F32, {5, 3});
    const tsr_tensor r = g.all_reduce(g.scale(x, 3.0f), 1);
    const tsr_tensor a = g.all_gather(x, 1);
    g.output(r);
    g.output(a);
    tessera::Model m(ctx.get(), g, {dev}, tessera::Model::CompileFlags{TSR_COMPILE_NO_TRANSFER_COST});
    std::vector<float> in(15);
    for (int i = 0; i < 15; ++i) in[i] = 0.5f * i - 2.0f;
    m.set_input(x, in);
    m.execute();
    const std::vector<float> rv = m.output<float>(r, 15), av = m.output<float>(a, 15);
    for (int i = 0; i < 15; ++i) {
      EXPECT_EQ(rv[i], 3.0f * in[i]);
      EXPECT_EQ(av[i], in[i]);
    }
    // The placement report lists the collective on the device chosen.
    EXPECT_NE(m.placement().find("all_reduce"), std::string::npos) << m.placement();
  }
}

TEST(CollectiveGraph, CompileRefusesAnotherWorldWithoutCommunicator) {
  tessera::Context ctx;
  tessera::Graph g(ctx);
  g.output(g.all_reduce(g.input("x", TSR_DTYPE_F32, {8}), 2));
  tsr_model* m = nullptr;
  const std::string msg = error_of(tsr_compile(ctx.get(), g.get(), nullptr, &m));
  EXPECT_NE(msg.find("world of 2 ranks"), std::string::npos) << msg;
  EXPECT_NE(msg.find("no communicator"), std::string::npos) << msg;
  EXPECT_EQ(m, nullptr);
}

TEST(CollectiveGraph, UnknownCommunicatorIsNamed) {
  tessera::Context ctx;
  tsr_comm_options o{sizeof(o), "no-such-lib", 0};
  EXPECT_EQ(tsr_context_open_comm(ctx.get(), &o), TSR_ERR_NOT_FOUND);
  const std::string msg = tsr_last_error();
  EXPECT_NE(msg.find("libtessera-comm-no-such-lib.so"), std::string::npos) << msg;
  EXPECT_NE(msg.find("looked in"), std::string::npos) << msg;
  o.name = "../evil";
  EXPECT_EQ(tsr_context_open_comm(ctx.get(), &o), TSR_ERR_IO);  // a path: loaded as given, and missing
  o.name = "bad name";
  EXPECT_EQ(tsr_context_open_comm(ctx.get(), &o), TSR_ERR_INVALID_ARGUMENT);
  // A library that is not a communicator (the null backend plugin).
  o.name = TSR_NULL_PLUGIN_PATH;
  EXPECT_EQ(tsr_context_open_comm(ctx.get(), &o), TSR_ERR_NOT_FOUND);
  EXPECT_NE(std::string(tsr_last_error()).find("does not export tsr_comm_entry"), std::string::npos)
      << tsr_last_error();
  EXPECT_EQ(ctx.comm_size(), 1);  // nothing half-opened
}

}  // namespace
