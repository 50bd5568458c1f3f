#include "core/shared_weights.h"

#include "core/device_alloc.h"

namespace tsr {

SharedWeights::~SharedWeights() {
  for (auto& [key, e] : entries_) std::get<0>(key)->backend->iface().buffer_free(e.buffer);
}

Result<tsr_bk_buffer> SharedWeights::acquire(const Device& dev, const void* data, int64_t size,
                                             const std::string& name, tsr_bk_queue queue) {
  std::lock_guard lock(mu_);
  const Key key{&dev, data, size};
  if (auto it = entries_.find(key); it != entries_.end()) {
    ++it->second.refs;
    return it->second.buffer;
  }
  auto b = alloc_device_buffer(dev, size, TSR_BUFFER_WEIGHTS, "compile", "weight '" + name + "'");
  if (!b.is_ok()) return b.status();
  const tsr_backend_iface& bk = dev.backend->iface();
  tsr_error err{};
  if (bk.buffer_write(queue, b.value(), 0, data, static_cast<uint64_t>(size), &err) != TSR_OK) {
    bk.buffer_free(b.value());
    return make_error(TSR_ERR_DEVICE, "[compile] {}: uploading weight '{}': {}", dev.name, name,
                      backend_error(err, "buffer_write"));
  }
  try {
    keys_.emplace(b.value(), key);
    entries_.emplace(key, Entry{b.value(), 1});
  } catch (...) {  // out of host memory: leave neither map pointing at a freed buffer
    keys_.erase(b.value());
    bk.buffer_free(b.value());
    throw;
  }
  return b.value();
}

void SharedWeights::release(tsr_bk_buffer buffer) {
  std::lock_guard lock(mu_);
  auto k = keys_.find(buffer);
  if (k == keys_.end()) return;
  auto e = entries_.find(k->second);
  if (--e->second.refs > 0) return;
  std::get<0>(e->first)->backend->iface().buffer_free(buffer);
  entries_.erase(e);
  keys_.erase(k);
}

}  // namespace tsr
