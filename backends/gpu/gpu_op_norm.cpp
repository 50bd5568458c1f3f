// rms_norm and layer_norm (kernels/gpu/norm.cu, one block per row) and rope
// (kernels/gpu/rope.cu, one thread per rotated pair). Every tensor may be a
// strided view in f32, f16 or bf16.
#include <fmt/format.h>

#include <cmath>

#include "backends/gpu/gpu_ops.h"
#include "core/dtype.h"
#include "core/tensor.h"

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

// Output of x's dtype and shape (any strides).
bool same_as_input(const tsr_node_desc& n, std::string& reason) {
  const tsr_tensor_desc& x = n.inputs[0];
  const tsr_tensor_desc& o = n.output;
  if (!is_float_dtype(x.dtype)) {
    reason = fmt::format("{} input (f32, f16, bf16 only)", dtype_name(x.dtype));
    return false;
  }
  if (o.dtype != x.dtype || !same_shape(o, x)) {
    reason = fmt::format("output {} differs from input {}", desc_str(o), desc_str(x));
    return false;
  }
  return true;
}

bool supports_norm(const Caps&, const tsr_node_desc& n, std::string& reason) {
  if (n.n_inputs != 1) {
    reason = fmt::format("{} inputs, expected 1", n.n_inputs);
    return false;
  }
  return same_as_input(n, reason);
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
  if (n.n_inputs != 2) {
    reason = fmt::format("{} inputs, expected x and pos", n.n_inputs);
    return false;
  }
  if (!same_as_input(n, reason)) return false;
  const tsr_tensor_desc& x = n.inputs[0];
  const tsr_tensor_desc& pos = n.inputs[1];
  if (pos.dtype != TSR_DTYPE_I32 || pos.ne[0] != x.ne[2] || pos.ne[1] * pos.ne[2] * pos.ne[3] != 1) {
    reason = fmt::format("pos {} is not i32 [n_tokens = {}]", desc_str(pos), x.ne[2]);
    return false;
  }
  const int64_t n_rot = n.params.i[0];
  if (n_rot <= 0 || n_rot % 2 != 0 || n_rot > x.ne[0]) {
    reason = fmt::format("n_rot {} must be even and in 2..head_dim {}", n_rot, x.ne[0]);
    return false;
  }
  if (n.params.i[1] != TSR_ROPE_NORMAL && n.params.i[1] != TSR_ROPE_NEOX) {
    reason = fmt::format("rope mode {}", n.params.i[1]);
    return false;
  }
  if (!(n.params.f[0] > 0.0f) || !std::isfinite(n.params.f[0])) {
    reason = fmt::format("freq_base {} must be finite and > 0", n.params.f[0]);
    return false;
  }
  return true;
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
  l.block = kBlock;
  l.grid = flat_grid(ceil_div(items, kBlock));
  return enc.add(l);
}

}  // namespace

extern const OpKernel kNorm{supports_norm, encode_norm};
extern const OpKernel kRope{supports_rope, encode_rope};

}  // namespace tsr::gpu
