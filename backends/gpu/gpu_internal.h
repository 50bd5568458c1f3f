// Objects behind the GPU backends' opaque handles, shared by CUDA, HIP and
// the emulator. Internal to backends/gpu.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gpu_driver.h"
#include "gpu_ops.h"
#include "tessera/kit/backend_glue.h"
#include "tessera/kit/status.h"
#include "tessera/tessera_backend.h"

namespace tsr::gpu {

struct Instance {
  std::unique_ptr<Driver> drv;
  std::string backend;  // "cuda", "hip", "gpuemu"
  std::string note;     // why there are no devices
};

// Caches freed device allocations by size, so the planner's buffers and the
// backend's scratch are reused without a driver call.
class Pool {
 public:
  explicit Pool(Driver* drv) : drv_(drv) {}
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;
  // *out_reserved is the size actually held (the rounding of size).
  Status alloc(uint64_t size, DevPtr* out, uint64_t* out_reserved);
  void free(DevPtr p, uint64_t reserved) noexcept;
  void trim();  // returns cached blocks to the driver
  uint64_t bytes_in_use() const { return in_use_; }

 private:
  Driver* drv_;
  std::multimap<uint64_t, DevPtr> cached_;  // reserved size -> address
  uint64_t in_use_ = 0;
};

struct DeviceState {
  Instance* inst = nullptr;
  Driver* drv = nullptr;
  int index = 0;
  DeviceInfo info;
  Caps caps;
  std::unique_ptr<Pool> pool;
  std::map<std::string, Function, std::less<>> functions;
  Stream capture = nullptr;  // private stream prepared subgraphs are captured on

  ~DeviceState();
  Status bind() const { return drv->bind(index); }
  Result<Function> function(std::string_view name);
};

struct Device {
  std::unique_ptr<DeviceState> d;
};

struct Buffer {
  DeviceState* dev = nullptr;
  DevPtr ptr = 0;
  uint64_t size = 0;
  uint64_t reserved = 0;
};

struct Queue {
  DeviceState* dev = nullptr;
  Stream s = nullptr;
};

struct EventObj {
  DeviceState* dev = nullptr;
  Event e = nullptr;
  bool recorded = false;
};

struct Prepared;

TSR_KIT_HANDLE_CASTS(Instance, Device, Buffer, Queue, EventObj, Prepared)

// gpu_memory.cpp (memory entries), gpu_prepare.cpp (graph entries)
TSR_KIT_DECLARE_ENTRIES()

}  // namespace tsr::gpu
