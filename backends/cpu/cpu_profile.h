// TESSERA_CPU_PROFILE=1: per-node wall time of a prepared subgraph, summed by
// kernel label ("matmul q4_1 n=1"), printed to stderr when the subgraph is
// released, together with the time execute spent outside the kernels. This
// is how the host overhead per decoded token is measured: the LLM layer's
// step time minus the kernel time here is graph/step bookkeeping, and the gap
// between "execute" and "kernels" is this backend's own dispatch loop.
//
// Off by default; when off, execute takes no timestamps.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tessera/tessera_backend.h"

namespace tsr::cpu {

class Profile {
 public:
  // Reads TESSERA_CPU_PROFILE once per process.
  static bool enabled();

  explicit Profile(const std::vector<tsr_node_desc>& nodes);
  ~Profile();  // prints the summary if anything was recorded
  Profile(const Profile&) = delete;
  Profile& operator=(const Profile&) = delete;

  void add_node(size_t index, int64_t ns) { node_ns_[index] += ns; }
  void add_execute(int64_t ns) {
    execute_ns_ += ns;
    ++n_execute_;
  }

 private:
  std::vector<std::string> labels_;
  std::vector<int64_t> node_ns_;
  int64_t execute_ns_ = 0;
  int64_t n_execute_ = 0;
};

int64_t now_ns();

}  // namespace tsr::cpu
