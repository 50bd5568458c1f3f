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

class VulkanDevice : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(vk()->create(nullptr, &inst_, &err_), TSR_OK) << err_.message;
    if (vk()->device_count(inst_) == 0) {
      const char* why = vk()->instance_note(inst_);
      TSR_NO_VULKAN_DEVICE("no Vulkan device: " << (why ? why : "(no note)"));
    }
    ASSERT_EQ(vk()->device_open(inst_, 0, &dev_, &err_), TSR_OK) << err_.message;
    ASSERT_EQ(vk()->queue_create(dev_, &queue_, &err_), TSR_OK) << err_.message;
  }
  void TearDown() override {
    vk()->queue_destroy(queue_);
    vk()->device_close(dev_);
    vk()->destroy(inst_);
  }
  tsr_bk_instance inst_ = nullptr;
  tsr_bk_device dev_ = nullptr;
  tsr_bk_queue queue_ = nullptr;
  tsr_error err_{};
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

TEST_F(VulkanDevice, TransfersOutsideABufferAreErrors) {
  tsr_bk_buffer b = nullptr;
  ASSERT_EQ(vk()->buffer_alloc(dev_, 256, TSR_BUFFER_ACTIVATIONS, &b, &err_), TSR_OK) << err_.message;
  std::vector<char> host(512, 7);
  EXPECT_EQ(vk()->buffer_write(queue_, b, 0, host.data(), 256, &err_), TSR_OK) << err_.message;
  EXPECT_EQ(vk()->buffer_read(queue_, b, 200, host.data(), 100, &err_), TSR_ERR_INVALID_ARGUMENT);
  EXPECT_NE(
      std::string(err_.message).find("[buffer_read] 100 bytes at offset 200 exceed the 256 byte buffer"),
      std::string::npos)
      << err_.message;
  EXPECT_EQ(vk()->buffer_write(queue_, b, UINT64_MAX, host.data(), 2, &err_), TSR_ERR_INVALID_ARGUMENT);
  vk()->buffer_free(b);
}

TEST_F(VulkanDevice, PrepareRefusesATensorPastItsBuffer) {
  tsr_bk_buffer b = nullptr;
  ASSERT_EQ(vk()->buffer_alloc(dev_, 64, TSR_BUFFER_ACTIVATIONS, &b, &err_), TSR_OK) << err_.message;
  const tsr_tensor_desc d = tsr::make_desc(TSR_DTYPE_F32, {32}).value();  // 128 bytes
  tsr_subgraph_node n{};
  n.desc.struct_size = sizeof n.desc;
  n.desc.op = TSR_OP_SILU;
  n.desc.n_inputs = 1;
  n.desc.inputs[0] = d;
  n.desc.output = d;
  n.inputs[0] = {b, 0, d};
  n.output = {b, 0, d};
  tsr_subgraph g{sizeof g, 1, &n};
  tsr_bk_prepared p = nullptr;
  EXPECT_EQ(vk()->prepare(dev_, &g, &p, &err_), TSR_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(err_.message).find("spans 128 bytes, buffer has 64"), std::string::npos)
      << err_.message;
  vk()->buffer_free(b);
}

// The command buffer is recorded once at compile time; every execution with
// new inputs must still compute from those inputs.
TEST(VulkanModel, ReplayedCommandBufferSeesNewInputs) {
  tessera::Context ctx;
  if (!has_vulkan_device(ctx)) TSR_NO_VULKAN_DEVICE("no Vulkan device");
  tessera::Graph g(ctx);
  const int64_t k = 64, m = 40;
  std::vector<float> w(static_cast<size_t>(k * m));
  for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(static_cast<int>(i % 13) - 6) * 0.25f;
  auto wt = g.weight("w", TSR_DTYPE_F32, {k, m}, w.data(), w.size() * 4);
  auto x = g.input("x", TSR_DTYPE_F32, {k, 1});
  auto y = g.silu(g.matmul(wt, x));
  g.output(y);
  tessera::Model model(ctx, g, {"vulkan"}, /*strict=*/true);
  for (int step = 0; step < 3; ++step) {
    std::vector<float> xv(static_cast<size_t>(k));
    for (int64_t i = 0; i < k; ++i)
      xv[static_cast<size_t>(i)] = 0.01f * static_cast<float>((i * (step + 3)) % 17);
    model.set_input(x, xv);
    model.execute();
    const auto out = model.output<float>(y, static_cast<size_t>(m));
    for (int64_t j = 0; j < m; ++j) {
      double acc = 0;
      for (int64_t i = 0; i < k; ++i)
        acc += double(w[static_cast<size_t>(j * k + i)]) * xv[static_cast<size_t>(i)];
      const double ref = acc / (1.0 + std::exp(-acc));
      ASSERT_NEAR(out[static_cast<size_t>(j)], ref, 1e-4 + 1e-4 * std::abs(ref))
          << "step " << step << " row " << j;
    }
  }
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
