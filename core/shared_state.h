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
  // Copies bytes [offset, offset + size) of the named state's contiguous
  // layout out to dst / in from src, finished when they return. Fail naming
  // the state when it does not exist or the range passes its end.
  Status read(const std::string& name, uint64_t offset, void* dst, uint64_t size) const;
  Status write(const std::string& name, uint64_t offset, const void* src, uint64_t size);
  // The named state's descriptor; TSR_ERR_NOT_FOUND when there is none.
  Result<TensorDesc> desc(const std::string& name) const;
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    TensorDesc desc;
    const Device* device;
    tsr_bk_buffer buffer;
  };
  // The entry of name whose contiguous bytes include [offset, offset + size).
  Result<const Entry*> find_range(const char* op, const std::string& name, uint64_t offset,
                                  uint64_t size) const;
  // Checks the range, then runs fn(bk, queue, buffer, err) -> tsr_status_code
  // on a new queue of the state's device and finishes the queue.
  template <typename F>
  Status copy(const char* op, const std::string& name, uint64_t offset, uint64_t size, F&& fn) const;

  std::map<std::string, Entry> entries_;
};

// Writes `size` zero bytes at the start of buffer through queue.
Status zero_buffer(const tsr_backend_iface& bk, tsr_bk_queue queue, tsr_bk_buffer buffer, int64_t size,
                   const std::string& what);

}  // namespace tsr
