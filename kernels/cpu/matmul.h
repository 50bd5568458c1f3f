// Internal to the matmul family: shape bookkeeping shared by the own kernels
// (matmul.cpp) and the oneDNN path (matmul_onednn.cpp).
#pragma once

#include "cpu/kernels.h"

namespace tsr::cpu {

struct MatmulShape {
  int64_t K, M, N, B2, B3, B2w, B3w;
  static MatmulShape of(const tsr_node_desc& n) {
    const auto& w = n.inputs[0];
    const auto& x = n.inputs[1];
    return {w.ne[0], w.ne[1], x.ne[1], x.ne[2], x.ne[3], w.ne[2], w.ne[3]};
  }
  int64_t x_rows() const { return N * B2 * B3; }
};

// Converts every row of x (any float dtype, any strides) to contiguous f32 at
// dst ([K, N, B2, B3]), in parallel.
void matmul_convert_x(const NodePlan& p, ThreadPool& pool, float* dst);

// Tries to run the node through oneDNN: on success sets p.run/p.bind/p.state
// and the scratch it needs and returns true. False when oneDNN is not built
// in, or has no fast implementation for these dtypes/layouts.
bool matmul_plan_onednn(NodePlan& p);
// Before a oneDNN call on this thread: at most the pool's thread count of
// OpenMP threads, and the pool's idle workers asleep so that they do not
// hold the cores oneDNN's team needs (matmul_onednn.cpp).
void onednn_before_call(ThreadPool& pool);

}  // namespace tsr::cpu
