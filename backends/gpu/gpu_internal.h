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
  void free(DevPtr p, uint64_t reserved);
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

// The ABI's opaque handles are these types, in this namespace (not as the
// global tsr_bk_*_s structs) so backends linked into one library never
// define the same type twice.
inline Instance* impl(tsr_bk_instance h) { return reinterpret_cast<Instance*>(h); }
inline Device* impl(tsr_bk_device h) { return reinterpret_cast<Device*>(h); }
inline Buffer* impl(tsr_bk_buffer h) { return reinterpret_cast<Buffer*>(h); }
inline Queue* impl(tsr_bk_queue h) { return reinterpret_cast<Queue*>(h); }
inline EventObj* impl(tsr_bk_event h) { return reinterpret_cast<EventObj*>(h); }
inline Prepared* impl(tsr_bk_prepared h) { return reinterpret_cast<Prepared*>(h); }
inline tsr_bk_instance handle(Instance* p) { return reinterpret_cast<tsr_bk_instance>(p); }
inline tsr_bk_device handle(Device* p) { return reinterpret_cast<tsr_bk_device>(p); }
inline tsr_bk_buffer handle(Buffer* p) { return reinterpret_cast<tsr_bk_buffer>(p); }
inline tsr_bk_queue handle(Queue* p) { return reinterpret_cast<tsr_bk_queue>(p); }
inline tsr_bk_event handle(EventObj* p) { return reinterpret_cast<tsr_bk_event>(p); }
inline tsr_bk_prepared handle(Prepared* p) { return reinterpret_cast<tsr_bk_prepared>(p); }

// gpu_memory.cpp
tsr_status_code buffer_alloc(tsr_bk_device device, uint64_t size, uint32_t flags, tsr_bk_buffer* out_buffer,
                             tsr_error* err);
void buffer_free(tsr_bk_buffer buffer);
void* buffer_host_ptr(tsr_bk_buffer buffer);
tsr_status_code buffer_write(tsr_bk_queue queue, tsr_bk_buffer buffer, uint64_t offset, const void* src,
                             uint64_t size, tsr_error* err);
tsr_status_code buffer_read(tsr_bk_queue queue, tsr_bk_buffer buffer, uint64_t offset, void* dst,
                            uint64_t size, tsr_error* err);
tsr_status_code queue_create(tsr_bk_device device, tsr_bk_queue* out_queue, tsr_error* err);
void queue_destroy(tsr_bk_queue queue);
tsr_status_code queue_finish(tsr_bk_queue queue, tsr_error* err);
tsr_status_code event_create(tsr_bk_device device, tsr_bk_event* out_event, tsr_error* err);
void event_destroy(tsr_bk_event event);
tsr_status_code event_record(tsr_bk_queue queue, tsr_bk_event event, tsr_error* err);
tsr_status_code event_wait(tsr_bk_event event, tsr_error* err);

// gpu_prepare.cpp
int32_t supports_op(tsr_bk_device device, const tsr_node_desc* node, char* reason, size_t reason_len);
tsr_status_code prepare(tsr_bk_device device, const tsr_subgraph* graph, tsr_bk_prepared* out_prepared,
                        tsr_error* err);
tsr_status_code execute(tsr_bk_prepared prepared, tsr_bk_queue queue, const tsr_step_params* params,
                        tsr_error* err);
void release_prepared(tsr_bk_prepared prepared);

}  // namespace tsr::gpu
