// The OpenCL backend through its ABI table and through the C API: graceful
// absence of a loader, device properties, bounds checks, kernels replayed
// with new inputs, the program binary cache (written, reused, and rebuilt
// when corrupt) and a failing kernel build reported with its build log.
// Tests that need a device skip (with the reason) where none is present.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "backends/opencl/cl_backend.h"
#include "tessera/kit/tensor.h"
#include "tessera/tessera.hpp"
#include "tests/backends/device_test_util.h"

namespace {

namespace fs = std::filesystem;

const tsr_backend_iface* cl() { return tsr_opencl_backend_iface(); }

using tsr_test::notes;
using tsr_test::ScopedEnv;

bool has_opencl_device(const tessera::Context& ctx) { return tsr_test::has_device_of(ctx, "opencl"); }
#define TSR_NO_OPENCL_DEVICE(why) TSR_NO_DEVICE("TESSERA_REQUIRE_OPENCL", why)

TEST(OpenclBackend, MissingLoaderListsNoDevicesAndSaysWhy) {
  ScopedEnv env("TESSERA_OPENCL_LOADER", "/nonexistent/libOpenCL.so.1");
  tessera::Context ctx;  // creating the context must not fail
  EXPECT_FALSE(has_opencl_device(ctx));
  bool found = false;
  for (const auto& n : notes(ctx))
    if (n.rfind("opencl: no devices (no OpenCL ICD loader", 0) == 0)
      found = n.find("/nonexistent/") != std::string::npos;
  EXPECT_TRUE(found) << "no note naming the missing loader";
  int32_t index = -1;
  EXPECT_NE(tsr_device_find(ctx.get(), "opencl:0", &index), TSR_OK);
  EXPECT_NE(std::string(tsr_last_error()).find("opencl"), std::string::npos) << tsr_last_error();
}

TEST(OpenclBackend, DisabledByEnvironment) {
  ScopedEnv env("TESSERA_OPENCL_DISABLE", "1");
  tessera::Context ctx;
  EXPECT_FALSE(has_opencl_device(ctx));
  bool found = false;
  for (const auto& n : notes(ctx)) found = found || n.find("TESSERA_OPENCL_DISABLE") != std::string::npos;
  EXPECT_TRUE(found);
}

class OpenclDevice : public tsr_test::BackendDevice {
 protected:
  OpenclDevice() : BackendDevice(cl(), "TESSERA_REQUIRE_OPENCL") {}
};

TEST_F(OpenclDevice, PropsListPlatformAndFeatures) {
  tsr_device_props p{};
  p.struct_size = sizeof p;
  ASSERT_EQ(cl()->device_props(dev_, &p, &err_), TSR_OK) << err_.message;
  EXPECT_GT(std::strlen(p.name), 0u);
  EXPECT_GT(p.memory_bytes, 0u);
  EXPECT_EQ(std::string(p.driver).rfind("OpenCL ", 0), 0u) << p.driver;
  const std::string details = p.details;
  for (const char* key : {"platform: ", "compute units: ", "local memory: ", "subgroups: ",
                          "fp16 arithmetic: ", "sub-buffer alignment: ", "program cache: "})
    EXPECT_NE(details.find(key), std::string::npos) << key << " missing from: " << details;
}

TEST_F(OpenclDevice, TransfersOutsideABufferAreErrors) { expect_transfers_outside_a_buffer_fail(); }

TEST_F(OpenclDevice, BufferPastTheDeviceLimitIsRefusedWithTheLimit) {
  tsr_bk_buffer b = nullptr;
  EXPECT_EQ(cl()->buffer_alloc(dev_, uint64_t{1} << 60, TSR_BUFFER_WEIGHTS, &b, &err_),
            TSR_ERR_OUT_OF_MEMORY);
  EXPECT_EQ(b, nullptr);
  EXPECT_NE(std::string(err_.message).find("CL_DEVICE_MAX_MEM_ALLOC_SIZE"), std::string::npos)
      << err_.message;
}

TEST_F(OpenclDevice, PrepareRefusesATensorPastItsBuffer) {
  expect_prepare_refuses_a_tensor_past_its_buffer();
}

void run_matvec_silu(int steps) {
  tessera::Context ctx;
  if (!has_opencl_device(ctx)) TSR_NO_OPENCL_DEVICE("no OpenCL device");
  tsr_test::expect_replayed_matvec_silu(ctx, "opencl", steps);
}

TEST(OpenclModel, ReplayedKernelsSeeNewInputs) { run_matvec_silu(3); }

std::vector<fs::path> cache_files(const fs::path& dir) {
  std::vector<fs::path> v;
  if (fs::exists(dir))
    for (const auto& e : fs::directory_iterator(dir))
      if (e.path().extension() == ".bin") v.push_back(e.path());
  return v;
}

std::string read_all(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

// The first run writes one binary per program; a cache whose files are
// garbage, or whose binaries the driver cannot load, is rebuilt from source
// (and rewritten), never used and never an error.
TEST(OpenclModel, ProgramCacheIsWrittenAndCorruptEntriesAreRebuilt) {
  const fs::path dir = fs::temp_directory_path() / ("tessera-opencl-cache-test-" + std::to_string(getpid()));
  fs::remove_all(dir);
  ScopedEnv env("TESSERA_OPENCL_CACHE", dir.c_str());
  run_matvec_silu(1);
  if (HasFatalFailure() || IsSkipped()) return;
  const auto files = cache_files(dir);
  ASSERT_GE(files.size(), 2u) << "matmul and silu programs expected in " << dir;
  const std::string good = read_all(files[0]);
  ASSERT_EQ(good.rfind("tessera-opencl-binary 2\n", 0), 0u);
  // Wrong header on one file; on the rest the right header and size line with
  // a garbage binary, which the driver must refuse.
  const size_t header = good.find('\n', good.find('\n') + 1) + 1;
  for (size_t i = 0; i < files.size(); ++i) {
    std::ofstream f(files[i], std::ios::binary | std::ios::trunc);
    if (i == 0)
      f << "not a tessera cache file";
    else
      f << good.substr(0, header) << "64\n" << std::string(64, '\x5a');
  }
  run_matvec_silu(2);
  if (HasFatalFailure()) return;
  for (const auto& f : cache_files(dir))
    EXPECT_EQ(read_all(f).rfind("tessera-opencl-binary 2\n", 0), 0u) << f << " was not rewritten";
  fs::remove_all(dir);
}

// A kernel that does not compile is refused in supports_op with the kernel's
// name and the build log's error lines: the node falls back to the CPU (the
// placement says why), or a strict compile fails with that reason.
TEST(OpenclModel, KernelBuildFailureFallsBackWithTheBuildLog) {
  ScopedEnv cache("TESSERA_OPENCL_CACHE", "off");
  ScopedEnv broken("TESSERA_OPENCL_BUILD_OPTIONS", "-Dget_group_id=(");
  tessera::Context ctx;
  if (!has_opencl_device(ctx)) TSR_NO_OPENCL_DEVICE("no OpenCL device");
  tessera::Graph g(ctx);
  auto x = g.input("x", TSR_DTYPE_F32, {16, 1});
  auto y = g.silu(x);
  g.output(y);
  {
    tessera::Model model(ctx, g, {"opencl"});
    const std::string placement = model.placement();
    EXPECT_NE(placement.find("(fallback: opencl:0 said '[opencl] building kernel 'elementwise'"),
              std::string::npos)
        << placement;
    EXPECT_NE(placement.find("CL_BUILD_PROGRAM_FAILURE); build log:"), std::string::npos) << placement;
    EXPECT_NE(placement.find("error"), std::string::npos) << placement;
    std::vector<float> xs(16, 1.0f);
    model.set_input(x, xs);
    model.execute();
    EXPECT_NEAR(model.output<float>(y, 16)[0], 1.0 / (1.0 + std::exp(-1.0)), 1e-6);  // on the CPU
  }
  try {
    tessera::Model model(ctx, g, {"opencl"}, /*strict=*/true);
    FAIL() << "strict compile succeeded with a broken kernel";
  } catch (const tessera::Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("building kernel 'elementwise'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("strict mode forbids fallback"), std::string::npos) << msg;
  }
}

}  // namespace
