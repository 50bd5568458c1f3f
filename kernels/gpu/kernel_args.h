// The one argument block every GPU kernel takes (by value), shared by the
// host glue (backends/gpu) and the kernels (kernels/gpu). Plain data with
// fixed-width fields so nvcc, hipcc and the host compiler lay it out alike.
#pragma once

#include <stdint.h>

namespace tsr::gpu {

constexpr int kArgSlots = 7;  // tensors: inputs 0..5, output 6
constexpr int kOutSlot = 6;
constexpr int kMaxStepValues = 16;

// A tensor as a kernel sees it: device address of its first byte (offset
// applied), ne/nb as in tsr_tensor_desc (nb in bytes), and its tsr_dtype.
struct GpuTensor {
  uint64_t ptr;
  int64_t ne[4];
  int64_t nb[4];
  int32_t dtype;
  int32_t unused;
};

struct KArgs {
  GpuTensor t[kArgSlots];
  int64_t ip[16];  // the node's integer parameters (tsr_op_params.i)
  float fp[8];     // the node's float parameters
  int64_t ku[8];   // kernel-specific values set by the op's encoder
  uint64_t step;   // device address of int64 step values (tsr_step_params)
};

}  // namespace tsr::gpu
