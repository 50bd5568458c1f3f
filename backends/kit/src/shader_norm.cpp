// Row-wise ops: rms_norm and layer_norm (the norm kernel), softmax and rope
// (kernels/vulkan/*.comp, kernels/opencl/*.cl). The row kernels run one
// workgroup per row of dims 1..3; rope one invocation per rotated pair.
// Every tensor may be a strided view in f32, f16 or bf16.
#include <fmt/format.h>

#include <bit>
#include <cmath>
#include <limits>
#include <numbers>
#include <utility>

#include "tessera/kit/dtype.h"
#include "tessera/kit/op_support.h"
#include "tessera/kit/shader_dispatch.h"
#include "tessera/kit/tensor.h"

namespace tsr::kit::shader {
namespace {

constexpr uint32_t kRopeGroup = 64;  // local size of rope

// Row kernels reduce with subgroup arithmetic where the device has it.
bool subgroup_reduce(const ComputeCaps& caps) {
  constexpr uint32_t kNeed = kSubgroupBasic | kSubgroupArithmetic;
  return (caps.subgroup_ops & kNeed) == kNeed;
}

// Workgroup size of the row kernels (norm.comp, softmax.comp). GPUs: about 8
// elements per invocation, 32 to 128 invocations; short rows in big
// workgroups would spend their time in the reduction. CPU implementations
// (subgroups under 16 lanes, e.g. lavapipe's 8) run a workgroup's subgroups
// one after the other on one thread: one subgroup per row is fastest there
// and, with subgroup arithmetic, needs no barrier.
uint32_t row_group_size(const ComputeCaps& caps, int64_t n) {
  if (caps.subgroup_size > 0 && caps.subgroup_size < 16) return caps.subgroup_size;
  uint32_t wg = 32;
  while (wg < 128 && wg * 8 < n) wg *= 2;
  return wg;
}

// Subgroups in a workgroup of wg invocations (spec constant NSG).
uint32_t subgroups(const ComputeCaps& caps, uint32_t wg) {
  return caps.subgroup_size > 0 ? static_cast<uint32_t>(ceil_div(wg, caps.subgroup_size)) : 0;
}

uint64_t n_rows(const tsr_tensor_desc& d) {
  return static_cast<uint64_t>(d.ne[1]) * static_cast<uint64_t>(d.ne[2]) * static_cast<uint64_t>(d.ne[3]);
}

// The kernels index elements and rows with 32-bit integers.
bool counts_fit(const tsr_tensor_desc& d, const char* what, std::string& reason) {
  if (element_count(d) <= std::numeric_limits<uint32_t>::max()) return true;
  reason = fmt::format("{} {} has more than 2^32 elements", what, shape_str(d));
  return false;
}

// x and the output (of x's shape) bindable, and indexable in 32 bits.
bool fits_device(const ComputeCaps& caps, const tsr_node_desc& n, std::string& reason) {
  return counts_fit(n.inputs[0], "input", reason) && fits_binding(caps, n.inputs[0], "input", reason) &&
         fits_binding(caps, n.output, "output", reason);
}

// ---- rms_norm, layer_norm ----

bool supports_norm(const ComputeCaps& caps, const tsr_node_desc& n, std::string& reason) {
  return ops::norm_supported(n, reason) && fits_device(caps, n, reason);
}

Status encode_norm(Recorder& rec, const tsr_subgraph_node& node) {
  const uint32_t wg = row_group_size(rec.caps(), node.desc.inputs[0].ne[0]);
  Dispatch d = node_dispatch(node, subgroup_reduce(rec.caps()) ? "norm_sg" : "norm", wg);
  d.spec[0] = wg;
  d.spec[1] = subgroups(rec.caps(), d.spec[0]);
  d.p.set_ku(0, node.desc.op == TSR_OP_LAYER_NORM ? 1 : 0);
  return rec.add_flat(d, n_rows(node.desc.inputs[0]));
}

// ---- softmax ----

bool supports_softmax(const ComputeCaps& caps, const tsr_node_desc& n, std::string& reason) {
  if (!ops::softmax_supported(n, reason) || !fits_device(caps, n, reason)) return false;
  return n.n_inputs == 1 || fits_binding(caps, n.inputs[1], "mask", reason);
}

Status encode_softmax(Recorder& rec, const tsr_subgraph_node& node) {
  const uint32_t wg = row_group_size(rec.caps(), node.desc.inputs[0].ne[0]);
  Dispatch d = node_dispatch(node, subgroup_reduce(rec.caps()) ? "softmax_sg" : "softmax", wg);
  d.spec[0] = wg;
  d.spec[1] = subgroups(rec.caps(), d.spec[0]);
  d.p.set_ku(0, node.desc.n_inputs == 2 ? 1 : 0);
  return rec.add_flat(d, n_rows(node.desc.inputs[0]));
}

// ---- rope ----

// v as hi + lo, two floats (a double-float of rope.comp).
std::pair<float, float> split_double(double v) {
  const float hi = static_cast<float>(v);
  return {hi, static_cast<float>(v - static_cast<double>(hi))};
}

bool supports_rope(const ComputeCaps& caps, const tsr_node_desc& n, std::string& reason) {
  return ops::rope_supported(n, reason, /*freq_factors=*/true) && fits_device(caps, n, reason) &&
         fits_binding(caps, n.inputs[1], "pos", reason) &&
         (n.n_inputs < 3 || fits_binding(caps, n.inputs[2], "freq_factors", reason));
}

Status encode_rope(Recorder& rec, const tsr_subgraph_node& node) {
  const tsr_tensor_desc& x = node.desc.inputs[0];
  const int64_t n_rot = node.desc.params.i[0];
  // Items per row: n_rot / 2 rotated pairs, then the dims past n_rot copied.
  const uint64_t per_row = static_cast<uint64_t>(x.ne[0] - n_rot / 2);
  const uint64_t items = per_row * n_rows(x);
  // Double-float constants of rope.comp, computed in double: the ratio of
  // consecutive frequencies and the first frequency in turns.
  const double freq_scale = node.desc.params.f[1] == 0.0f ? 1.0 : node.desc.params.f[1];
  const auto [c_hi, c_lo] =
      split_double(std::pow(static_cast<double>(node.desc.params.f[0]), -2.0 / static_cast<double>(n_rot)));
  const auto [g_hi, g_lo] = split_double(freq_scale / (2.0 * std::numbers::pi));
  Dispatch d = node_dispatch(node, "rope", kRopeGroup);
  d.p.set_ku(0, static_cast<uint32_t>(per_row));
  d.p.set_ku(1, static_cast<uint32_t>(items));
  d.p.set_ku(2, std::bit_cast<uint32_t>(c_hi));
  d.p.set_ku(3, std::bit_cast<uint32_t>(c_lo));
  d.p.set_ku(4, std::bit_cast<uint32_t>(g_hi));
  d.p.set_ku(5, std::bit_cast<uint32_t>(g_lo));
  d.p.set_ku(6, node.desc.n_inputs == 3 ? 1 : 0);  // freq_factors in slot 2
  return rec.add_flat(d, ceil_div(items, kRopeGroup));
}

}  // namespace

const OpKernel Kernels::norm{supports_norm, encode_norm};
const OpKernel Kernels::softmax{supports_softmax, encode_softmax};
const OpKernel Kernels::rope{supports_rope, encode_rope};

}  // namespace tsr::kit::shader
