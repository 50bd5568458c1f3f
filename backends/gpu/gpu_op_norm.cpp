// rms_norm and layer_norm (kernels/gpu/norm.cu, one block per row) and rope
// (kernels/gpu/rope.cu, one thread per rotated pair, with optional frequency
// factors). Every tensor may be a strided view in f32, f16 or bf16.
#include <fmt/format.h>

#include <cmath>

#include "gpu_ops.h"
#include "tessera/kit/dtype.h"
#include "tessera/kit/op_support.h"
#include "tessera/kit/tensor.h"

namespace tsr::gpu {
namespace {

uint64_t n_rows(const tsr_tensor_desc& d) {
  return static_cast<uint64_t>(d.ne[1]) * static_cast<uint64_t>(d.ne[2]) * static_cast<uint64_t>(d.ne[3]);
}

// About 8 elements per thread, 1 to 8 warps: short rows in big blocks would
// spend their time in the reduction.
uint32_t row_block(const Caps& caps, int64_t n) {
  const auto warp = static_cast<uint32_t>(caps.warp_size);
  uint32_t b = warp;
  while (b < 8 * warp && b < 256 && static_cast<int64_t>(b) * 8 < n) b *= 2;
  return b;
}

bool supports_norm(const Caps&, const tsr_node_desc& n, std::string& reason) {
  return ops::norm_supported(n, reason);
}

Status encode_norm(Encoder& enc, const tsr_subgraph_node& node) {
  const tsr_tensor_desc& x = node.desc.inputs[0];
  Launch l = node_launch(node, "tsr_norm");
  l.args.ku[0] = node.desc.op == TSR_OP_LAYER_NORM ? 1 : 0;
  l.args.ku[1] = static_cast<int64_t>(n_rows(x));
  l.block = row_block(enc.caps(), x.ne[0]);
  l.grid = flat_grid(n_rows(x));
  return enc.add(l);
}

bool supports_rope(const Caps&, const tsr_node_desc& n, std::string& reason) {
  return ops::rope_supported(n, reason, /*freq_factors=*/true);
}

Status encode_rope(Encoder& enc, const tsr_subgraph_node& node) {
  const tsr_tensor_desc& x = node.desc.inputs[0];
  const int64_t n_rot = node.desc.params.i[0];
  // Items per row: n_rot / 2 rotated pairs, then the dims past n_rot copied.
  const auto per_row = static_cast<uint64_t>(x.ne[0] - n_rot / 2);
  const uint64_t items = per_row * n_rows(x);
  constexpr uint32_t kBlock = 128;
  Launch l = node_launch(node, "tsr_rope");
  l.args.ku[0] = static_cast<int64_t>(per_row);
  l.args.ku[1] = static_cast<int64_t>(items);
  l.args.ku[2] = node.desc.n_inputs == 3 ? 1 : 0;  // freq_factors in slot 2
  l.block = kBlock;
  l.grid = flat_grid(ceil_div(items, kBlock));
  return enc.add(l);
}

}  // namespace

const OpKernel Kernels::norm{supports_norm, encode_norm};
const OpKernel Kernels::rope{supports_rope, encode_rope};

}  // namespace tsr::gpu
