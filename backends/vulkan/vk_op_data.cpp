// Data movement through kernels/vulkan/copy.comp (get_rows, set_rows, cpy,
// concat) and kernels/vulkan/argmax.comp.
#include <fmt/format.h>

#include "tessera/kit/dtype.h"
#include "tessera/kit/op_support.h"
#include "vk_kernels.h"

namespace tsr::vk {
namespace {

constexpr uint64_t kGroup = 256;  // local_size_x of copy.comp

enum CopyMode : uint32_t { kConvert = 0, kRaw = 1, kQuantize = 2, kBlockCopy = 3 };
enum Indirect : uint32_t { kNoIndirection = 0, kSourceRows = 1, kDestRows = 2 };

// The copy kernel's mode for moving src elements into a dst tensor.
CopyMode mode_for(int32_t src, int32_t dst) {
  if (src == dst) return vk_block_dtype(dst) ? kBlockCopy : kRaw;
  return vk_quantizable_dtype(dst) ? kQuantize : kConvert;
}

// One copy dispatch over `iter` (source slot 0 or destination slot 6).
Status add_copy(Recorder& rec, Dispatch d, int iter, Indirect ind) {
  const tsr_tensor_desc& shape = d.t[static_cast<size_t>(iter)].desc;
  const CopyMode mode = mode_for(d.t[0].desc.dtype, d.t[kOutSlot].desc.dtype);
  d.kernel = "copy";
  d.spec[0] = mode;
  uint64_t units = n_elements(shape);
  if (mode == kQuantize || mode == kBlockCopy)
    units /= static_cast<uint64_t>(dtype_traits(d.t[kOutSlot].desc.dtype)->block_size);
  d.p.set_ku(0, static_cast<uint32_t>(units));
  d.p.set_ku(1, static_cast<uint32_t>(iter));
  d.p.set_ku(2, ind);
  return rec.add_flat(d, ceil_div(units, kGroup));
}

// ---- get_rows(table, ids) -> f32 ----
bool get_rows_supports(const DeviceCaps&, const tsr_node_desc& n, std::string& reason) {
  return ops::get_rows_supported(n, reason, vk_block_dtype);
}

Status get_rows_encode(Recorder& rec, const tsr_subgraph_node& n) {
  return add_copy(rec, node_dispatch(n, "copy"), kOutSlot, kSourceRows);
}

// ---- set_rows(dst, src, idx): dst rows idx[i] = src rows i ----
bool set_rows_supports(const DeviceCaps&, const tsr_node_desc& n, std::string& reason) {
  // The destination is written by quantizing: only the formats copy.comp
  // quantizes into.
  return ops::set_rows_supported(n, reason, vk_quantizable_dtype);
}

Status set_rows_encode(Recorder& rec, const tsr_subgraph_node& n) {
  const tsr_tensor_ref& dst = n.inputs[0];
  // The output is dst after the write; when core gave it other memory,
  // dst is copied there first.
  if (dst.buffer != n.output.buffer || dst.offset != n.output.offset) {
    Dispatch c = node_dispatch(n, "copy");
    c.t = {};
    c.t[0] = dst;
    c.t[kOutSlot] = n.output;
    TSR_RETURN_IF_ERROR(add_copy(rec, c, kOutSlot, kNoIndirection));
  }
  Dispatch d = node_dispatch(n, "copy");
  d.t = {};
  d.t[0] = n.inputs[1];
  d.t[2] = n.inputs[2];
  d.t[kOutSlot] = n.output;
  return add_copy(rec, d, 0, kDestRows);
}

// ---- cpy(x) -> contiguous in dtype ip[0] ----
bool cpy_supports(const DeviceCaps&, const tsr_node_desc& n, std::string& reason) {
  if (!ops::cpy_supported(n, reason, vk_block_dtype)) return false;
  const int32_t from = n.inputs[0].dtype, to = n.output.dtype;
  if (from != to && vk_block_dtype(to) && !vk_quantizable_dtype(to)) {
    reason = fmt::format("conversion to {} (no kernel quantizes into it)", dtype_name(to));
    return false;
  }
  return true;
}

Status cpy_encode(Recorder& rec, const tsr_subgraph_node& n) {
  return add_copy(rec, node_dispatch(n, "copy"), kOutSlot, kNoIndirection);
}

// ---- concat(a, b) along ip[0]: each input is copied into its part of out ----
bool concat_supports(const DeviceCaps&, const tsr_node_desc& n, std::string& reason) {
  return ops::concat_supported(n, reason);
}

Status concat_encode(Recorder& rec, const tsr_subgraph_node& n) {
  const int dim = static_cast<int>(n.desc.params.i[0]);
  for (int part = 0; part < 2; ++part) {
    const tsr_tensor_ref& src = n.inputs[part];
    if (n_elements(src.desc) == 0) continue;
    tsr_tensor_ref out = n.output;
    for (int k = 0; k < TSR_MAX_DIMS; ++k) out.desc.ne[k] = src.desc.ne[k];
    if (part == 1) out.offset += static_cast<uint64_t>(n.inputs[0].desc.ne[dim] * n.output.desc.nb[dim]);
    Dispatch d = node_dispatch(n, "copy");
    d.t = {};
    d.t[0] = src;
    d.t[kOutSlot] = out;
    TSR_RETURN_IF_ERROR(add_copy(rec, d, kOutSlot, kNoIndirection));
  }
  return Status::ok();
}

// ---- argmax over dim 0 ----
bool argmax_supports(const DeviceCaps&, const tsr_node_desc& n, std::string& reason) {
  return ops::argmax_supported(n, reason);
}

Status argmax_encode(Recorder& rec, const tsr_subgraph_node& n) {
  const tsr_tensor_desc& x = n.desc.inputs[0];
  return rec.add_flat(node_dispatch(n, "argmax"), static_cast<uint64_t>(x.ne[1] * x.ne[2] * x.ne[3]));
}

}  // namespace

extern const OpKernel kGetRows{get_rows_supports, get_rows_encode};
extern const OpKernel kSetRows{set_rows_supports, set_rows_encode};
extern const OpKernel kCpy{cpy_supports, cpy_encode};
extern const OpKernel kConcat{concat_supports, concat_encode};
extern const OpKernel kArgmax{argmax_supports, argmax_encode};

}  // namespace tsr::vk
