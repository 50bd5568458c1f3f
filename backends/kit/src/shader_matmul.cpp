// matmul encoder: matmul(w [K, M, B2w, B3w], x [K, N, B2, B3]) -> f32 [M, N, B2, B3].
//
// Kernels per weight dtype (matmul_vec and matmul_tile in kernels/vulkan and
// kernels/opencl, variants in their kernels_matmul.cmake):
//   - matmul_vec_<w> when N <= kVecMaxN (decode): a workgroup of one subgroup
//     splits K across its lanes for 16 weight rows and one x column, so the
//     weight is streamed once per column;
//   - matmul_tile_bc_<w> / matmul_tile_<w> otherwise (prefill): each
//     invocation keeps an 8 x 8 output tile in registers; the _bc variant
//     shares x through subgroup broadcasts where the device has ballot.
// On lavapipe every storage-buffer and shared-memory load is a per-lane scalar
// loop and a workgroup barrier makes the shader run as coroutines, so the
// kernels use neither shared-memory tiles nor workgroup barriers; the numbers
// behind each choice are in the kernels' comments.
// A weight larger than one storage binding (a big vocabulary projection on a
// device whose bindings span at most 128 MiB) is cut into row chunks, one
// dispatch each, and, when it has batches, into one slice per weight batch.
#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <string_view>

#include "tessera/kit/dtype.h"
#include "tessera/kit/op_support.h"
#include "tessera/kit/shader_dispatch.h"
#include "tessera/kit/tensor.h"

