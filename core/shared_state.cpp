#include "core/shared_state.h"

#include <algorithm>
#include <vector>

#include "core/device_alloc.h"

namespace tsr {
namespace {

// A queue destroyed on every way out, exceptions (out of host memory) included.
struct ScopedQueue {
  const tsr_backend_iface& bk;
  tsr_bk_queue q = nullptr;
  ~ScopedQueue() {
    if (q) bk.queue_destroy(q);
  }
};

}  // namespace

Status zero_buffer(const tsr_backend_iface& bk, tsr_bk_queue queue, tsr_bk_buffer buffer, int64_t size,
                   const std::string& what) {
  static const std::vector<unsigned char> zeros(1 << 20, 0);
  tsr_error err{};
  for (int64_t off = 0; off < size; off += static_cast<int64_t>(zeros.size())) {
    const uint64_t chunk = std::min<uint64_t>(zeros.size(), static_cast<uint64_t>(size - off));
    if (bk.buffer_write(queue, buffer, static_cast<uint64_t>(off), zeros.data(), chunk, &err) != TSR_OK)
      return make_error(TSR_ERR_DEVICE, "[state] zeroing {}: {}", what, backend_error(err, "buffer_write"));
  }
  if (bk.queue_finish(queue, &err) != TSR_OK)
    return make_error(TSR_ERR_DEVICE, "[state] zeroing {}: {}", what, backend_error(err, "queue_finish"));
  return {};
}

SharedStates::~SharedStates() {
  for (auto& [name, e] : entries_) e.device->backend->iface().buffer_free(e.buffer);
}

Result<tsr_bk_buffer> SharedStates::acquire(const std::string& name, const TensorDesc& desc,
                                            const Device& device, tsr_bk_queue queue) {
  auto it = entries_.find(name);
  if (it != entries_.end()) {
    const Entry& e = it->second;
    if (e.desc.dtype != desc.dtype || !same_shape(e.desc, desc))
      return invalid_arg("[state] shared state '{}' is {}, this graph declares {}", name, desc_str(e.desc),
                         desc_str(desc));
    if (e.device != &device)
      return make_error(TSR_ERR_UNSUPPORTED,
                        "[state] shared state '{}' lives on {}, this graph needs it on {}", name,
                        e.device->name, device.name);
    return e.buffer;
  }
  const tsr_backend_iface& bk = device.backend->iface();
  const int64_t size = n_bytes_contiguous(desc);
  auto alloc = alloc_device_buffer(device, size, TSR_BUFFER_KV | TSR_BUFFER_HOST_VISIBLE, "state",
                                   "shared state '" + name + "'");
  if (!alloc.is_ok()) return alloc.status();
  tsr_bk_buffer b = alloc.value();
  try {
    Status z = zero_buffer(bk, queue, b, size, "shared state '" + name + "'");
    if (!z.is_ok()) {
      bk.buffer_free(b);
      return z;
    }
    entries_.emplace(name, Entry{desc, &device, b});
  } catch (...) {  // out of host memory: the buffer would belong to nobody
    bk.buffer_free(b);
    throw;
  }
  return b;
}

Result<TensorDesc> SharedStates::desc(const std::string& name) const {
  auto it = entries_.find(name);
  if (it == entries_.end()) return make_error(TSR_ERR_NOT_FOUND, "[state] no shared state named '{}'", name);
  return it->second.desc;
}

Result<const SharedStates::Entry*> SharedStates::find_range(const char* op, const std::string& name,
                                                            uint64_t offset, uint64_t size) const {
  auto it = entries_.find(name);
  if (it == entries_.end())
    return make_error(TSR_ERR_NOT_FOUND, "[state] {} '{}': no shared state of that name", op, name);
  const uint64_t bytes = static_cast<uint64_t>(n_bytes_contiguous(it->second.desc));
  if (offset > bytes || size > bytes - offset)
    return invalid_arg("[state] {} '{}': {} bytes at offset {} pass the end of its {} bytes ({})", op, name,
                       size, offset, bytes, desc_str(it->second.desc));
  return &it->second;
}

template <typename F>
Status SharedStates::copy(const char* op, const std::string& name, uint64_t offset, uint64_t size,
                          F&& fn) const {
  Result<const Entry*> found = find_range(op, name, offset, size);
  if (!found.is_ok()) return found.status();
  if (size == 0) return {};
  const Entry& e = *found.value();
  const tsr_backend_iface& bk = e.device->backend->iface();
  ScopedQueue sq{bk};
  tsr_error err{};
  if (bk.queue_create(e.device->handle, &sq.q, &err) != TSR_OK)
    return make_error(TSR_ERR_DEVICE, "[state] {} '{}': {}", op, name, backend_error(err, "queue_create"));
  if (fn(bk, sq.q, e.buffer, &err) != TSR_OK)
    return make_error(TSR_ERR_DEVICE, "[state] {} '{}': {}", op, name, backend_error(err, op));
  if (bk.queue_finish(sq.q, &err) != TSR_OK)
    return make_error(TSR_ERR_DEVICE, "[state] {} '{}': {}", op, name, backend_error(err, "queue_finish"));
  return {};
}

Status SharedStates::read(const std::string& name, uint64_t offset, void* dst, uint64_t size) const {
  return copy("read", name, offset, size,
              [&](const tsr_backend_iface& bk, tsr_bk_queue q, tsr_bk_buffer b, tsr_error* err) {
                return bk.buffer_read(q, b, offset, dst, size, err);
              });
}

Status SharedStates::write(const std::string& name, uint64_t offset, const void* src, uint64_t size) {
  return copy("write", name, offset, size,
              [&](const tsr_backend_iface& bk, tsr_bk_queue q, tsr_bk_buffer b, tsr_error* err) {
                return bk.buffer_write(q, b, offset, src, size, err);
              });
}

Status SharedStates::reset(const std::string& name) {
  for (auto& [n, e] : entries_) {
    if (!name.empty() && n != name) continue;
    const tsr_backend_iface& bk = e.device->backend->iface();
    ScopedQueue sq{bk};
    tsr_error err{};
    if (bk.queue_create(e.device->handle, &sq.q, &err) != TSR_OK)
      return make_error(TSR_ERR_DEVICE, "[state] reset '{}': {}", n, backend_error(err, "queue_create"));
    TSR_RETURN_IF_ERROR(
        zero_buffer(bk, sq.q, e.buffer, n_bytes_contiguous(e.desc), "shared state '" + n + "'"));
    if (!name.empty()) return {};
  }
  if (!name.empty()) return make_error(TSR_ERR_NOT_FOUND, "[state] no shared state named '{}'", name);
  return {};
}

}  // namespace tsr
