// Device memory, copies, queues (streams) and events of the GPU backends.
// Buffers come from a caching pool: a freed allocation is kept by its
// rounded size and handed to the next request it fits, so the planner's
// buffers, KV caches and scratch recycle without driver calls.
#include <algorithm>
#include <new>

#include "gpu_internal.h"
#include "tessera/kit/abi_guard.h"

namespace tsr::gpu {
namespace {

// 256-byte granules up to 1 MiB, 2 MiB granules past it: little waste for
// small buffers, few distinct sizes for large ones.
uint64_t round_size(uint64_t size) {
  const uint64_t g = size <= (1u << 20) ? 256 : (2u << 20);
  return std::max<uint64_t>(g, (size + g - 1) / g * g);
}

}  // namespace

Pool::~Pool() { trim(); }

Status Pool::alloc(uint64_t size, DevPtr* out, uint64_t* out_reserved) {
  const uint64_t want = round_size(size);
  // The smallest cached block that fits, unless it would waste half of itself.
  auto it = cached_.lower_bound(want);
  if (it != cached_.end() && it->first <= 2 * want) {
    *out = it->second;
    *out_reserved = it->first;
    in_use_ += it->first;
    cached_.erase(it);
    return Status::ok();
  }
  Status s = drv_->mem_alloc(want, out);
  if (s.code() == TSR_ERR_OUT_OF_MEMORY && !cached_.empty()) {
    trim();
    s = drv_->mem_alloc(want, out);
  }
  TSR_RETURN_IF_ERROR(s);
  *out_reserved = want;
  in_use_ += want;
  return Status::ok();
}

void Pool::free(DevPtr p, uint64_t reserved) noexcept {
  if (!p) return;
  in_use_ -= reserved;
  // Called from destructors, so it must not throw: when the cache cannot
  // grow (host memory ran out), the block goes back to the driver instead.
  try {
    cached_.emplace(reserved, p);
  } catch (const std::bad_alloc&) {
    drv_->mem_free(p);
  }
}

void Pool::trim() {
  for (const auto& [size, p] : cached_) drv_->mem_free(p);
  cached_.clear();
}

tsr_status_code buffer_alloc(tsr_bk_device device, uint64_t size, uint32_t, tsr_bk_buffer* out_buffer,
                             tsr_error* err) {
  return guarded("buffer_alloc", err, [&]() -> Status {
    if (!device || !out_buffer) return invalid_arg("[buffer_alloc] null argument");
    DeviceState& d = *impl(device)->d;
    if (size > d.info.memory_bytes && d.info.memory_bytes > 0)
      return make_error(TSR_ERR_OUT_OF_MEMORY, "[buffer_alloc] {} bytes exceed {}'s {} bytes of memory", size,
                        d.info.name, d.info.memory_bytes);
    TSR_RETURN_IF_ERROR(d.bind());
    auto b = std::make_unique<Buffer>();
    b->dev = &d;
    b->size = size;
    TSR_RETURN_IF_ERROR(d.pool->alloc(std::max<uint64_t>(size, 1), &b->ptr, &b->reserved));
    *out_buffer = handle(b.release());
    return Status::ok();
  });
}

void buffer_free(tsr_bk_buffer buffer) {
  if (!buffer) return;
  Buffer* b = impl(buffer);
  (void)b->dev->bind();
  // Queued work may still use the buffer, and the pool reuses memory at once
  // (cuMemFree would have waited): wait for the device first.
  (void)b->dev->drv->sync();
  b->dev->pool->free(b->ptr, b->reserved);
  delete b;
}

void* buffer_host_ptr(tsr_bk_buffer) { return nullptr; }

tsr_status_code buffer_write(tsr_bk_queue queue, tsr_bk_buffer buffer, uint64_t offset, const void* src,
                             uint64_t size, tsr_error* err) {
  return guarded("buffer_write", err, [&]() -> Status {
    if (!queue || !buffer) return invalid_arg("[buffer_write] null argument");
    const Buffer& b = *impl(buffer);
    TSR_RETURN_IF_ERROR(kit::check_transfer("buffer_write", b.size, offset, size, src));
    if (size == 0) return Status::ok();
    TSR_RETURN_IF_ERROR(b.dev->bind());
    return b.dev->drv->copy_h2d(b.ptr + offset, src, size, impl(queue)->s);
  });
}

tsr_status_code buffer_read(tsr_bk_queue queue, tsr_bk_buffer buffer, uint64_t offset, void* dst,
                            uint64_t size, tsr_error* err) {
  return guarded("buffer_read", err, [&]() -> Status {
    if (!queue || !buffer) return invalid_arg("[buffer_read] null argument");
    const Buffer& b = *impl(buffer);
    TSR_RETURN_IF_ERROR(kit::check_transfer("buffer_read", b.size, offset, size, dst));
    if (size == 0) return Status::ok();
    TSR_RETURN_IF_ERROR(b.dev->bind());
    return b.dev->drv->copy_d2h(dst, b.ptr + offset, size, impl(queue)->s);
  });
}

tsr_status_code queue_create(tsr_bk_device device, tsr_bk_queue* out_queue, tsr_error* err) {
  return guarded("queue_create", err, [&]() -> Status {
    if (!device || !out_queue) return invalid_arg("[queue_create] null argument");
    DeviceState& d = *impl(device)->d;
    TSR_RETURN_IF_ERROR(d.bind());
    auto q = std::make_unique<Queue>();
    q->dev = &d;
    TSR_RETURN_IF_ERROR(d.drv->stream_create(&q->s));
    *out_queue = handle(q.release());
    return Status::ok();
  });
}

void queue_destroy(tsr_bk_queue queue) {
  if (!queue) return;
  Queue* q = impl(queue);
  (void)q->dev->bind();
  (void)q->dev->drv->stream_sync(q->s);
  q->dev->drv->stream_destroy(q->s);
  delete q;
}

tsr_status_code queue_finish(tsr_bk_queue queue, tsr_error* err) {
  return guarded("queue_finish", err, [&]() -> Status {
    if (!queue) return invalid_arg("[queue_finish] null queue");
    TSR_RETURN_IF_ERROR(impl(queue)->dev->bind());
    return impl(queue)->dev->drv->stream_sync(impl(queue)->s);
  });
}

tsr_status_code event_create(tsr_bk_device device, tsr_bk_event* out_event, tsr_error* err) {
  return guarded("event_create", err, [&]() -> Status {
    if (!device || !out_event) return invalid_arg("[event_create] null argument");
    DeviceState& d = *impl(device)->d;
    TSR_RETURN_IF_ERROR(d.bind());
    auto e = std::make_unique<EventObj>();
    e->dev = &d;
    TSR_RETURN_IF_ERROR(d.drv->event_create(&e->e));
    *out_event = handle(e.release());
    return Status::ok();
  });
}

void event_destroy(tsr_bk_event event) {
  if (!event) return;
  EventObj* e = impl(event);
  (void)e->dev->bind();
  e->dev->drv->event_destroy(e->e);
  delete e;
}

tsr_status_code event_record(tsr_bk_queue queue, tsr_bk_event event, tsr_error* err) {
  return guarded("event_record", err, [&]() -> Status {
    if (!queue || !event) return invalid_arg("[event_record] null argument");
    EventObj& e = *impl(event);
    TSR_RETURN_IF_ERROR(e.dev->bind());
    TSR_RETURN_IF_ERROR(e.dev->drv->event_record(e.e, impl(queue)->s));
    e.recorded = true;
    return Status::ok();
  });
}

tsr_status_code event_wait(tsr_bk_event event, tsr_error* err) {
  return guarded("event_wait", err, [&]() -> Status {
    if (!event) return invalid_arg("[event_wait] null event");
    EventObj& e = *impl(event);
    if (!e.recorded) return Status::ok();  // nothing to wait for
    TSR_RETURN_IF_ERROR(e.dev->bind());
    return e.dev->drv->event_sync(e.e);
  });
}

}  // namespace tsr::gpu
