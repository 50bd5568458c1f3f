// Buffers are plain 64-byte aligned host memory; reads and writes are memcpy
// (queues are synchronous). Wrapped host memory is used in place.
#include <unistd.h>

#include <cstdlib>

#include "cpu_internal.h"
#include "tessera/kit/backend_glue.h"

namespace tsr::cpu {

uint64_t host_memory_bytes() {
  static const uint64_t bytes = [] {
    const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    return pages > 0 && page > 0 ? static_cast<uint64_t>(pages) * static_cast<uint64_t>(page) : uint64_t{0};
  }();
  return bytes;
}

char* aligned_alloc64(uint64_t size) {
  // aligned_alloc needs a size that is a multiple of the alignment; 0 bytes
  // still gets a valid, distinct pointer.
  const uint64_t rounded = (size + 63) & ~uint64_t{63};
  if (rounded < size) return nullptr;
  // More than the host has cannot succeed, and asking is not harmless: a
  // sanitizer's allocator ends the process on such a request (AddressSanitizer
  // above 1 TiB) instead of returning null, so a user's huge tensor would
  // abort the program instead of failing its compile (found by fuzz_graph_api).
  const uint64_t host = host_memory_bytes();
  if (host != 0 && rounded > host) return nullptr;
  return static_cast<char*>(std::aligned_alloc(64, rounded ? rounded : 64));
}

void aligned_free64(void* p) { std::free(p); }

tsr_status_code buffer_alloc(tsr_bk_device device, uint64_t size, uint32_t flags, tsr_bk_buffer* out_buffer,
                             tsr_error* err) {
  return guarded("buffer_alloc", err, [&]() -> Status {
    if (!device || !out_buffer) return invalid_arg("[buffer_alloc] null argument");
    char* data = aligned_alloc64(size);
    if (!data)
      return make_error(TSR_ERR_OUT_OF_MEMORY,
                        "[buffer_alloc] {} bytes: host allocation failed (the host has {} bytes)", size,
                        host_memory_bytes());
    auto* b = new (std::nothrow) tsr_bk_buffer_s{device, data, size, true};
    if (!b) {
      aligned_free64(data);
      return make_error(TSR_ERR_OUT_OF_MEMORY, "[buffer_alloc] out of host memory");
    }
    *out_buffer = b;
    return Status::ok();
  });
}

tsr_status_code buffer_wrap_host(tsr_bk_device device, void* host, uint64_t size, tsr_bk_buffer* out_buffer,
                                 tsr_error* err) {
  return guarded("buffer_wrap_host", err, [&]() -> Status {
    if (!device || !out_buffer) return invalid_arg("[buffer_wrap_host] null argument");
    if (!host && size != 0) return invalid_arg("[buffer_wrap_host] null host pointer for {} bytes", size);
    *out_buffer = new tsr_bk_buffer_s{device, static_cast<char*>(host), size, false};
    return Status::ok();
  });
}

void buffer_free(tsr_bk_buffer buffer) {
  if (!buffer) return;
  if (buffer->owned) aligned_free64(buffer->data);
  delete buffer;
}

void* buffer_host_ptr(tsr_bk_buffer buffer) { return buffer ? buffer->data : nullptr; }

tsr_status_code buffer_write(tsr_bk_queue queue, tsr_bk_buffer buffer, uint64_t offset, const void* src,
                             uint64_t size, tsr_error* err) {
  return guarded("buffer_write", err, [&]() -> Status {
    if (!buffer) return invalid_arg("[buffer_write] null buffer");
    TSR_RETURN_IF_ERROR(kit::check_transfer("buffer_write", buffer->size, offset, size, src));
    if (size) std::memcpy(buffer->data + offset, src, size);
    return Status::ok();
  });
}

tsr_status_code buffer_read(tsr_bk_queue queue, tsr_bk_buffer buffer, uint64_t offset, void* dst,
                            uint64_t size, tsr_error* err) {
  return guarded("buffer_read", err, [&]() -> Status {
    if (!buffer) return invalid_arg("[buffer_read] null buffer");
    TSR_RETURN_IF_ERROR(kit::check_transfer("buffer_read", buffer->size, offset, size, dst));
    if (size) std::memcpy(dst, buffer->data + offset, size);
    return Status::ok();
  });
}

}  // namespace tsr::cpu
