// Objects behind the OpenCL backend's opaque handles. Internal to
// backends/opencl.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "cl_loader.h"
#include "cl_quirks.h"
#include "tessera/kit/abi_guard.h"
#include "tessera/kit/backend_glue.h"
#include "tessera/kit/shader_dispatch.h"
#include "tessera/kit/status.h"

namespace tsr::cl {

// The op encoders are the kit's shader encoders (tessera/kit/shader_dispatch.h);
// kernels/opencl holds their OpenCL C kernels.
using kit::shader::ComputeCaps;
using kit::shader::Dispatch;
using kit::shader::kSlots;
using kit::shader::kSpecConstants;
using kit::shader::SpecConstants;

// One OpenCL device as listed: its platform and what open and props read.
struct DeviceInfo {
  cl_platform_id platform = nullptr;
  cl_device_id id = nullptr;
  std::string name, vendor, platform_name, platform_version, device_version, driver_version, extensions;
  bool has_extension(std::string_view ext) const;
};

struct Instance {
  Fns fn;
  bool loaded = false;
  std::vector<DeviceInfo> devices;
  std::string note;  // why there are no devices, or which were skipped
};

struct DeviceState {
  const Fns* fn = nullptr;
  DeviceInfo info;
  Quirks quirks;
  ComputeCaps caps;
  cl_context ctx = nullptr;
  cl_command_queue queue = nullptr;
  bool profiling = false;            // TESSERA_OPENCL_PROFILE: the queue records event times
  uint64_t max_alloc = 0;            // CL_DEVICE_MAX_MEM_ALLOC_SIZE
  uint64_t global_mem = 0;           // CL_DEVICE_GLOBAL_MEM_SIZE
  uint32_t compute_units = 0;        // CL_DEVICE_MAX_COMPUTE_UNITS
  uint32_t base_align_bytes = 0;     // CL_DEVICE_MEM_BASE_ADDR_ALIGN, in bytes (sub-buffer origins)
  bool local_mem_is_global = false;  // CL_GLOBAL local memory (emulated)
  cl_mem dummy = nullptr;            // bound to unused tensor slots
  std::string cache_dir;             // program binaries ("": no cache)
  // Built programs per (kernel variant, build defines).
  std::map<std::tuple<std::string, SpecConstants>, cl_program> programs;

  ~DeviceState();
  // r == CL_SUCCESS, else an error naming the call and this device.
  Status check(cl_int r, const char* what) const;
  // The program of kernel `kernel` built with `spec` (from the binary cache,
  // else from the embedded sources).
  Result<cl_program> program(std::string_view kernel, const SpecConstants& spec);
};

struct Device {
  std::unique_ptr<DeviceState> d;
};

struct Buffer {
  DeviceState* dev = nullptr;
  cl_mem mem = nullptr;
  uint64_t size = 0;
};

struct Queue {
  DeviceState* dev = nullptr;
};

struct Event {
  DeviceState* dev = nullptr;
};

struct Prepared;
TSR_KIT_HANDLE_CASTS(Instance, Device, Buffer, Queue, Event, Prepared)

TSR_KIT_DECLARE_ENTRIES()
Status open_device(Instance* inst, int32_t index, std::unique_ptr<DeviceState>* out);
Status fill_props(const DeviceState& d, tsr_device_props* out);

// clGetDeviceInfo / clGetPlatformInfo of a string or a scalar.
std::string device_string(const Fns& fn, cl_device_id dev, cl_device_info what);
std::string platform_string(const Fns& fn, cl_platform_id p, cl_platform_info what);
template <class T>
T device_value(const Fns& fn, cl_device_id dev, cl_device_info what) {
  T v{};
  if (fn.clGetDeviceInfo(dev, what, sizeof v, &v, nullptr) != CL_SUCCESS) return T{};
  return v;
}

}  // namespace tsr::cl
