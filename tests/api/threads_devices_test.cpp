// Concurrency beyond one context's lock (issue 20), run under
// ThreadSanitizer by scripts/test.sh (label threads): the CPU backend's
// pools of several contexts competing for the cores, several contexts on
// one GPU-class device (gpuemu's GPU backend, Vulkan) at once, and plugins
// loaded and unloaded from several threads. Each thread checks its own
// answers; TSan fails the run on a data race even when they come out right.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "tessera/tessera.h"
#include "tests/api/silu_mul.h"

namespace {

using tessera::test::new_context;
using tessera::test::SiluMul;

// Runs fn(t) on n threads at once; returns how many threads reported wrong answers.
template <typename F>
int on_threads(int n, F fn) {
  std::vector<int> wrong(static_cast<size_t>(n), 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < n; ++t) threads.emplace_back([&wrong, &fn, t] { wrong[t] = fn(t); });
  for (auto& th : threads) th.join();
  int bad = 0;
  for (int w : wrong) bad += w != 0;
  return bad;
}

// A new context (with plugin loaded, if any) running two models of n_a and
// n_b elements on device from two threads at once; non-zero when any answer
// was wrong or a call failed.
int context_with_two_models(int t, int64_t n_a, int64_t n_b, const char* device = "cpu",
                            const char* plugin = nullptr) {
  tsr_context* ctx = new_context();
  int wrong = 0;
  if (plugin && tsr_context_load_plugin(ctx, plugin) != TSR_OK) {
    wrong = -1;
  } else {
    SiluMul a(ctx, n_a, device), b(ctx, n_b, device);
    int wb = 0;
    std::thread tb([&] { wb = b.run(10 + t); });
    wrong = a.run(t);
    tb.join();
    wrong += wb != 0;
  }
  tsr_context_destroy(ctx);
  return wrong;
}

// Four contexts of two pool threads each, two models each, on two cores:
// eight callers and eight workers contend for the CPU.
TEST(ThreadsDevices, CpuPoolsOfFourContextsUnderContention) {
  EXPECT_EQ(on_threads(4, [](int t) { return context_with_two_models(t, 40000 + t, 20000 + 3 * t); }), 0);
}

// Three contexts on one device kind at once, each with two models on two
// threads (the device's queues, command pools and memory of three instances,
// and within one instance two queues).
void several_contexts_on(const char* device, const char* plugin) {
  tsr_context* probe = new_context();
  if (plugin) ASSERT_EQ(tsr_context_load_plugin(probe, plugin), TSR_OK) << tsr_last_error();
  int32_t index = -1;
  const bool present = tsr_device_find(probe, device, &index) == TSR_OK;
  const std::string why = tsr_last_error();
  tsr_context_destroy(probe);
  if (!present) {
    // Required where scripts/test.sh says so, unless it switched Vulkan off for this run.
    if (std::string(device) == "vulkan" &&
        (!std::getenv("TESSERA_REQUIRE_VULKAN") || std::getenv("TESSERA_VULKAN_DISABLE")))
      GTEST_SKIP() << why;
    FAIL() << why;
  }
  EXPECT_EQ(
      on_threads(3, [&](int t) { return context_with_two_models(t, 3000 + t, 1000 + t, device, plugin); }),
      0);
}

#ifdef TSR_GPUEMU_PLUGIN_PATH
TEST(ThreadsDevices, ThreeContextsOnTheGpuBackend) { several_contexts_on("gpuemu", TSR_GPUEMU_PLUGIN_PATH); }
#endif

TEST(ThreadsDevices, ThreeContextsOnVulkan) { several_contexts_on("vulkan", nullptr); }

// Plugins loaded, used and unloaded by four threads at once, ten times each:
// dlopen/dlclose, the registry and the plugin guards' process-wide slots.
TEST(ThreadsDevices, PluginsLoadedAndUnloadedFromFourThreads) {
  EXPECT_EQ(on_threads(4,
                       [](int t) {
                         for (int i = 0; i < 10; ++i) {
                           tsr_context* ctx = new_context();
                           int32_t index = -1;
                           if (tsr_context_load_plugin(ctx, TSR_NULL_PLUGIN_PATH) != TSR_OK ||
                               tsr_context_load_plugin(ctx, TSR_MISBEHAVING_PLUGIN_PATH) != TSR_OK ||
                               tsr_device_find(ctx, "null_plugin:0", &index) != TSR_OK) {
                             ADD_FAILURE() << "thread " << t << ": " << tsr_last_error();
                             tsr_context_destroy(ctx);
                             return 1;
                           }
                           int wrong = 0;
                           if (i % 2 == 0) {
                             // The behaving "evil" plugin computes scale only:
                             // compile y = 2x + 1 on it through the guard.
                             tsr_graph* g = nullptr;
                             const int64_t ne[] = {256};
                             tsr_tensor x, y;
                             tsr_op_params p{};
                             p.f[0] = 2.0f;
                             p.f[1] = 1.0f;
                             const char* devs[] = {"evil:0"};
                             tsr_compile_options co{sizeof co, devs, 1, TSR_COMPILE_STRICT};
                             tsr_model* m = nullptr;
                             std::vector<float> xs(256, static_cast<float>(t)), ys(256);
                             if (tsr_graph_create(ctx, &g) != TSR_OK ||
                                 tsr_graph_input(g, "x", TSR_DTYPE_F32, 1, ne, &x) != TSR_OK ||
                                 tsr_graph_op(g, TSR_OP_SCALE, &x, 1, &p, &y) != TSR_OK ||
                                 tsr_graph_output(g, y) != TSR_OK || tsr_compile(ctx, g, &co, &m) != TSR_OK ||
                                 tsr_model_set_input(m, x, xs.data(), 1024) != TSR_OK ||
                                 tsr_model_execute(m, nullptr, 0) != TSR_OK ||
                                 tsr_model_get_output(m, y, ys.data(), 1024) != TSR_OK) {
                               ADD_FAILURE() << "thread " << t << ": " << tsr_last_error();
                               wrong = 1;
                             } else {
                               for (float v : ys) wrong += v != 2.0f * t + 1.0f;
                             }
                             tsr_model_destroy(m);
                             tsr_graph_destroy(g);
                           }
                           tsr_context_destroy(ctx);
                           if (wrong) return wrong;
                         }
                         return 0;
                       }),
            0);
}

}  // namespace
