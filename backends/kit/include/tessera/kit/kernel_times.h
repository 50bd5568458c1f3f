// Per-kernel device times of one prepared subgraph, for the GPU backends'
// profiling modes (TESSERA_VULKAN_PROFILE, TESSERA_GPU_PROFILE): summed by
// kernel name over runs and printed to stderr, slowest first.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace tsr {

class KernelTimes {
 public:
  void add(std::string_view kernel, double ns);
  void end_run() { ++runs_; }
  bool empty() const { return by_kernel_.empty(); }
  // "[<tag> profile] <device>: <launches> <what>, <runs> runs, <ms> ms per run"
  // then one line per kernel. Prints nothing when nothing was recorded.
  void print(const char* tag, const std::string& device, size_t launches, const char* what) const;

 private:
  struct Entry {
    uint64_t calls = 0;
    double ns = 0;
  };
  std::map<std::string, Entry, std::less<>> by_kernel_;
  uint64_t runs_ = 0;
};

}  // namespace tsr
