// Helpers shared by the op encoders (see vk_kernels.h).
#include "vk_kernels.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <iterator>

#include "tessera/kit/dtype.h"
#include "tessera/kit/tensor.h"

namespace tsr::vk {

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

Dispatch node_dispatch(const tsr_subgraph_node& n, std::string_view kernel) {
  Dispatch d;
  d.kernel = kernel;
  for (int i = 0; i < n.desc.n_inputs && i < TSR_MAX_INPUTS; ++i) d.t[static_cast<size_t>(i)] = n.inputs[i];
  d.t[kOutSlot] = n.output;
  for (int k = 0; k < TSR_MAX_IPARAMS; ++k) d.p.set_ip(k, static_cast<int32_t>(n.desc.params.i[k]));
  for (int k = 0; k < TSR_MAX_FPARAMS; ++k) d.p.set_fp(k, n.desc.params.f[k]);
  return d;
}

bool fits_binding(const DeviceCaps& caps, const tsr_tensor_desc& d, const char* what, std::string& reason) {
  const int64_t span = n_bytes_spanned(d);
  // The binding starts up to storage_align bytes before the tensor.
  if (span < 0 || static_cast<uint64_t>(span) + caps.storage_align > caps.max_storage_range) {
    reason = fmt::format("{} spans {} bytes; the device binds at most {} (maxStorageBufferRange)", what, span,
                         caps.max_storage_range);
    return false;
  }
  return true;
}

}  // namespace tsr::vk
