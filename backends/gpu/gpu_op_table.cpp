// Which encoder runs which op. An op without an entry is unsupported.
#include "backends/gpu/gpu_ops.h"

namespace tsr::gpu {

extern const OpKernel kElementwise;  // gpu_op_elementwise.cpp

const OpKernel* op_kernel(int32_t op) {
  switch (op) {
    case TSR_OP_ADD:
    case TSR_OP_SUB:
    case TSR_OP_MUL:
    case TSR_OP_DIV:
    case TSR_OP_SCALE:
    case TSR_OP_SILU:
    case TSR_OP_GELU:
    case TSR_OP_SWIGLU:
      return &kElementwise;
    default:
      return nullptr;
  }
}

}  // namespace tsr::gpu
