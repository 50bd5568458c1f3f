// One CPU kernel node planned and run the way the backend does it (plan_node,
// one scratch arena, run), on buffers owned here and filled with small
// deterministic values. Lets a microbenchmark time a whole node: its thread
// fork-join, activation quantization and all.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "kernels/cpu/kernels.h"
#include "kernels/cpu/thread_pool.h"

namespace tsr::cpu::bench {

// Contiguous desc of dtype with dims ne (innermost first).
tsr_tensor_desc desc(int32_t dtype, std::initializer_list<int64_t> ne);

class NodeRunner {
 public:
  // Aborts the benchmark binary (it is not library code) when the node is
  // unsupported or fails to plan, printing why.
  NodeRunner(int32_t op, std::vector<tsr_tensor_desc> inputs, tsr_tensor_desc output, tsr_op_params params,
             int n_threads);
  ~NodeRunner();
  // Runs the planned node once with the given step values.
  void run(std::vector<int64_t> step = {});
  // Bytes of the input and output tensors.
  int64_t io_bytes() const;

 private:
  std::unique_ptr<ThreadPool> pool_;
  KernelContext kctx_;
  NodePlan plan_;
  std::vector<std::vector<char>> bufs_;
  char* scratch_ = nullptr;
};

}  // namespace tsr::cpu::bench
