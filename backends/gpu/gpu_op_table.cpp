// Which encoder runs which op. An op without an entry is unsupported.
#include "gpu_ops.h"

namespace tsr::gpu {

extern const OpKernel kGetRows, kSetRows, kCpy, kConcat, kArgmax;  // gpu_op_data.cpp
extern const OpKernel kElementwise;                                // gpu_op_elementwise.cpp
extern const OpKernel kNorm, kRope;                                // gpu_op_norm.cpp
extern const OpKernel kAttention;                                  // gpu_op_attention.cpp
extern const OpKernel kSoftmax;                                    // gpu_op_softmax.cpp
extern const OpKernel kMatmul;                                     // gpu_op_matmul.cpp

const OpKernel* op_kernel(int32_t op) {
  switch (op) {
    case TSR_OP_GET_ROWS:
      return &kGetRows;
    case TSR_OP_SET_ROWS:
      return &kSetRows;
    case TSR_OP_CPY:
      return &kCpy;
    case TSR_OP_CONCAT:
      return &kConcat;
    case TSR_OP_ARGMAX:
      return &kArgmax;
    case TSR_OP_MATMUL:
      return &kMatmul;
    case TSR_OP_ADD:
    case TSR_OP_SUB:
    case TSR_OP_MUL:
    case TSR_OP_DIV:
    case TSR_OP_SCALE:
    case TSR_OP_SILU:
    case TSR_OP_GELU:
    case TSR_OP_SOFTCAP:
    case TSR_OP_SWIGLU:
    case TSR_OP_GEGLU:
      return &kElementwise;
    case TSR_OP_RMS_NORM:
    case TSR_OP_LAYER_NORM:
      return &kNorm;
    case TSR_OP_ROPE:
      return &kRope;
    case TSR_OP_ATTENTION:
      return &kAttention;
    case TSR_OP_SOFTMAX:
      return &kSoftmax;
    default:
      return nullptr;
  }
}

}  // namespace tsr::gpu
