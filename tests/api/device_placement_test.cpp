// tsr_graph_set_device: nodes placed on a named device ahead of the
// compile's preference list (how a model is split across devices), through
// the C++ wrapper, on real backends: the CPU, the null backend (which runs
// nothing, so its nodes fall back) and the gpuemu plugin (which runs them).
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "tessera/tessera.hpp"

namespace {

// y = silu(x) * x with the mul on `device` ("" : the preference list).
struct Graph2 {
  explicit Graph2(const tessera::Context& ctx, const std::string& device) : g(ctx) {
    x = g.input("x", TSR_DTYPE_F32, {64, 2});
    tsr_tensor s = g.silu(x);
    g.set_device(device);
    y = g.mul(s, x);
    g.set_device("");
    g.output(y);
  }
  tessera::Graph g;
  tsr_tensor x = -1, y = -1;
};

std::vector<float> run(tessera::Model& m, const Graph2& gr, std::vector<float>* xs) {
  xs->resize(128);
  for (size_t i = 0; i < xs->size(); ++i) (*xs)[i] = 0.05f * static_cast<float>(static_cast<int>(i) - 64);
  m.set_input(gr.x, *xs);
  m.execute();
  return m.output<float>(gr.y, 128);
}

void expect_silu_times_x(const std::vector<float>& out, const std::vector<float>& xs) {
  for (size_t i = 0; i < xs.size(); ++i) {
    const double x = xs[i];
    EXPECT_NEAR(out[i], x * x / (1.0 + std::exp(-x)), 1e-5) << i;
  }
}

TEST(DevicePlacement, UnknownDeviceFailsTheCompileNamingIt) {
  tessera::Context ctx;
  Graph2 gr(ctx, "nosuch:3");
  try {
    tessera::Model m(ctx, gr.g, {"cpu"});
    FAIL() << "compiled with a node placed on nosuch:3";
  } catch (const tessera::Error& e) {
    EXPECT_NE(std::string(e.what()).find("was placed on 'nosuch:3' (tsr_graph_set_device)"),
              std::string::npos)
        << e.what();
  }
}

TEST(DevicePlacement, ANodeItsDeviceRefusesFallsBackOrFailsWhenStrict) {
  tessera::Context ctx;
  Graph2 gr(ctx, "null:0");
  tessera::Model m(ctx, gr.g, {"cpu"});
  const std::string placement = m.placement();
  EXPECT_NE(placement.find("(fallback: null:0 said"), std::string::npos) << placement;
  std::vector<float> xs;
  expect_silu_times_x(run(m, gr, &xs), xs);
  try {
    tessera::Model strict(ctx, gr.g, {"cpu"}, /*strict=*/true);
    FAIL() << "strict compile fell back";
  } catch (const tessera::Error& e) {
    EXPECT_NE(std::string(e.what()).find("no placed device supports it: null:0"), std::string::npos)
        << e.what();
  }
}

#if defined(TSR_GPUEMU_PLUGIN_PATH)
// The placed node runs on gpuemu although the compile names only the CPU;
// its input crosses once and its output comes back.
TEST(DevicePlacement, PlacedNodeRunsOnItsDevice) {
  tessera::Context ctx(0, {TSR_GPUEMU_PLUGIN_PATH});
  Graph2 gr(ctx, "gpuemu:0");
  tessera::Model m(ctx, gr.g, {"cpu"}, /*strict=*/true);
  const std::string placement = m.placement();
  for (const char* part :
       {"2 nodes: ", "1 on gpuemu:0", "1 on cpu:0", "; 0 fallbacks; 0 kept by transfer cost"})
    EXPECT_NE(placement.find(part), std::string::npos) << part << " not in " << placement;
  std::vector<float> xs;
  expect_silu_times_x(run(m, gr, &xs), xs);
}
#endif

}  // namespace
