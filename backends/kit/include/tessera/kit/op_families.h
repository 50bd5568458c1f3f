// Op families: the groups of tsr_op a backend encodes with one encoder, and
// the lookup from an op to the backend's encoder for its family. The list of
// element-wise ops (and of every other family) lives here once, so two
// backends cannot drift apart on which op a family covers.
//
//   struct Kernels {  // in the backend, one static member per family it has
//     using Kernel = kit::OpKernel<Caps, Encoder>;
//     static const Kernel data, elementwise, matmul;
//   };
//   const Kernels::Kernel* k = kit::find_kernel<Kernels>(node.op);  // null: none
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "tessera/kit/backend_glue.h"
#include "tessera/kit/op_info.h"
#include "tessera/kit/status.h"
#include "tessera/kit/tensor.h"
#include "tessera/tessera_backend.h"

namespace tsr::kit {

enum class OpFamily {
  none,         // views, collectives (run by core) and unknown ops: nothing to encode
  data,         // get_rows, set_rows, cpy, concat: copies (copy_plan.h)
  argmax,       // argmax over dim 0
  elementwise,  // add, sub, mul, div, scale, silu, gelu, softcap, swiglu, geglu
  matmul,
  norm,  // rms_norm, layer_norm
  rope,
  softmax,
  attention,
  paged_attention,  // attention over a block-table KV pool: a kernel of its own
};

OpFamily op_family(int32_t op);

// One family's encoder in a backend whose devices decide with Caps and
// record into Encoder.
template <class Caps, class Encoder>
struct OpKernel {
  // True when the device runs the node exactly as tsr_op documents it; else
  // false with a short reason.
  bool (*supports)(const Caps& caps, const tsr_node_desc& node, std::string& reason);
  // Records the node's kernels. Called only for supported nodes.
  Status (*encode)(Encoder& enc, const tsr_subgraph_node& node);
};

// K's encoder for op's family: the static member of K named after the family,
// or nullptr when op has no family or K has no such member.
template <class K>
const typename K::Kernel* find_kernel(int32_t op) {
  switch (op_family(op)) {
    case OpFamily::data:
      if constexpr (requires { K::data; }) return &K::data;
      break;
    case OpFamily::argmax:
      if constexpr (requires { K::argmax; }) return &K::argmax;
      break;
    case OpFamily::elementwise:
      if constexpr (requires { K::elementwise; }) return &K::elementwise;
      break;
    case OpFamily::matmul:
      if constexpr (requires { K::matmul; }) return &K::matmul;
      break;
    case OpFamily::norm:
      if constexpr (requires { K::norm; }) return &K::norm;
      break;
    case OpFamily::rope:
      if constexpr (requires { K::rope; }) return &K::rope;
      break;
    case OpFamily::softmax:
      if constexpr (requires { K::softmax; }) return &K::softmax;
      break;
    case OpFamily::attention:
      if constexpr (requires { K::attention; }) return &K::attention;
      break;
    case OpFamily::paged_attention:
      if constexpr (requires { K::paged_attention; }) return &K::paged_attention;
      break;
    case OpFamily::none:
      break;
  }
  return nullptr;
}

// K's encoder for op; nullptr with the reason "<op> has no <device> kernel"
// when there is none.
template <class K>
const typename K::Kernel* kernel_for(int32_t op, std::string_view device, std::string& reason) {
  const typename K::Kernel* k = find_kernel<K>(op);
  if (!k) reason = std::string(ops::op_name(op)) + " has no " + std::string(device) + " kernel";
  return k;
}

// prepare's loop over graph: node i is checked (check_node with
// supports(desc, reason) and size), skipped when its output is empty, else
// enc.set_node(i, op) names it for enc's messages and K's encoder for its
// family records it into enc.
template <class K, class Enc, class Supports>
Status encode_nodes(const tsr_subgraph& graph, BufferSize size, Enc& enc, Supports&& supports) {
  for (int i = 0; i < graph.n_nodes; ++i) {
    const tsr_subgraph_node& sn = graph.nodes[i];
    TSR_RETURN_IF_ERROR(check_node(i, sn, size, [&](std::string& why) { return supports(sn.desc, why); }));
    if (element_count(sn.desc.output) == 0) continue;
    enc.set_node(i, sn.desc.op);
    TSR_RETURN_IF_ERROR(find_kernel<K>(sn.desc.op)->encode(enc, sn));
  }
  return Status::ok();
}

}  // namespace tsr::kit
