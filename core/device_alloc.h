// Every device buffer core allocates (activation arenas, inputs, states,
// weights, shared state) goes through alloc_device_buffer: one place that
// turns a backend's refusal into a status naming the device, what the buffer
// is for and its size, and one place for the reliability tests to make an
// allocation fail (fault::fail_device_alloc_at) on any backend, built-in or
// plugin, without the backend's help.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/registry.h"
#include "tessera/kit/status.h"

namespace tsr {

// Allocates size bytes (at least 1) with TSR_BUFFER_* flags on dev.
// TSR_ERR_OUT_OF_MEMORY on failure: "[where] cpu:0: what (N bytes): backend message".
Result<tsr_bk_buffer> alloc_device_buffer(const Device& dev, int64_t size, uint32_t flags,
                                          std::string_view where, std::string_view what);

namespace fault {
// Test hooks (not part of the public API). Arms the injector: the nth device
// allocation from now on (1-based, counted across threads) fails as if the
// backend had run out of memory; 0 disarms. Counting restarts at each call.
void fail_device_alloc_at(int64_t n);
// Device allocations requested since the last fail_device_alloc_at call.
int64_t device_allocs();
}  // namespace fault

}  // namespace tsr
