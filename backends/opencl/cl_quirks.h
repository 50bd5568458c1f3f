// Driver quirks: everything Tessera does differently per OpenCL driver lives
// in one table (cl_quirks.cpp), keyed by platform and driver version, and
// reaches the encoders only through ComputeCaps. No other file tests a
// vendor or driver name.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tsr::cl {

struct Quirks {
  // Work-items of the matrix-vector (decode) matmul's workgroup; the default
  // suits GPUs (two 32-lane warps or one 64-lane wavefront).
  uint32_t vec_workgroup = 64;
  // Ignore cl_khr_fp16 (a driver that advertises it but computes wrongly).
  bool ignore_fp16 = false;
  // Never load or store program binaries (a driver whose binaries do not
  // survive a reload); programs are then built from source on every open.
  bool no_program_binaries = false;
  // The table rows that matched, with their reasons ("" when none).
  std::string applied;
};

// The quirks of a device of platform `platform` (CL_PLATFORM_NAME) and
// driver `driver` (CL_DRIVER_VERSION), device `device` (CL_DEVICE_NAME).
Quirks quirks_for(std::string_view platform, std::string_view device, std::string_view driver);

}  // namespace tsr::cl
