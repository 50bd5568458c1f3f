// Helpers shared by the GPU op encoders.
#include "gpu_ops.h"

namespace tsr::gpu {

Dim3 flat_grid(uint64_t n_blocks) {
  // x times the block size must stay within 32 bits (HIP refuses more);
  // 2^22 - 1 blocks of up to 1024 threads do.
  constexpr uint64_t kMaxX = (1u << 22) - 1;
  if (n_blocks <= kMaxX) return {static_cast<uint32_t>(n_blocks), 1, 1};
  return {static_cast<uint32_t>(kMaxX), static_cast<uint32_t>(ceil_div(n_blocks, kMaxX)), 1};
}

}  // namespace tsr::gpu
