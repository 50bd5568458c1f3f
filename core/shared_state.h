// States shared between compiled models of one context, by name: the KV cache
// that a prefill graph writes and a decode graph reads. The first model that
// needs a name allocates (and zeroes) its buffer on its device; later models
// declaring the same name, dtype and shape on the same device use that buffer.
#pragma once

#include <map>
#include <string>

#include "core/registry.h"
#include "tessera/kit/status.h"
#include "tessera/kit/tensor.h"

namespace tsr {

class SharedStates {
 public:
  SharedStates() = default;
  ~SharedStates();  // frees every buffer; destroy before the registry
  SharedStates(const SharedStates&) = delete;
  SharedStates& operator=(const SharedStates&) = delete;

  // The buffer of `name` on `device`, allocated and zeroed through `queue` on
  // first use. Fails when the name exists with another dtype, shape or device.
  Result<tsr_bk_buffer> acquire(const std::string& name, const TensorDesc& desc, const Device& device,
                                tsr_bk_queue queue);
  // Zeroes the named state (all of them when name is empty).
  Status reset(const std::string& name);
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    TensorDesc desc;
    const Device* device;
    tsr_bk_buffer buffer;
  };
  std::map<std::string, Entry> entries_;
};

// Writes `size` zero bytes at the start of buffer through queue.
Status zero_buffer(const tsr_backend_iface& bk, tsr_bk_queue queue, tsr_bk_buffer buffer, int64_t size,
                   const std::string& what);

}  // namespace tsr
