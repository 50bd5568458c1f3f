#include "core/device_alloc.h"

#include <algorithm>
#include <atomic>

namespace tsr {
namespace {

std::atomic<int64_t> g_count{0};
std::atomic<int64_t> g_fail_at{0};

// True when this allocation is the one the injector was armed for.
bool injected_failure() {
  const int64_t n = g_count.fetch_add(1, std::memory_order_relaxed) + 1;
  return n == g_fail_at.load(std::memory_order_relaxed);
}

}  // namespace

Result<tsr_bk_buffer> alloc_device_buffer(const Device& dev, int64_t size, uint32_t flags,
                                          std::string_view where, std::string_view what) {
  const uint64_t bytes = static_cast<uint64_t>(std::max<int64_t>(size, 1));
  if (injected_failure())
    return make_error(TSR_ERR_OUT_OF_MEMORY, "[{}] {}: {} ({} bytes): [buffer_alloc] injected failure", where,
                      dev.name, what, size);
  tsr_bk_buffer b = nullptr;
  tsr_error err{};
  if (dev.backend->iface().buffer_alloc(dev.handle, bytes, flags, &b, &err) != TSR_OK)
    return make_error(TSR_ERR_OUT_OF_MEMORY, "[{}] {}: {} ({} bytes): {}", where, dev.name, what, size,
                      backend_error(err, "buffer_alloc"));
  return b;
}

namespace fault {

void fail_device_alloc_at(int64_t n) {
  g_fail_at.store(n, std::memory_order_relaxed);
  g_count.store(0, std::memory_order_relaxed);
}

int64_t device_allocs() { return g_count.load(std::memory_order_relaxed); }

}  // namespace fault
}  // namespace tsr
