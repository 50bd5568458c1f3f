// Helpers shared by the backend tests that open real devices (Vulkan,
// OpenCL, CUDA/HIP): environment scoping, the context's notes, and the skip
// rule for a missing device.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

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
#define TSR_NO_DEVICE(require_env, why)                                               \
  do {                                                                                \
    if (::tsr_test::env_is_1(require_env)) GTEST_FAIL() << require_env "=1: " << why; \
    GTEST_SKIP() << why;                                                              \
  } while (0)
