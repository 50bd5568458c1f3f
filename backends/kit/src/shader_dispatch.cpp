// Helpers shared by the shader op encoders and recorders (see
// tessera/kit/shader_dispatch.h).
#include "tessera/kit/shader_dispatch.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "tessera/kit/dtype.h"
#include "tessera/kit/op_info.h"
#include "tessera/kit/tensor.h"

namespace tsr::kit::shader {

void ParamBlock::set_fp(int k, float v) { std::memcpy(&u[100 + k], &v, 4); }

Status Recorder::add_flat(Dispatch d, uint64_t n_groups) {
  if (n_groups == 0) return Status::ok();
  const uint64_t max_x = caps().max_groups[0], max_y = caps().max_groups[1];
  const uint64_t x = std::min<uint64_t>(n_groups, max_x);
  const uint64_t y = ceil_div(n_groups, x);
  if (y > max_y || n_groups > UINT32_MAX)
    return make_error(TSR_ERR_UNSUPPORTED, "[{}] {} workgroups exceed the device's {} x {} grid", d.kernel,
                      n_groups, max_x, max_y);
  d.groups[0] = static_cast<uint32_t>(x);
  d.groups[1] = static_cast<uint32_t>(y);
  d.groups[2] = 1;
  d.p.set_ku(19, static_cast<uint32_t>(n_groups));
  return add(d);
}

Dispatch node_dispatch(const tsr_subgraph_node& n, std::string_view kernel, uint32_t local_size) {
  Dispatch d;
  d.kernel = kernel;
  d.local_size = local_size;
  for (int i = 0; i < n.desc.n_inputs && i < TSR_MAX_INPUTS; ++i) d.t[static_cast<size_t>(i)] = n.inputs[i];
  d.t[kOutSlot] = n.output;
  for (int k = 0; k < TSR_MAX_IPARAMS; ++k) d.p.set_ip(k, static_cast<int32_t>(n.desc.params.i[k]));
  for (int k = 0; k < TSR_MAX_FPARAMS; ++k) d.p.set_fp(k, n.desc.params.f[k]);
  return d;
}

bool fits_binding(const ComputeCaps& caps, const tsr_tensor_desc& d, const char* what, std::string& reason) {
  const int64_t span = n_bytes_spanned(d);
  // The binding starts up to storage_align bytes before the tensor.
  if (span < 0 || static_cast<uint64_t>(span) + caps.storage_align > caps.max_storage_range) {
    reason =
        fmt::format("{} spans {} bytes; the device binds at most {}", what, span, caps.max_storage_range);
    return false;
  }
  return true;
}

Status bind_tensor(const ComputeCaps& caps, int node, int32_t op, const tsr_tensor_ref& ref, int slot,
                   uint64_t buffer_size, ParamBlock* p, Binding* out) {
  using ops::op_name;
  const tsr_tensor_desc& t = ref.desc;
  const char* what = slot == kOutSlot ? "output" : "input";
  if (!dtype_traits(t.dtype))
    return invalid_arg("[prepare] node {} ({}): {} has unknown dtype {}", node, op_name(op), what, t.dtype);
  const int64_t span = n_bytes_spanned(t);
  if (span < 0 || ref.offset > buffer_size || static_cast<uint64_t>(span) > buffer_size - ref.offset)
    return invalid_arg("[prepare] node {} ({}): {} {} at offset {} spans {} bytes, buffer has {}", node,
                       op_name(op), what, desc_str(t), ref.offset, span, buffer_size);
  const uint64_t align = caps.binds_whole_buffers ? 1 : std::max<uint64_t>(caps.storage_align, 1);
  const uint64_t start = caps.binds_whole_buffers ? 0 : ref.offset / align * align;
  const uint64_t resid = ref.offset - start;
  const uint64_t range =
      std::max<uint64_t>((caps.binds_whole_buffers ? 0 : resid) + static_cast<uint64_t>(span), 4);
  if (range > caps.max_storage_range)
    return make_error(TSR_ERR_UNSUPPORTED,
                      "[prepare] node {} ({}): {} {} spans {} bytes; the device binds at most {}", node,
                      op_name(op), what, desc_str(t), range, caps.max_storage_range);
  // 32-bit loads need 4-byte aligned f32/i32 elements; everything else is
  // read through 16-bit words.
  const uint64_t es = (t.dtype == TSR_DTYPE_F32 || t.dtype == TSR_DTYPE_I32) ? 4 : 2;
  bool aligned = resid % es == 0;
  for (int i = 0; i < TSR_MAX_DIMS; ++i) aligned = aligned && (t.ne[i] <= 1 || t.nb[i] % es == 0);
  if (!aligned)
    return make_error(TSR_ERR_UNSUPPORTED,
                      "[prepare] node {} ({}): {} {} at offset {} is not {}-byte aligned", node, op_name(op),
                      what, desc_str(t), ref.offset, es);
  for (int i = 0; i < TSR_MAX_DIMS; ++i) {
    if (t.ne[i] > UINT32_MAX || t.nb[i] < 0 || t.nb[i] > UINT32_MAX)
      return make_error(TSR_ERR_UNSUPPORTED, "[prepare] node {} ({}): {} {} has dims or strides past 32 bits",
                        node, op_name(op), what, desc_str(t));
    p->u[static_cast<size_t>(12 * slot + i)] = static_cast<uint32_t>(t.ne[i]);
    p->u[static_cast<size_t>(12 * slot + 4 + i)] = static_cast<uint32_t>(t.nb[i]);
  }
  p->u[static_cast<size_t>(12 * slot + 8)] = static_cast<uint32_t>(resid);
  p->u[static_cast<size_t>(12 * slot + 9)] = static_cast<uint32_t>(t.dtype);
  p->u[static_cast<size_t>(12 * slot + 10)] = static_cast<uint32_t>(resid >> 32);
  *out = {start, caps.binds_whole_buffers ? buffer_size : std::min<uint64_t>(range, buffer_size - start)};
  return Status::ok();
}

bool supports(const ComputeCaps& caps, const tsr_node_desc& n, std::string_view backend,
              std::string& reason) {
  const OpKernel* k = kit::kernel_for<Kernels>(n.op, backend, reason);
  if (!k) return false;
  for (int i = 0; i < n.n_inputs; ++i)
    if (!(n.op == TSR_OP_MATMUL && i == 0) &&
        !fits_binding(caps, n.inputs[i], fmt::format("input {}", i).c_str(), reason))
      return false;
  if (!fits_binding(caps, n.output, "output", reason)) return false;
  return k->supports(caps, n, reason);
}

}  // namespace tsr::kit::shader
