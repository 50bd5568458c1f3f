// Reference interpreter: runs a whole graph on the host with the ops/
// reference implementations, every tensor in a buffer of its own (no memory
// reuse, no backend). The ground truth for whole-graph tests: a compiled
// model must produce the same outputs.
#pragma once

#include <vector>

#include "core/graph.h"

namespace tsr {

class ReferenceInterpreter {
 public:
  // The graph must outlive the interpreter. States start zeroed.
  explicit ReferenceInterpreter(const Graph& g);

  Status set_input(ValueId v, const void* data, int64_t size);
  Status run(const int64_t* step_params, int32_t n_step_params);
  // Any tensor's value after run(), contiguous.
  Result<std::vector<unsigned char>> read(ValueId v) const;

 private:
  const unsigned char* root_ptr(ValueId root) const;
  const Graph& g_;
  std::vector<std::vector<unsigned char>> storage_;  // per root value
};

}  // namespace tsr
