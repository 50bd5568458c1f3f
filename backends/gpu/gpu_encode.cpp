// Helpers shared by the GPU op encoders.
#include "backends/gpu/gpu_ops.h"

namespace tsr::gpu {

bool is_float_dtype(int32_t dt) { return dt == TSR_DTYPE_F32 || dt == TSR_DTYPE_F16 || dt == TSR_DTYPE_BF16; }

bool is_block_dtype(int32_t dt) {
  return dt == TSR_DTYPE_Q8_0 || dt == TSR_DTYPE_Q4_0 || dt == TSR_DTYPE_Q4_1;
}

uint64_t n_elements(const tsr_tensor_desc& d) {
  uint64_t n = 1;
  for (int i = 0; i < TSR_MAX_DIMS; ++i) n *= static_cast<uint64_t>(d.ne[i] > 0 ? d.ne[i] : 0);
  return n;
}

Dim3 flat_grid(uint64_t n_blocks) {
  constexpr uint64_t kMaxX = 0x7fffffffu;
  if (n_blocks <= kMaxX) return {static_cast<uint32_t>(n_blocks), 1, 1};
  return {static_cast<uint32_t>(kMaxX), static_cast<uint32_t>(ceil_div(n_blocks, kMaxX)), 1};
}

}  // namespace tsr::gpu
