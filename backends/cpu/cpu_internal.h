// Objects behind the CPU backend's opaque handles and the entry points of
// the glue files. Internal to backends/cpu.
#pragma once

#include <cstdio>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "cpu/kernels.h"
#include "cpu/thread_pool.h"
#include "cpu_profile.h"
#include "tessera/kit/abi_guard.h"
#include "tessera/kit/status.h"
#include "tessera/tessera_backend.h"

struct tsr_bk_instance_s {
  std::unique_ptr<tsr::cpu::ThreadPool> pool;
  tsr::cpu::KernelContext kctx;
  ~tsr_bk_instance_s();
};

struct tsr_bk_device_s {
  tsr_bk_instance_s* instance = nullptr;
};

struct tsr_bk_buffer_s {
  tsr_bk_device_s* device = nullptr;
  char* data = nullptr;
  uint64_t size = 0;
  bool owned = true;  // false for buffer_wrap_host
};

struct tsr_bk_queue_s {
  tsr_bk_device_s* device = nullptr;
};

struct tsr_bk_event_s {
  tsr_bk_device_s* device = nullptr;
};

struct tsr_bk_prepared_s {
  tsr_bk_device_s* device = nullptr;
  std::vector<tsr::cpu::NodePlan> plans;
  char* scratch = nullptr;                     // 64-byte aligned arena shared by the nodes
  std::unique_ptr<tsr::cpu::Profile> profile;  // TESSERA_CPU_PROFILE only
  ~tsr_bk_prepared_s();
};

namespace tsr::cpu {

// The host's physical memory in bytes (0 when unknown): the device's
// memory_bytes, and the most aligned_alloc64 asks for.
uint64_t host_memory_bytes();
// 64-byte aligned host allocation; nullptr on failure, and for more bytes
// than the host has.
char* aligned_alloc64(uint64_t size);
void aligned_free64(void* p);

// Entry points implemented in the glue files, wired into the table in cpu_backend.cpp.
tsr_status_code buffer_alloc(tsr_bk_device device, uint64_t size, uint32_t flags, tsr_bk_buffer* out_buffer,
                             tsr_error* err);
void buffer_free(tsr_bk_buffer buffer);
void* buffer_host_ptr(tsr_bk_buffer buffer);
tsr_status_code buffer_write(tsr_bk_queue queue, tsr_bk_buffer buffer, uint64_t offset, const void* src,
                             uint64_t size, tsr_error* err);
tsr_status_code buffer_read(tsr_bk_queue queue, tsr_bk_buffer buffer, uint64_t offset, void* dst,
                            uint64_t size, tsr_error* err);
tsr_status_code buffer_wrap_host(tsr_bk_device device, void* host, uint64_t size, tsr_bk_buffer* out_buffer,
                                 tsr_error* err);

tsr_status_code queue_create(tsr_bk_device device, tsr_bk_queue* out_queue, tsr_error* err);
void queue_destroy(tsr_bk_queue queue);
tsr_status_code queue_finish(tsr_bk_queue queue, tsr_error* err);
tsr_status_code event_create(tsr_bk_device device, tsr_bk_event* out_event, tsr_error* err);
void event_destroy(tsr_bk_event event);
tsr_status_code event_record(tsr_bk_queue queue, tsr_bk_event event, tsr_error* err);
tsr_status_code event_wait(tsr_bk_event event, tsr_error* err);

int32_t supports_op(tsr_bk_device device, const tsr_node_desc* node, char* reason, size_t reason_len);
tsr_status_code prepare(tsr_bk_device device, const tsr_subgraph* graph, tsr_bk_prepared* out_prepared,
                        tsr_error* err);
tsr_status_code execute(tsr_bk_prepared prepared, tsr_bk_queue queue, const tsr_step_params* params,
                        tsr_error* err);
void release_prepared(tsr_bk_prepared prepared);

}  // namespace tsr::cpu
