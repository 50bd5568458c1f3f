// The one table of OpenCL driver quirks. A row matches a device when its
// platform name contains `platform` and its driver version starts with
// `driver` ("" matches any); every matching row applies, in order. Add a row
// with the measurement or the bug behind it, never a test of a vendor name
// elsewhere.
#include "cl_quirks.h"

#include <array>
#include <string>

namespace tsr::cl {
namespace {

struct Row {
  const char* platform;
  const char* driver;
  uint32_t vec_workgroup;  // 0: keep the default
  bool ignore_fp16;
  bool no_program_binaries;
  const char* why;
};

// No driver needs a row yet. Candidates measured and left out:
//  - PoCL 3.1, matmul_vec workgroup 16 instead of 64: SmolLM2 decode wall
//    time equal (ratio 1.02, farm-bench, 7 pairs);
//  - PoCL 3.1 ran matmul_vec wrong at 32+ work-items when its padding
//    workgroups returned before the barrier: matmul_vec now never returns
//    early, on any driver (the whole-workgroup returns of norm, softmax,
//    argmax and attention pass the conformance suite on PoCL 3.1).
// A row looks like
//   {"Portable Computing Language", "3.1", 16, false, false, "pocl 3.1: ..."},
constexpr std::array<Row, 0> kRows{};

}  // namespace

Quirks quirks_for(std::string_view platform, std::string_view /*device*/, std::string_view driver) {
  Quirks q;
  for (const Row& r : kRows) {
    if (platform.find(r.platform) == std::string_view::npos) continue;
    if (!driver.starts_with(r.driver)) continue;
    if (r.vec_workgroup) q.vec_workgroup = r.vec_workgroup;
    q.ignore_fp16 = q.ignore_fp16 || r.ignore_fp16;
    q.no_program_binaries = q.no_program_binaries || r.no_program_binaries;
    q.applied += std::string(q.applied.empty() ? "" : "; ") + r.why;
  }
  return q;
}

}  // namespace tsr::cl