namespace tsr::kit::shader {
namespace {

// These mirror the kernels' compile-time shapes.
constexpr uint64_t kVecRows = 16;         // MV_ROWS in matmul_vec.comp; one x column per workgroup
constexpr uint64_t kTileRowsPerLane = 8;  // TR in matmul_tile.comp
constexpr uint64_t kTileCols = 8;         // TC in matmul_tile.comp
constexpr uint32_t kTileWorkgroup = 64;   // spec[0] of matmul_tile: rows per workgroup = 64 x TR

// Up to this many x columns per batch take the matrix-vector kernel, which
// streams the weight once per column. Measured on lavapipe (q4_1, K = 576,
// M = 1536, one thread): vec 2.1 / 4.3 / 8.3 ms for N = 1 / 2 / 4, tile 3.9 /
// 4.2 / 3.9 ms. At N = 2 they tie there; a GPU, where the tile kernel has only
// M / 8 invocations to spread, should favour vec, so the tie goes to vec.
constexpr int64_t kVecMaxN = 2;

struct WeightKernels {
  int32_t dtype;
  std::string_view vec, tile, tile_bc;
};
constexpr WeightKernels kKernels[] = {
    {TSR_DTYPE_F32, "matmul_vec_f32", "matmul_tile_f32", "matmul_tile_bc_f32"},
    {TSR_DTYPE_F16, "matmul_vec_f16", "matmul_tile_f16", "matmul_tile_bc_f16"},
    {TSR_DTYPE_BF16, "matmul_vec_bf16", "matmul_tile_bf16", "matmul_tile_bc_bf16"},
    {TSR_DTYPE_Q8_0, "matmul_vec_q8_0", "matmul_tile_q8_0", "matmul_tile_bc_q8_0"},
    {TSR_DTYPE_Q4_0, "matmul_vec_q4_0", "matmul_tile_q4_0", "matmul_tile_bc_q4_0"},
    {TSR_DTYPE_Q4_1, "matmul_vec_q4_1", "matmul_tile_q4_1", "matmul_tile_bc_q4_1"},
    {TSR_DTYPE_Q5_0, "matmul_vec_q5_0", "matmul_tile_q5_0", "matmul_tile_bc_q5_0"},
    {TSR_DTYPE_Q5_1, "matmul_vec_q5_1", "matmul_tile_q5_1", "matmul_tile_bc_q5_1"},
    {TSR_DTYPE_Q2_K, "matmul_vec_q2_K", "matmul_tile_q2_K", "matmul_tile_bc_q2_K"},
    {TSR_DTYPE_Q3_K, "matmul_vec_q3_K", "matmul_tile_q3_K", "matmul_tile_bc_q3_K"},
    {TSR_DTYPE_Q4_K, "matmul_vec_q4_K", "matmul_tile_q4_K", "matmul_tile_bc_q4_K"},
    {TSR_DTYPE_Q5_K, "matmul_vec_q5_K", "matmul_tile_q5_K", "matmul_tile_bc_q5_K"},
    {TSR_DTYPE_Q6_K, "matmul_vec_q6_K", "matmul_tile_q6_K", "matmul_tile_bc_q6_K"},
};

const WeightKernels* kernels_for(int32_t w_dtype) {
  for (const WeightKernels& k : kKernels)
    if (k.dtype == w_dtype) return &k;
  return nullptr;
}

// The kernel for one node and how it covers the output.
struct Plan {
  std::string_view kernel;
  uint32_t workgroup = 0;  // spec[0]
  uint64_t rows = 0;       // weight rows per workgroup
  uint64_t cols = 0;       // x columns per workgroup
};

Plan plan_for(const ComputeCaps& caps, const tsr_tensor_desc& w, const tsr_tensor_desc& x) {
  const WeightKernels* k = kernels_for(w.dtype);
  // The OpenCL matmul_vec exchanges through a workgroup barrier, any size.
  if (x.ne[1] <= kVecMaxN && caps.barrier_vec_workgroup > 0)
    return {k->vec, caps.barrier_vec_workgroup, kVecRows, 1};
  // The GLSL one synchronises with subgroupBarrier (basic subgroup operations,
  // which every Vulkan 1.1 device has in compute shaders; checked anyway).
  if (x.ne[1] <= kVecMaxN && (caps.subgroup_ops & kSubgroupBasic) != 0) {
    // One subgroup, 8..64 lanes: each lane takes whole 32-element blocks, so a
    // wider group only idles on short rows.
    uint32_t wg = 8;
    while (wg < 64 && wg < caps.subgroup_size && wg * 2 <= caps.max_invocations) wg *= 2;
    return {k->vec, wg, kVecRows, 1};
  }
  const bool bcast = (caps.subgroup_ops & kSubgroupBallot) != 0;
  return {bcast ? k->tile_bc : k->tile, kTileWorkgroup, kTileRowsPerLane * kTileWorkgroup, kTileCols};
}

// Workgroups of one dispatch over m weight rows: (row groups, column groups).
void group_counts(const Plan& plan, uint64_t m, const tsr_tensor_desc& x, uint64_t& gm, uint64_t& gn) {
  gm = ceil_div(m, plan.rows);
  gn = ceil_div(static_cast<uint64_t>(x.ne[1]), plan.cols);
}

// Bytes from element 0 of a row (dim 0) to the end of its last element.
uint64_t row_extent(const tsr_tensor_desc& d) {
  tsr_tensor_desc row = d;
  row.ne[1] = row.ne[2] = row.ne[3] = 1;
  return static_cast<uint64_t>(n_bytes_spanned(row));
}

uint64_t span_bytes(const tsr_tensor_desc& d) { return static_cast<uint64_t>(n_bytes_spanned(d)); }

// The largest span a binding can take wherever the tensor starts: the recorder
// binds from the offset aligned down to storage_align (as fits_binding counts).
uint64_t binding_limit(const ComputeCaps& caps) {
  return caps.max_storage_range > caps.storage_align ? caps.max_storage_range - caps.storage_align : 0;
}

bool supports(const ComputeCaps& caps, const tsr_node_desc& node, std::string& reason) {
  if (!ops::matmul_supported(node, reason, ops::is_weight_block_dtype)) return false;
  const tsr_tensor_desc& w = node.inputs[0];
  const tsr_tensor_desc& x = node.inputs[1];
  const tsr_tensor_desc& o = node.output;
  if (element_count(o) == 0) return true;  // nothing to compute, nothing dispatched
  if (w.ne[0] <= 0) {
    reason = "K = 0 (the kernels bind w and x, which are empty)";
    return false;
  }
  if (!fits_binding(caps, x, "x", reason) || !fits_binding(caps, o, "output", reason)) return false;
  // w may be split into row chunks, but one row must fit a binding.
  if (row_extent(w) > binding_limit(caps)) {
    reason = fmt::format("one weight row ({} bytes) exceeds the device's largest binding ({})", row_extent(w),
                         caps.max_storage_range);
    return false;
  }
  // The kernels index with 32-bit integers and a flat range of workgroups.
  const Plan plan = plan_for(caps, w, x);
  if (plan.workgroup > caps.max_invocations) {
    reason = fmt::format("{} needs {} invocations per workgroup, the device allows {}", plan.kernel,
                         plan.workgroup, caps.max_invocations);
    return false;
  }
  constexpr auto kU32 = static_cast<uint64_t>(std::numeric_limits<uint32_t>::max());
  uint64_t gm = 0, gn = 0;
  group_counts(plan, static_cast<uint64_t>(w.ne[1]), x, gm, gn);
  const uint64_t groups = gm * gn * static_cast<uint64_t>(x.ne[2] * x.ne[3]);
  const uint64_t max_groups = static_cast<uint64_t>(caps.max_groups[0]) * caps.max_groups[1];
  if (static_cast<uint64_t>(w.ne[0]) > kU32 || static_cast<uint64_t>(w.ne[1]) > kU32 || groups > kU32 ||
      groups > max_groups) {
    reason =
        fmt::format("too large for one dispatch: K = {}, M = {}, {} workgroups", w.ne[0], w.ne[1], groups);
    return false;
  }
  return true;
}

// A part of the node one dispatch runs: refs into the node's tensors.
struct Piece {
  tsr_tensor_ref w, x, o;
};

Status record_piece(Recorder& rec, const tsr_subgraph_node& node, const Piece& p) {
  const tsr_tensor_desc& w = p.w.desc;
  const tsr_tensor_desc& x = p.x.desc;
  const Plan plan = plan_for(rec.caps(), w, x);
  Dispatch d = node_dispatch(node, plan.kernel, plan.workgroup);
  d.spec[0] = plan.workgroup;
  d.t[0] = p.w;
  d.t[1] = p.x;
  d.t[kOutSlot] = p.o;
  uint64_t gm = 0, gn = 0;
  group_counts(plan, static_cast<uint64_t>(w.ne[1]), x, gm, gn);
  d.p.set_ku(0, static_cast<uint32_t>(x.ne[2] / w.ne[2]));
  d.p.set_ku(1, static_cast<uint32_t>(x.ne[3] / w.ne[3]));
  d.p.set_ku(2, static_cast<uint32_t>(gm));
  d.p.set_ku(3, static_cast<uint32_t>(gn));
  return rec.add_flat(d, gm * gn * static_cast<uint64_t>(x.ne[2] * x.ne[3]));
}

// Records `whole` (a w with a single batch or all of them) as row chunks that
// each fit one binding.
Status record_row_chunks(Recorder& rec, const tsr_subgraph_node& node, const Piece& whole) {
  const uint64_t limit = binding_limit(rec.caps());
  const auto M = static_cast<uint64_t>(whole.w.desc.ne[1]);
  uint64_t rows = M;
  if (span_bytes(whole.w.desc) > limit) {
    const auto nb1 = static_cast<uint64_t>(whole.w.desc.nb[1]);
    const uint64_t extent = row_extent(whole.w.desc);
    if (whole.w.desc.ne[2] * whole.w.desc.ne[3] != 1 || nb1 == 0 || extent > limit)
      return make_error(TSR_ERR_UNSUPPORTED,
                        "[matmul] cannot split w (span {} bytes, row {} bytes) under {} bytes",
                        span_bytes(whole.w.desc), extent, limit);
    rows = (limit - extent) / nb1 + 1;
  }
  for (uint64_t m0 = 0; m0 < M; m0 += rows) {
    const uint64_t m = std::min(rows, M - m0);
    Piece p = whole;
    p.w.offset += m0 * static_cast<uint64_t>(whole.w.desc.nb[1]);
    p.w.desc.ne[1] = static_cast<int64_t>(m);
    p.o.offset += m0 * static_cast<uint64_t>(whole.o.desc.nb[0]);
    p.o.desc.ne[0] = static_cast<int64_t>(m);
    TSR_RETURN_IF_ERROR(record_piece(rec, node, p));
  }
  return Status::ok();
}

Status encode(Recorder& rec, const tsr_subgraph_node& node) {
  const Piece all{node.inputs[0], node.inputs[1], node.output};
  if (element_count(all.o.desc) == 0) return Status::ok();
  const tsr_tensor_desc& w = all.w.desc;
  if (span_bytes(w) <= binding_limit(rec.caps()) || w.ne[2] * w.ne[3] == 1)
    return record_row_chunks(rec, node, all);
  // Too large with batches: one slice per w batch, with the x (and output)
  // batches that read it: x batch b2 uses w batch b2 / r2.
  const int64_t r2 = all.x.desc.ne[2] / w.ne[2], r3 = all.x.desc.ne[3] / w.ne[3];
  for (int64_t b3 = 0; b3 < w.ne[3]; ++b3)
    for (int64_t b2 = 0; b2 < w.ne[2]; ++b2) {
      Piece p = all;
      p.w.offset += static_cast<uint64_t>(b2 * w.nb[2] + b3 * w.nb[3]);
      p.w.desc.ne[2] = p.w.desc.ne[3] = 1;
      for (tsr_tensor_ref* t : {&p.x, &p.o}) {
        t->offset += static_cast<uint64_t>(b2 * r2 * t->desc.nb[2] + b3 * r3 * t->desc.nb[3]);
        t->desc.ne[2] = r2;
        t->desc.ne[3] = r3;
      }
      TSR_RETURN_IF_ERROR(record_row_chunks(rec, node, p));
    }
  return Status::ok();
}

}  // namespace

const OpKernel Kernels::matmul{supports, encode};

}  // namespace tsr::kit::shader
