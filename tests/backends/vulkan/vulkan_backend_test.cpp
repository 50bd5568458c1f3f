// The Vulkan backend through its ABI table and through the C API: graceful
// absence of a loader, bounds checks on transfers and tensors, and a
// recorded command buffer replayed with new inputs. Tests that need a device
// skip (with the reason) where none is present.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "backends/vulkan/vk_backend.h"
#include "tessera/kit/tensor.h"
#include "tessera/tessera.hpp"
#include "tests/backends/device_test_util.h"

namespace {

const tsr_backend_iface* vk() { return tsr_vulkan_backend_iface(); }

using tsr_test::notes;
using tsr_test::ScopedEnv;

bool has_vulkan_device(const tessera::Context& ctx) { return tsr_test::has_device_of(ctx, "vulkan"); }
#define TSR_NO_VULKAN_DEVICE(why) TSR_NO_DEVICE("TESSERA_REQUIRE_VULKAN", why)

TEST(VulkanBackend, MissingLoaderListsNoDevicesAndSaysWhy) {
  ScopedEnv env("TESSERA_VULKAN_LOADER", "/nonexistent/libvulkan.so.1");
  tessera::Context ctx;  // creating the context must not fail
  EXPECT_FALSE(has_vulkan_device(ctx));
  bool found = false;
  for (const auto& n : notes(ctx))
    if (n.rfind("vulkan: no devices (no Vulkan loader", 0) == 0)
      found = n.find("/nonexistent/") != std::string::npos;
  EXPECT_TRUE(found) << "no note naming the missing loader";
  // Asking for the device by name is an error naming it, not a crash.
  int32_t index = -1;
  EXPECT_NE(tsr_device_find(ctx.get(), "vulkan:0", &index), TSR_OK);
  EXPECT_NE(std::string(tsr_last_error()).find("vulkan"), std::string::npos) << tsr_last_error();
}

TEST(VulkanBackend, DisabledByEnvironment) {
  ScopedEnv env("TESSERA_VULKAN_DISABLE", "1");
  tessera::Context ctx;
  EXPECT_FALSE(has_vulkan_device(ctx));
  bool found = false;
  for (const auto& n : notes(ctx)) found = found || n.find("TESSERA_VULKAN_DISABLE") != std::string::npos;
  EXPECT_TRUE(found);
}

class VulkanDevice : public tsr_test::BackendDevice {
 protected:
  VulkanDevice() : BackendDevice(vk(), "TESSERA_REQUIRE_VULKAN") {}
};

TEST_F(VulkanDevice, PropsListHeapsSubgroupAndFeatures) {
  tsr_device_props p{};
  p.struct_size = sizeof p;
  ASSERT_EQ(vk()->device_props(dev_, &p, &err_), TSR_OK) << err_.message;
  EXPECT_GT(std::strlen(p.name), 0u);
  EXPECT_GT(p.memory_bytes, 0u);
  const std::string details = p.details;
  for (const char* key : {"memory heap 0:", "subgroup size:", "fp16 arithmetic:", "16-bit storage:"})
    EXPECT_NE(details.find(key), std::string::npos) << key << " missing from: " << details;
}

TEST_F(VulkanDevice, TransfersOutsideABufferAreErrors) { expect_transfers_outside_a_buffer_fail(); }

TEST_F(VulkanDevice, PrepareRefusesATensorPastItsBuffer) {
  expect_prepare_refuses_a_tensor_past_its_buffer();
}

// The command buffer is recorded once at compile time; every execution with
// new inputs must still compute from those inputs.
TEST(VulkanModel, ReplayedCommandBufferSeesNewInputs) {
  tessera::Context ctx;
  if (!has_vulkan_device(ctx)) TSR_NO_VULKAN_DEVICE("no Vulkan device");
  tsr_test::expect_replayed_matvec_silu(ctx, "vulkan", 3);
}

// A weight larger than one storage binding (lavapipe: 128 MiB) is split into
// row chunks by the matmul encoder instead of being refused.
TEST(VulkanModel, WeightLargerThanOneBindingIsSplit) {
  tessera::Context ctx;
  if (!has_vulkan_device(ctx)) TSR_NO_VULKAN_DEVICE("no Vulkan device");
  const int64_t k = 4096, m = 36000;  // q8_0: 156.7 MB
  std::vector<uint8_t> w(static_cast<size_t>(k / 32 * 34 * m));
  for (size_t b = 0; b < w.size() / 34; ++b) {
    uint8_t* p = &w[b * 34];
    p[0] = 0x00;  // f16 scale 2^-7
    p[1] = 0x20;
    for (size_t j = 0; j < 32; ++j) p[2 + j] = static_cast<uint8_t>((b * 7 + j * 13) % 255);
  }
  tsr_device_info info{};
  for (const auto& d : ctx.devices())
    if (std::string(d.backend) == "vulkan") info = d;
  const std::string details = info.props.details;
  const auto at = details.find("max storage buffer range: ");
  ASSERT_NE(at, std::string::npos);
  const uint64_t range_mib = std::stoull(details.substr(at + 26));
  if (w.size() <= (range_mib << 20)) GTEST_SKIP() << "this device binds " << range_mib << " MiB at once";

  std::vector<float> xv(static_cast<size_t>(k));
  for (int64_t i = 0; i < k; ++i) xv[static_cast<size_t>(i)] = static_cast<float>(std::sin(0.1 * double(i)));
  tessera::Graph g(ctx);
  auto wt = g.weight("w", TSR_DTYPE_Q8_0, {k, m}, w.data(), w.size());
  auto x = g.input("x", TSR_DTYPE_F32, {k, 1});
  auto y = g.matmul(wt, x);
  g.output(y);
  tessera::Model model(ctx, g, {"vulkan"}, /*strict=*/true);
  model.set_input(x, xv);
  model.execute();
  const auto out = model.output<float>(y, static_cast<size_t>(m));
  for (int64_t r = 0; r < m; r += 997) {  // rows across every chunk
    double ref = 0;
    for (int64_t i = 0; i < k; ++i) {
      const size_t b = static_cast<size_t>(r * (k / 32) + i / 32);
      ref += (1.0 / 128) * static_cast<int8_t>(w[b * 34 + 2 + static_cast<size_t>(i % 32)]) *
             xv[static_cast<size_t>(i)];
    }
    ASSERT_NEAR(out[static_cast<size_t>(r)], ref, 1e-3 * (1 + std::abs(ref))) << "row " << r;
  }
}

}  // namespace
