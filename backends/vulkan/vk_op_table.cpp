// Which encoder runs which op. An op without an entry is unsupported.
#include "vk_kernels.h"

namespace tsr::vk {

extern const OpKernel kGetRows, kSetRows, kCpy, kConcat, kArgmax;  // vk_op_data.cpp
extern const OpKernel kElementwise;                                // vk_op_elementwise.cpp
extern const OpKernel kMatmul;                                     // vk_op_matmul.cpp
extern const OpKernel kNorm, kSoftmax, kRope;                      // vk_op_norm.cpp
extern const OpKernel kAttention;                                  // vk_op_attention.cpp

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
    case TSR_OP_MATMUL:
      return &kMatmul;
    case TSR_OP_RMS_NORM:
    case TSR_OP_LAYER_NORM:
      return &kNorm;
    case TSR_OP_SOFTMAX:
      return &kSoftmax;
    case TSR_OP_ROPE:
      return &kRope;
    case TSR_OP_ATTENTION:
      return &kAttention;
    default:
      return nullptr;
  }
}

}  // namespace tsr::vk
