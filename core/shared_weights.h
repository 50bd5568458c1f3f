// Weight buffers shared between the compiled models of one context. On a
// device that cannot use host memory in place, each model used to upload its
// own copy of every weight, so an LLM whose prefill steps are compiled per
// token count held one copy of the model per step (the soak test saw 100 MB
// more device memory per new prompt length on Vulkan). Here a weight is
// uploaded once per device and counted: the models reading it take a
// reference each, the last one to go frees it.
//
// Keyed by (device, host address, size): the host memory of a weight must
// not change while a model compiled from it lives (the CPU reads it in place
// anyway).
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <tuple>

#include "core/registry.h"
#include "tessera/kit/status.h"

namespace tsr {

class SharedWeights {
 public:
  SharedWeights() = default;
  ~SharedWeights();  // frees what is left; destroy before the registry
  SharedWeights(const SharedWeights&) = delete;
  SharedWeights& operator=(const SharedWeights&) = delete;

  // The buffer on dev holding the size bytes at data, uploaded through queue
  // (not finished: the caller finishes it) by the first caller. Each success
  // takes a reference the caller gives back with release.
  Result<tsr_bk_buffer> acquire(const Device& dev, const void* data, int64_t size, const std::string& name,
                                tsr_bk_queue queue);
  void release(tsr_bk_buffer buffer);

 private:
  using Key = std::tuple<const Device*, const void*, int64_t>;
  struct Entry {
    tsr_bk_buffer buffer = nullptr;
    int64_t refs = 0;
  };
  mutable std::mutex mu_;  // compiles and model destruction may come from several threads
  std::map<Key, Entry> entries_;
  std::map<tsr_bk_buffer, Key> keys_;
};

}  // namespace tsr
