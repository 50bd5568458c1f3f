// Helpers shared by the backend tests that open real devices (Vulkan,
// OpenCL, CUDA/HIP): environment scoping, the context's notes, and the skip
// rule for a missing device.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "tessera/kit/tensor.h"
#include "tessera/tessera.hpp"

namespace tsr_test {

// Sets an environment variable for the scope of a test.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) { setenv(name, value, 1); }
  ~ScopedEnv() { unsetenv(name_); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
};

inline std::vector<std::string> notes(const tessera::Context& ctx) {
  std::vector<std::string> v;
  for (int32_t i = 0; i < tsr_context_note_count(ctx.get()); ++i)
    v.emplace_back(tsr_context_note(ctx.get(), i));
  return v;
}

inline bool has_device_of(const tessera::Context& ctx, const std::string& backend) {
  for (const auto& d : ctx.devices())
    if (backend == d.backend) return true;
  return false;
}

// True when the environment variable `name` is "1": scripts/test.sh sets
// TESSERA_REQUIRE_VULKAN and TESSERA_REQUIRE_OPENCL where CI installs
// lavapipe and PoCL, so a missing device fails instead of skipping.
inline bool env_is_1(const char* name) {
  const char* v = std::getenv(name);
  return v && std::string(v) == "1";
}

}  // namespace tsr_test

// Skips the test for a missing device (with why), or fails it when the
// environment variable require_env is 1.
#define TSR_NO_DEVICE(require_env, why)                                                    \
  do {                                                                                     \
    if (::tsr_test::env_is_1(require_env)) GTEST_FAIL() << (require_env) << "=1: " << why; \
    GTEST_SKIP() << why;                                                                   \
  } while (0)

namespace tsr_test {

// A fixture holding device 0 of one backend, opened through its ABI table,
// and a queue on it; skipped (or failed, see TSR_NO_DEVICE) without a device.
class BackendDevice : public ::testing::Test {
 protected:
  BackendDevice(const tsr_backend_iface* iface, const char* require_env)
      : b_(iface), require_env_(require_env) {}
  void SetUp() override {
    ASSERT_EQ(b_->create(nullptr, &inst_, &err_), TSR_OK) << err_.message;
    if (b_->device_count(inst_) == 0) {
      const char* why = b_->instance_note(inst_);
      TSR_NO_DEVICE(require_env_, "no " << b_->name << " device: " << (why ? why : "(no note)"));
    }
    ASSERT_EQ(b_->device_open(inst_, 0, &dev_, &err_), TSR_OK) << err_.message;
    ASSERT_EQ(b_->queue_create(dev_, &queue_, &err_), TSR_OK) << err_.message;
  }
  void TearDown() override {
    if (queue_) b_->queue_destroy(queue_);
    if (dev_) b_->device_close(dev_);
    if (inst_) b_->destroy(inst_);
  }

  // Reads and writes past a buffer's end are errors naming the range.
  void expect_transfers_outside_a_buffer_fail() {
    tsr_bk_buffer b = nullptr;
    ASSERT_EQ(b_->buffer_alloc(dev_, 256, TSR_BUFFER_ACTIVATIONS, &b, &err_), TSR_OK) << err_.message;
    std::vector<char> host(512, 7), back(256, 0);
    EXPECT_EQ(b_->buffer_write(queue_, b, 0, host.data(), 256, &err_), TSR_OK) << err_.message;
    EXPECT_EQ(b_->buffer_read(queue_, b, 0, back.data(), 256, &err_), TSR_OK) << err_.message;
    EXPECT_EQ(back, std::vector<char>(256, 7));
    EXPECT_EQ(b_->buffer_read(queue_, b, 200, host.data(), 100, &err_), TSR_ERR_INVALID_ARGUMENT);
    EXPECT_NE(
        std::string(err_.message).find("[buffer_read] 100 bytes at offset 200 exceed the 256 byte buffer"),
        std::string::npos)
        << err_.message;
    EXPECT_EQ(b_->buffer_write(queue_, b, UINT64_MAX, host.data(), 2, &err_), TSR_ERR_INVALID_ARGUMENT);
    b_->buffer_free(b);
  }

  // prepare refuses a node whose tensor runs past its buffer, naming both sizes.
  void expect_prepare_refuses_a_tensor_past_its_buffer() {
    tsr_bk_buffer b = nullptr;
    ASSERT_EQ(b_->buffer_alloc(dev_, 64, TSR_BUFFER_ACTIVATIONS, &b, &err_), TSR_OK) << err_.message;
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
    EXPECT_EQ(b_->prepare(dev_, &g, &p, &err_), TSR_ERR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(err_.message).find("spans 128 bytes, buffer has 64"), std::string::npos)
        << err_.message;
    b_->buffer_free(b);
  }

  const tsr_backend_iface* b_;
  const char* require_env_;
  tsr_bk_instance inst_ = nullptr;
  tsr_bk_device dev_ = nullptr;
  tsr_bk_queue queue_ = nullptr;
  tsr_error err_{};
};

// silu(w x) compiled once for `device` (strict: every node there), run
// `steps` times with new inputs, each checked against a double-precision
// reference: work recorded or set up once at compile time must still read
// each new input.
inline void expect_replayed_matvec_silu(const tessera::Context& ctx, const std::string& device, int steps) {
  tessera::Graph g(ctx);
  const int64_t k = 64, m = 40;
  std::vector<float> w(static_cast<size_t>(k * m));
  for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(static_cast<int>(i % 13) - 6) * 0.25f;
  auto wt = g.weight("w", TSR_DTYPE_F32, {k, m}, w.data(), w.size() * 4);
  auto x = g.input("x", TSR_DTYPE_F32, {k, 1});
  auto y = g.silu(g.matmul(wt, x));
  g.output(y);
  tessera::Model model(ctx, g, {device}, /*strict=*/true);
  for (int step = 0; step < steps; ++step) {
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

}  // namespace tsr_test
