#include <fmt/format.h>

#include "cpu/kernels.h"
#include "tessera/kit/dtype.h"
#include "tessera/kit/op_families.h"
#include "tessera/kit/tensor.h"

namespace tsr::cpu {

bool is_float_dtype(int32_t dtype) {
  return dtype == TSR_DTYPE_F32 || dtype == TSR_DTYPE_F16 || dtype == TSR_DTYPE_BF16;
}

int64_t elem_size(int32_t dtype) {
  const DtypeTraits* t = dtype_traits(dtype);
  return t && t->block_size == 1 ? t->block_bytes : 0;
}

bool check_desc(const tsr_tensor_desc& d, const char* what, std::string& reason) {
  const DtypeTraits* t = dtype_traits(d.dtype);
  if (!t) {
    reason = fmt::format("{}: unknown dtype id {}", what, d.dtype);
    return false;
  }
  for (int i = 0; i < TSR_MAX_DIMS; ++i) {
    if (d.ne[i] < 0) {
      reason = fmt::format("{}: negative dim {}", what, i);
      return false;
    }
    if (d.nb[i] < 0) {
      reason = fmt::format("{}: negative stride nb[{}]", what, i);
      return false;
    }
  }
  if (d.ne[0] % t->block_size != 0) {
    reason = fmt::format("{}: {} dim 0 = {} not a multiple of {}", what, t->name, d.ne[0], t->block_size);
    return false;
  }
  if (t->block_size > 1 && !rows_contiguous(d)) {
    reason = fmt::format("{}: {} with non-contiguous dim 0", what, t->name);
    return false;
  }
  return true;
}

bool check_out_rows(const tsr_tensor_desc& d, std::string& reason) {
  const DtypeTraits* t = dtype_traits(d.dtype);
  if (!t || d.nb[0] != t->block_bytes) {
    if (t && d.ne[0] == t->block_size) return true;
    reason = "output with non-contiguous dim 0";
    return false;
  }
  return true;
}

int64_t n_rows(const tsr_tensor_desc& d) { return d.ne[1] * d.ne[2] * d.ne[3]; }

bool same_shape_desc(const tsr_tensor_desc& a, const tsr_tensor_desc& b) { return same_shape(a, b); }

Status step_value(const ExecCtx& ctx, int64_t index, const char* op, int64_t* out) {
  const int64_t n = ctx.step ? ctx.step->n_values : 0;
  if (index < 0 || index >= n || !ctx.step->values)
    return invalid_arg("[{}] step parameter {} out of range: {} step values given", op, index, n);
  *out = ctx.step->values[index];
  return Status::ok();
}

bool supports_node(const tsr_node_desc& n, std::string& reason) {
  const int n_in_expected[TSR_OP_COUNT] = {0, 2, 2, 2, 2, 2, 2, 1, 1, 1, 2, -1, 1, 1,
                                           2, 4, 3, 1, 1, 1, 1, 2, 1, 1, 2, 6,  1, 1};
  if (n.op <= TSR_OP_NONE || n.op >= TSR_OP_COUNT) {
    reason = fmt::format("unknown op id {}", n.op);
    return false;
  }
  if (n.op == TSR_OP_RESHAPE || n.op == TSR_OP_VIEW || n.op == TSR_OP_PERMUTE) {
    reason = "view ops are folded by core";
    return false;
  }
  if (n.op == TSR_OP_ALL_REDUCE || n.op == TSR_OP_ALL_GATHER) {
    reason = "collectives are run by core through the communicator";
    return false;
  }
  // softmax: mask optional; attention: pos optional when not causal.
  const int want = n_in_expected[n.op];
  const bool count_ok = n.op == TSR_OP_SOFTMAX     ? n.n_inputs == 1 || n.n_inputs == 2
                        : n.op == TSR_OP_ATTENTION ? n.n_inputs == 3 || n.n_inputs == 4
                        : n.op == TSR_OP_ROPE      ? n.n_inputs == 2 || n.n_inputs == 3
                                                   : n.n_inputs == want;
  if (!count_ok) {
    reason = fmt::format("{} inputs given", n.n_inputs);
    return false;
  }
  for (int i = 0; i < n.n_inputs; ++i)
    if (!check_desc(n.inputs[i], fmt::format("input {}", i).c_str(), reason)) return false;
  if (!check_desc(n.output, "output", reason)) return false;
  switch (kit::op_family(n.op)) {
    case kit::OpFamily::data:
      return n.op == TSR_OP_GET_ROWS || n.op == TSR_OP_SET_ROWS ? supports_rows(n, reason)
                                                                : supports_copy(n, reason);
    case kit::OpFamily::argmax:
      return supports_copy(n, reason);
    case kit::OpFamily::matmul:
      return supports_matmul(n, reason);
    case kit::OpFamily::elementwise:
      return supports_elementwise(n, reason);
    case kit::OpFamily::norm:
      return supports_norm(n, reason);
    case kit::OpFamily::rope:
      return supports_rope(n, reason);
    case kit::OpFamily::softmax:
      return supports_softmax(n, reason);
    case kit::OpFamily::attention:
      return supports_attention(n, reason);
    case kit::OpFamily::paged_attention:
      return supports_paged_attention(n, reason);
    case kit::OpFamily::none:
      break;
  }
  reason = fmt::format("op id {} not implemented", n.op);
  return false;
}

Status plan_node(NodePlan& p) {
  switch (p.node.op) {
    case TSR_OP_GET_ROWS:
    case TSR_OP_SET_ROWS:
      return plan_rows(p);
    case TSR_OP_MATMUL:
      return plan_matmul(p);
    case TSR_OP_RMS_NORM:
    case TSR_OP_LAYER_NORM:
      return plan_norm(p);
    case TSR_OP_ROPE:
      return plan_rope(p);
    case TSR_OP_SOFTMAX:
      return plan_softmax(p);
    case TSR_OP_ATTENTION:
      return plan_attention(p);
    case TSR_OP_PAGED_ATTENTION:
      return plan_paged_attention(p);
    case TSR_OP_CPY:
    case TSR_OP_CONCAT:
    case TSR_OP_ARGMAX:
      return plan_copy(p);
    default:
      return plan_elementwise(p);
  }
}

}  // namespace tsr::cpu
