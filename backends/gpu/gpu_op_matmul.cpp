// matmul(w [K, M, B2w, B3w], x [K, N, B2, B3]) -> f32 [M, N, B2, B3]:
// kernels/gpu/matmul_vec.cu for few x columns (decode), matmul_tile.cu
// otherwise (prefill), or the vendor GEMM where one is loaded and the
// operands are plain column-major float matrices of one dtype.
#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <string_view>

#include "gpu/matmul_config.h"
#include "gpu_ops.h"
#include "tessera/kit/dtype.h"
#include "tessera/kit/op_support.h"

namespace tsr::gpu {
namespace {

// The kernels' name suffix for a weight dtype (tsr_matmul_vec_<name>_n<c>,
// tsr_matmul_tile_<name>): the dtype's name, for every float and block
// format the kernels are built for; empty when none is.
std::string_view weight_name(int32_t dt) {
  return is_float_dtype(dt) || ops::is_weight_block_dtype(dt) ? dtype_name(dt) : std::string_view{};
}

int64_t unit_bytes(int32_t dt) { return dtype_traits(dt)->block_bytes; }

bool supports(const Caps&, const tsr_node_desc& n, std::string& reason) {
  if (!ops::matmul_supported(n, reason, ops::is_weight_block_dtype)) return false;
  const tsr_tensor_desc& o = n.output;
  const uint64_t tiles = ceil_div(o.ne[0], mm::kTileM) * ceil_div(o.ne[1], mm::kTileN);
  if (tiles > 0x7fffffffu || ceil_div(o.ne[0], mm::kVecWarps) > 0x7fffffffu) {
    reason = fmt::format("{} x {} output tiles exceed a grid", o.ne[0], o.ne[1]);
    return false;
  }
  return true;
}

// The element stride between consecutive (b2, b3) batches of d when they
// are evenly spaced, else -1. Dims of one element do not constrain it.
int64_t batch_stride(const tsr_tensor_desc& d, int64_t es) {
  int64_t nb = 0;
  if (d.ne[2] > 1 && d.ne[3] > 1) {
    if (d.nb[3] != d.nb[2] * d.ne[2]) return -1;
    nb = d.nb[2];
  } else {
    nb = d.ne[2] > 1 ? d.nb[2] : d.ne[3] > 1 ? d.nb[3] : 0;
  }
  return nb % es == 0 ? nb / es : -1;
}

// A GemmDesc for the node when the vendor library can run it as it is:
// w and x of one float dtype with contiguous columns, leading dimensions the
// library accepts, and batches (not broadcast) at uniform strides.
std::optional<GemmDesc> gemm_desc(const tsr_subgraph_node& n, const Launch& l) {
  const tsr_tensor_desc& w = n.inputs[0].desc;
  const tsr_tensor_desc& x = n.inputs[1].desc;
  const tsr_tensor_desc& o = n.output.desc;
  if (w.dtype != x.dtype || !is_float_dtype(w.dtype) || w.ne[0] == 0) return std::nullopt;
  const int64_t es = unit_bytes(w.dtype);
  if (w.nb[0] != es || x.nb[0] != es || o.nb[0] != 4) return std::nullopt;
  if (w.ne[2] != x.ne[2] || w.ne[3] != x.ne[3]) return std::nullopt;
  if (w.nb[1] % es != 0 || x.nb[1] % es != 0 || o.nb[1] % 4 != 0) return std::nullopt;
  GemmDesc g;
  g.dtype = w.dtype;
  g.k = w.ne[0];
  g.m = w.ne[1];
  g.n = x.ne[1];
  g.batch = x.ne[2] * x.ne[3];
  // A single row or column may carry any stride; the library still wants
  // the leading dimension to cover the rows.
  g.ldw = w.ne[1] > 1 ? w.nb[1] / es : g.k;
  g.ldx = x.ne[1] > 1 ? x.nb[1] / es : g.k;
  g.ldo = o.ne[1] > 1 ? o.nb[1] / 4 : g.m;
  if (g.ldw < g.k || g.ldx < g.k || g.ldo < g.m) return std::nullopt;
  g.stride_w = batch_stride(w, es);
  g.stride_x = batch_stride(x, es);
  g.stride_o = batch_stride(o, 4);
  if (g.stride_w < 0 || g.stride_x < 0 || g.stride_o < 0) return std::nullopt;
  // The library takes sizes and leading dimensions as int.
  constexpr int64_t kIntMax = std::numeric_limits<int32_t>::max();
  for (int64_t v : {g.m, g.n, g.k, g.batch, g.ldw, g.ldx, g.ldo})
    if (v > kIntMax) return std::nullopt;
  g.w = l.args.t[0].ptr;
  g.x = l.args.t[1].ptr;
  g.out = l.args.t[kOutSlot].ptr;
  return g;
}

// Float weight rows whose every start is 16-byte aligned with dim 0
// contiguous: whole groups of 8 then take 16-byte loads.
bool wide_rows(const tsr_tensor_desc& w, uint64_t ptr) {
  if (!is_float_dtype(w.dtype) || w.nb[0] != unit_bytes(w.dtype) || ptr % 16 != 0) return false;
  for (int i = 1; i < TSR_MAX_DIMS; ++i)
    if (w.ne[i] > 1 && w.nb[i] % 16 != 0) return false;
  return true;
}

Status encode(Encoder& enc, const tsr_subgraph_node& n) {
  const tsr_tensor_desc& w = n.inputs[0].desc;
  const tsr_tensor_desc& x = n.inputs[1].desc;
  const tsr_tensor_desc& o = n.output.desc;
  if (element_count(o) == 0) return Status::ok();
  Launch l = node_launch(n, "");
  if (enc.caps().gemm) {
    if (std::optional<GemmDesc> g = gemm_desc(n, l)) {
      l.gemm = g;
      return enc.add(l);
    }
  }
  // Tensor cores: an mma tile kernel for f16/bf16 (and dequantized block)
  // weights would be chosen here; see matmul_tile.cu.
  l.args.ku[mm::kKuWide] = wide_rows(w, l.args.t[0].ptr) ? 1 : 0;
  const uint64_t n_batch = static_cast<uint64_t>(x.ne[2] * x.ne[3]);
  const uint32_t grid_y = static_cast<uint32_t>(std::min<uint64_t>(n_batch, 65535));  // kernels loop past it
  const std::string_view wn = weight_name(w.dtype);
  if (x.ne[1] <= mm::kVecMaxN) {
    const int nc = x.ne[1] <= 1 ? 1 : x.ne[1] <= 2 ? 2 : x.ne[1] <= 4 ? 4 : 8;
    l.kernel = fmt::format("tsr_matmul_vec_{}_n{}", wn, nc);
    l.block = static_cast<uint32_t>(mm::kVecWarps * enc.caps().warp_size);
    l.grid = {static_cast<uint32_t>(ceil_div(o.ne[0], mm::kVecWarps)), grid_y, 1};
  } else {
    l.kernel = fmt::format("tsr_matmul_tile_{}", wn);
    l.block = mm::kTileThreads;
    l.grid = {static_cast<uint32_t>(ceil_div(o.ne[0], mm::kTileM) * ceil_div(o.ne[1], mm::kTileN)), grid_y,
              1};
  }
  return enc.add(l);
}

}  // namespace

const OpKernel Kernels::matmul{supports, encode};

}  // namespace tsr::gpu
