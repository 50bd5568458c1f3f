#include "tessera/kit/op_families.h"

namespace tsr::kit {

OpFamily op_family(int32_t op) {
  switch (op) {
    case TSR_OP_GET_ROWS:
    case TSR_OP_SET_ROWS:
    case TSR_OP_CPY:
    case TSR_OP_CONCAT:
      return OpFamily::data;
    case TSR_OP_ARGMAX:
      return OpFamily::argmax;
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
      return OpFamily::elementwise;
    case TSR_OP_MATMUL:
      return OpFamily::matmul;
    case TSR_OP_RMS_NORM:
    case TSR_OP_LAYER_NORM:
      return OpFamily::norm;
    case TSR_OP_ROPE:
      return OpFamily::rope;
    case TSR_OP_SOFTMAX:
      return OpFamily::softmax;
    case TSR_OP_ATTENTION:
      return OpFamily::attention;
    case TSR_OP_PAGED_ATTENTION:
      return OpFamily::paged_attention;
    default:
      return OpFamily::none;
  }
}

}  // namespace tsr::kit
