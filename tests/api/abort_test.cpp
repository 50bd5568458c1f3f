// tsr_model_set_abort_callback: the CPU backend asks between nodes, so a run
// stops at the node where the callback first says yes, returns
// TSR_ERR_ABORTED naming it, and the model runs normally once the callback
// is removed.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tessera/tessera.hpp"

namespace {

struct Countdown {
  int calls = 0;
  int abort_at = 0;  // the call that answers yes
};

int32_t count_down(void* user) {
  auto* c = static_cast<Countdown*>(user);
  return ++c->calls >= c->abort_at ? 1 : 0;
}

TEST(Abort, the_cpu_stops_between_nodes_and_the_model_still_runs) {
  tessera::Context ctx(1);
  tessera::Graph g(ctx);
  auto x = g.input("x", TSR_DTYPE_F32, {256});
  tsr_tensor y = x;
  for (int i = 0; i < 40; ++i) y = g.silu(y);  // 40 nodes, one subgraph on the cpu
  g.output(y);
  tessera::Model m(ctx, g, {"cpu"}, true);
  tessera::Model plain(ctx, g, {"cpu"}, true);
  std::vector<float> in(256);
  for (size_t i = 0; i < in.size(); ++i) in[i] = static_cast<float>(i) / 64.0f - 2.0f;
  m.set_input(x, in);
  plain.set_input(x, in);

  Countdown c{0, 10};
  ASSERT_EQ(tsr_model_set_abort_callback(m.get(), count_down, &c), TSR_OK);
  EXPECT_EQ(tsr_model_execute(m.get(), nullptr, 0), TSR_ERR_ABORTED);
  const std::string msg = tsr_last_error();
  EXPECT_NE(msg.find("aborted by the caller"), std::string::npos) << msg;
  // Asked once before the segment (core), then before each node: the yes
  // comes at the 9th node and nothing is asked after it.
  EXPECT_EQ(c.calls, 10);
  EXPECT_NE(msg.find("before node 8 of 40"), std::string::npos) << msg;

  ASSERT_EQ(tsr_model_set_abort_callback(m.get(), nullptr, nullptr), TSR_OK);
  m.execute();
  plain.execute();
  EXPECT_EQ(m.output<float>(y, 256), plain.output<float>(y, 256));

  // Yes before anything runs: core stops before the segment.
  Countdown first{0, 1};
  ASSERT_EQ(tsr_model_set_abort_callback(m.get(), count_down, &first), TSR_OK);
  EXPECT_EQ(tsr_model_execute(m.get(), nullptr, 0), TSR_ERR_ABORTED);
  EXPECT_NE(std::string(tsr_last_error()).find("before segment 0 of 1"), std::string::npos)
      << tsr_last_error();
  EXPECT_EQ(tsr_model_set_abort_callback(nullptr, nullptr, nullptr), TSR_ERR_INVALID_ARGUMENT);
}

}  // namespace
