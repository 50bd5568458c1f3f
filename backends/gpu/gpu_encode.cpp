// Helpers shared by the GPU op encoders.
#include "gpu_ops.h"

namespace tsr::gpu {

bool gpu_block_dtype(int32_t dt) {
  switch (dt) {
    case TSR_DTYPE_Q8_0:
    case TSR_DTYPE_Q4_0:
    case TSR_DTYPE_Q4_1:
    case TSR_DTYPE_Q5_0:
    case TSR_DTYPE_Q5_1:
    case TSR_DTYPE_Q2_K:
    case TSR_DTYPE_Q3_K:
    case TSR_DTYPE_Q4_K:
    case TSR_DTYPE_Q5_K:
    case TSR_DTYPE_Q6_K:
      return true;
    default:
      return false;
  }
}

uint64_t n_elements(const tsr_tensor_desc& d) {
  uint64_t n = 1;
  for (int i = 0; i < TSR_MAX_DIMS; ++i) n *= static_cast<uint64_t>(d.ne[i] > 0 ? d.ne[i] : 0);
  return n;
}

Dim3 flat_grid(uint64_t n_blocks) {
  // x times the block size must stay within 32 bits (HIP refuses more);
  // 2^22 - 1 blocks of up to 1024 threads do.
  constexpr uint64_t kMaxX = (1u << 22) - 1;
  if (n_blocks <= kMaxX) return {static_cast<uint32_t>(n_blocks), 1, 1};
  return {static_cast<uint32_t>(kMaxX), static_cast<uint32_t>(ceil_div(n_blocks, kMaxX)), 1};
}

}  // namespace tsr::gpu
