// The GPU backends (CUDA, HIP and the kernel emulator "gpuemu", which share
// backends/gpu): graceful absence of a driver, and a captured graph replayed
// with new inputs on every GPU device present. Tests that need a device skip
// with the reason the backend gives; gpuemu is always present, so the shared
// glue runs here on every machine.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "tessera/tessera.hpp"
#include "tests/backends/device_test_util.h"
#if defined(TESSERA_TEST_CUDA)
#include "backends/cuda/cuda_backend.h"
#endif
#if defined(TESSERA_TEST_HIP)
#include "backends/hip/hip_backend.h"
#endif

namespace {

using tsr_test::ScopedEnv;

struct Vendor {
  const char* name;
  const tsr_backend_iface* (*iface)();
  const char* disable_env;
};

std::vector<Vendor> vendors() {
  return {
#if defined(TESSERA_TEST_CUDA)
    {"cuda", tsr_cuda_backend_iface, "TESSERA_CUDA_DISABLE"},
#endif
#if defined(TESSERA_TEST_HIP)
        {"hip", tsr_hip_backend_iface, "TESSERA_HIP_DISABLE"},
#endif
  };
}

TEST(GpuVendors, NoDriverOrNoGpuIsANoteNotAnError) {
  if (vendors().empty()) GTEST_SKIP() << "built without the CUDA and HIP backends";
  for (const Vendor& v : vendors()) {
    tsr_bk_instance inst = nullptr;
    tsr_error err{};
    ASSERT_EQ(v.iface()->create(nullptr, &inst, &err), TSR_OK) << v.name << ": " << err.message;
    if (v.iface()->device_count(inst) == 0) {
      const char* note = v.iface()->instance_note(inst);
      ASSERT_NE(note, nullptr) << v.name << " lists no device and says nothing";
      EXPECT_GT(std::string(note).size(), 10u) << v.name << ": " << note;
      tsr_bk_device dev = nullptr;
      EXPECT_EQ(v.iface()->device_open(inst, 0, &dev, &err), TSR_ERR_NOT_FOUND) << v.name;
      EXPECT_NE(std::string(err.message).find(v.name), std::string::npos) << err.message;
    }
    v.iface()->destroy(inst);
  }
}

TEST(GpuVendors, DisabledByEnvironment) {
  if (vendors().empty()) GTEST_SKIP() << "built without the CUDA and HIP backends";
  for (const Vendor& v : vendors()) {
    ScopedEnv env(v.disable_env, "1");
    tessera::Context ctx;
    for (const auto& d : ctx.devices()) EXPECT_NE(std::string(d.backend), v.name);
    bool found = false;
    for (int32_t i = 0; i < tsr_context_note_count(ctx.get()); ++i)
      found = found || std::string(tsr_context_note(ctx.get(), i)).find(v.disable_env) != std::string::npos;
    EXPECT_TRUE(found) << "no note naming " << v.disable_env;
  }
}

// One GPU backend's first device, by backend name; gpuemu comes from its
// plugin.
class GpuDevice : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    const std::vector<std::string> plugins = {TESSERA_GPUEMU_PLUGIN};
    ctx_ = std::make_unique<tessera::Context>(0, plugins);
    for (const auto& d : ctx_->devices())
      if (GetParam() == d.backend) device_ = d.name;
    if (device_.empty()) {
      std::string why = "(no note)";
      for (int32_t i = 0; i < tsr_context_note_count(ctx_->get()); ++i) {
        const std::string n = tsr_context_note(ctx_->get(), i);
        if (n.rfind(GetParam() + ":", 0) == 0) why = n;
      }
      GTEST_SKIP() << "no " << GetParam() << " device: " << why;
    }
  }
  std::unique_ptr<tessera::Context> ctx_;
  std::string device_;
};

// y = silu(rms_norm(x) * w), computed in double.
std::vector<double> reference(const std::vector<float>& x, const std::vector<float>& w, float eps) {
  double sq = 0;
  for (float v : x) sq += double(v) * v;
  const double inv = 1.0 / std::sqrt(sq / double(x.size()) + eps);
  std::vector<double> y(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    const double t = x[i] * inv * w[i];
    y[i] = t / (1.0 + std::exp(-t));
  }
  return y;
}

void replay_with_new_inputs(const tessera::Context& ctx, const std::string& device) {
  const int64_t n = 300;
  const float eps = 1e-5f;
  std::vector<float> w(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) w[static_cast<size_t>(i)] = 0.5f + 0.01f * static_cast<float>(i % 37);
  tessera::Graph g(ctx);
  auto wt = g.weight("w", TSR_DTYPE_F32, {n}, w.data(), w.size() * 4);
  auto x = g.input("x", TSR_DTYPE_F32, {n, 1});
  auto y = g.silu(g.mul(g.rms_norm(x, eps), wt));
  g.output(y);
  tessera::Model model(ctx, g, {device}, /*strict=*/true);
  for (int step = 0; step < 3; ++step) {
    std::vector<float> xv(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i)
      xv[static_cast<size_t>(i)] = static_cast<float>(std::sin(0.1 * double(i) * (step + 1)));
    model.set_input(x, xv);
    model.execute();
    const auto out = model.output<float>(y, static_cast<size_t>(n));
    const auto ref = reference(xv, w, eps);
    for (int64_t i = 0; i < n; ++i)
      ASSERT_NEAR(out[static_cast<size_t>(i)], ref[static_cast<size_t>(i)],
                  1e-5 + 1e-5 * std::abs(ref[static_cast<size_t>(i)]))
          << device << " step " << step << " element " << i;
  }
}

// Prepared subgraphs are captured into one graph (CUDA/HIP graphs; the
// emulator records and replays launches) and replayed every step.
TEST_P(GpuDevice, CapturedGraphSeesNewInputs) { replay_with_new_inputs(*ctx_, device_); }

// With TESSERA_GPU_PROFILE the launches run one by one between timing
// events, and the per-kernel table is printed at release.
TEST_P(GpuDevice, ProfileModeTimesEachKernel) {
  ScopedEnv env("TESSERA_GPU_PROFILE", "1");
  testing::internal::CaptureStderr();
  replay_with_new_inputs(*ctx_, device_);
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("[gpu profile]"), std::string::npos) << err;
  EXPECT_NE(err.find("tsr_norm"), std::string::npos) << err;
  EXPECT_NE(err.find("3 runs"), std::string::npos) << err;
}

TEST_P(GpuDevice, PropsNameTheDeviceAndItsWarpSize) {
  for (const auto& d : ctx_->devices()) {
    if (device_ != d.name) continue;
    EXPECT_GT(std::string(d.props.name).size(), 0u);
    EXPECT_NE(std::string(d.props.details).find("warp size: "), std::string::npos) << d.props.details;
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, GpuDevice, ::testing::Values("gpuemu", "cuda", "hip"));

}  // namespace
