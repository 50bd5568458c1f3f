// Data movement through kernels/gpu/copy.cu (get_rows, set_rows, cpy,
// concat) and kernels/gpu/argmax.cu.
#include <fmt/format.h>

#include "gpu_ops.h"
#include "tessera/kit/dtype.h"
#include "tessera/kit/op_support.h"

namespace tsr::gpu {
namespace {

constexpr uint32_t kBlock = 256;

enum CopyMode : int64_t { kConvert = 0, kRaw = 1, kQuantize = 2, kBlockCopy = 3 };
enum Indirect : int64_t { kNoIndirection = 0, kSourceRows = 1, kDestRows = 2 };

CopyMode mode_for(int32_t src, int32_t dst) {
  if (src == dst) return gpu_block_dtype(dst) ? kBlockCopy : kRaw;
  return gpu_quantizable_dtype(dst) ? kQuantize : kConvert;
}

// One copy launch over the shape of slot `iter` (0 source, kOutSlot dest).
Status add_copy(Encoder& enc, Launch l, int iter, Indirect ind) {
  const GpuTensor& shape = l.args.t[iter];
  const CopyMode mode = mode_for(l.args.t[0].dtype, l.args.t[kOutSlot].dtype);
  uint64_t units = 1;
  for (int k = 0; k < 4; ++k) units *= static_cast<uint64_t>(shape.ne[k]);
  if (mode == kQuantize || mode == kBlockCopy)
    units /= static_cast<uint64_t>(dtype_traits(l.args.t[kOutSlot].dtype)->block_size);
  if (units == 0) return Status::ok();
  l.kernel = "tsr_copy";
  l.args.ku[0] = static_cast<int64_t>(units);
  l.args.ku[1] = iter;
  l.args.ku[2] = ind;
  l.args.ku[3] = mode;
  l.block = kBlock;
  l.grid = flat_grid(ceil_div(units, kBlock));
  return enc.add(l);
}

// A launch whose slots are only src (0), an optional index tensor and dst.
Launch copy_launch(const tsr_subgraph_node& n, const tsr_tensor_ref& src, const tsr_tensor_ref& dst) {
  tsr_subgraph_node c = n;
  c.desc.n_inputs = 1;
  c.inputs[0] = src;
  c.output = dst;
  return node_launch(c, "tsr_copy");
}

// ---- get_rows(table, ids) -> f32 ----
bool get_rows_supports(const Caps&, const tsr_node_desc& n, std::string& reason) {
  return ops::get_rows_supported(n, reason, gpu_block_dtype);
}

Status get_rows_encode(Encoder& enc, const tsr_subgraph_node& n) {
  return add_copy(enc, node_launch(n, "tsr_copy"), kOutSlot, kSourceRows);
}

// ---- set_rows(dst, src, idx): dst rows idx[i] = src rows i ----
bool set_rows_supports(const Caps&, const tsr_node_desc& n, std::string& reason) {
  // The destination is written by quantizing: only the formats copy.cu
  // quantizes into.
  return ops::set_rows_supported(n, reason, gpu_quantizable_dtype);
}

Status set_rows_encode(Encoder& enc, const tsr_subgraph_node& n) {
  const tsr_tensor_ref& dst = n.inputs[0];
  // The output is dst after the write; when core gave it other memory, dst
  // is copied there first.
  if (dst.buffer != n.output.buffer || dst.offset != n.output.offset)
    TSR_RETURN_IF_ERROR(add_copy(enc, copy_launch(n, dst, n.output), kOutSlot, kNoIndirection));
  Launch l = copy_launch(n, n.inputs[1], n.output);
  const Launch idx = node_launch(n, "");
  l.args.t[2] = idx.args.t[2];
  return add_copy(enc, l, 0, kDestRows);
}

// ---- cpy(x) -> contiguous in dtype ip[0] ----
bool cpy_supports(const Caps&, const tsr_node_desc& n, std::string& reason) {
  if (!ops::cpy_supported(n, reason, gpu_block_dtype)) return false;
  const int32_t from = n.inputs[0].dtype, to = n.output.dtype;
  if (from != to && gpu_block_dtype(to) && !gpu_quantizable_dtype(to)) {
    reason = fmt::format("conversion to {} (no kernel quantizes into it)", dtype_name(to));
    return false;
  }
  return true;
}

Status cpy_encode(Encoder& enc, const tsr_subgraph_node& n) {
  return add_copy(enc, node_launch(n, "tsr_copy"), kOutSlot, kNoIndirection);
}

// ---- concat(a, b) along ip[0]: each input is copied into its part of out ----
bool concat_supports(const Caps&, const tsr_node_desc& n, std::string& reason) {
  return ops::concat_supported(n, reason);
}

Status concat_encode(Encoder& enc, const tsr_subgraph_node& n) {
  const int dim = static_cast<int>(n.desc.params.i[0]);
  for (int part = 0; part < 2; ++part) {
    const tsr_tensor_ref& src = n.inputs[part];
    tsr_tensor_ref out = n.output;
    for (int k = 0; k < TSR_MAX_DIMS; ++k) out.desc.ne[k] = src.desc.ne[k];
    if (part == 1) out.offset += static_cast<uint64_t>(n.inputs[0].desc.ne[dim] * n.output.desc.nb[dim]);
    TSR_RETURN_IF_ERROR(add_copy(enc, copy_launch(n, src, out), kOutSlot, kNoIndirection));
  }
  return Status::ok();
}

// ---- argmax over dim 0 ----
bool argmax_supports(const Caps&, const tsr_node_desc& n, std::string& reason) {
  return ops::argmax_supported(n, reason);
}

Status argmax_encode(Encoder& enc, const tsr_subgraph_node& n) {
  const tsr_tensor_desc& x = n.desc.inputs[0];
  const uint64_t rows = static_cast<uint64_t>(x.ne[1] * x.ne[2] * x.ne[3]);
  Launch l = node_launch(n, "tsr_argmax");
  l.args.ku[0] = static_cast<int64_t>(rows);
  l.block = static_cast<uint32_t>(std::max(enc.caps().warp_size, 128));
  l.grid = flat_grid(rows);
  return enc.add(l);
}

}  // namespace

extern const OpKernel kGetRows{get_rows_supports, get_rows_encode};
extern const OpKernel kSetRows{set_rows_supports, set_rows_encode};
extern const OpKernel kCpy{cpy_supports, cpy_encode};
extern const OpKernel kConcat{concat_supports, concat_encode};
extern const OpKernel kArgmax{argmax_supports, argmax_encode};

}  // namespace tsr::gpu
