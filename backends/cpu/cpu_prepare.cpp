// supports_op, prepare, execute. Prepare validates every node (supported, its
// tensors inside their buffers), resolves addresses, lets the kernels plan
// once and allocates one scratch arena; execute only runs the planned
// kernels, so a step allocates nothing.
#include <fmt/format.h>

#include <algorithm>

#include "cpu_internal.h"
#include "tessera/kit/backend_glue.h"
#include "tessera/kit/op_info.h"
#include "tessera/kit/tensor.h"

tsr_bk_prepared_s::~tsr_bk_prepared_s() {
  profile.reset();  // prints its summary
  plans.clear();    // oneDNN state refers to the scratch: drop it first
  tsr::cpu::aligned_free64(scratch);
}

namespace tsr::cpu {
namespace {

using ops::op_name;

bool same_layout(const tsr_tensor_desc& a, const tsr_tensor_desc& b) {
  if (a.dtype != b.dtype) return false;
  for (int i = 0; i < TSR_MAX_DIMS; ++i)
    if (a.ne[i] != b.ne[i] || a.nb[i] != b.nb[i]) return false;
  return true;
}

// Address of a tensor after checking it lies inside its buffer.
Status resolve(const tsr_tensor_ref& ref, const tsr_tensor_desc& desc, int node, const char* what,
               char** out) {
  if (!same_layout(ref.desc, desc))
    return invalid_arg("[prepare] node {}: {} reference layout {} differs from the node's {}", node, what,
                       desc_str(ref.desc), desc_str(desc));
  if (!ref.buffer) return invalid_arg("[prepare] node {}: {} has no buffer", node, what);
  const auto span = static_cast<uint64_t>(n_bytes_spanned(desc));
  const uint64_t size = ref.buffer->size;
  if (ref.offset > size || span > size - ref.offset)
    return invalid_arg("[prepare] node {}: {} {} at offset {} spans {} bytes, buffer has {}", node, what,
                       desc_str(desc), ref.offset, span, size);
  if (!ref.buffer->data && span != 0)
    return invalid_arg("[prepare] node {}: {} buffer has no memory", node, what);
  *out = ref.buffer->data + ref.offset;
  return Status::ok();
}

Status prepare_impl(tsr_bk_device device, const tsr_subgraph* graph, tsr_bk_prepared* out_prepared) {
  if (!device || !graph || !out_prepared) return invalid_arg("[prepare] null argument");
  if (graph->n_nodes < 0 || (graph->n_nodes > 0 && !graph->nodes))
    return invalid_arg("[prepare] {} nodes with node array {}", graph->n_nodes,
                       graph->nodes ? "set" : "null");
  auto prep = std::make_unique<tsr_bk_prepared_s>();
  prep->device = device;
  prep->plans.resize(static_cast<size_t>(graph->n_nodes));
  const KernelContext& kctx = device->instance->kctx;
  size_t scratch = 0;
  for (int i = 0; i < graph->n_nodes; ++i) {
    const tsr_subgraph_node& sn = graph->nodes[i];
    std::string reason;
    if (!supports_node(sn.desc, reason))
      return make_error(TSR_ERR_UNSUPPORTED, "[prepare] node {} ({}): {}", i, op_name(sn.desc.op), reason);
    NodePlan& p = prep->plans[static_cast<size_t>(i)];
    p.node = sn.desc;
    p.n_threads = kctx.pool->n_threads();
    p.kctx = &kctx;
    for (int j = 0; j < sn.desc.n_inputs; ++j) {
      char* addr = nullptr;
      TSR_RETURN_IF_ERROR(
          resolve(sn.inputs[j], sn.desc.inputs[j], i, fmt::format("input {}", j).c_str(), &addr));
      p.in[j] = addr;
    }
    TSR_RETURN_IF_ERROR(resolve(sn.output, sn.desc.output, i, "output", &p.out));
    TSR_RETURN_IF_ERROR(plan_node(p));
    scratch = std::max(scratch, p.scratch_total());
  }
  // Nodes run one after another, so they share one arena.
  if (scratch > 0) {
    prep->scratch = aligned_alloc64(scratch);
    if (!prep->scratch) return make_error(TSR_ERR_OUT_OF_MEMORY, "[prepare] {} bytes of scratch", scratch);
  }
  for (auto& p : prep->plans) {
    p.scratch = prep->scratch;
    if (p.bind) TSR_RETURN_IF_ERROR(p.bind(p));
  }
  if (Profile::enabled()) {
    std::vector<tsr_node_desc> descs;
    for (const auto& p : prep->plans) descs.push_back(p.node);
    prep->profile = std::make_unique<Profile>(descs);
  }
  *out_prepared = prep.release();
  return Status::ok();
}

}  // namespace

int32_t supports_op(tsr_bk_device device, const tsr_node_desc* node, char* reason, size_t reason_len) {
  return guarded_supports(reason, reason_len, [&](std::string& why) {
    if (!node) {
      why = "null node";
      return false;
    }
    return supports_node(*node, why);
  });
}

tsr_status_code prepare(tsr_bk_device device, const tsr_subgraph* graph, tsr_bk_prepared* out_prepared,
                        tsr_error* err) {
  return guarded("prepare", err, [&] { return prepare_impl(device, graph, out_prepared); });
}

tsr_status_code execute(tsr_bk_prepared prepared, tsr_bk_queue queue, const tsr_step_params* params,
                        tsr_error* err) {
  return guarded("execute", err, [&]() -> Status {
    if (!prepared) return invalid_arg("[execute] null prepared subgraph");
    ExecCtx ctx;
    ctx.pool = prepared->device->instance->pool.get();
    ctx.step = params;
    Profile* prof = prepared->profile.get();
    const size_t n = prepared->plans.size();
    // A node of a prefill step takes milliseconds: asking between nodes
    // stops a long step promptly for one indirect call per node.
    auto aborted = [&](size_t i) {
      return make_error(TSR_ERR_ABORTED, "[execute] aborted by the caller before node {} of {}", i, n);
    };
    // A node whose output has no elements has nothing to write: its kernel is
    // not run, as kernels may be planned with no scratch for it and then hand
    // memcpy a null pointer, undefined even for 0 bytes (found by fuzz_graph_api).
    auto run = [&](size_t i) -> Status {
      const NodePlan& p = prepared->plans[i];
      return n_elements(p.node.output) == 0 ? Status::ok() : p.run(p, ctx);
    };
    if (!prof) {
      for (size_t i = 0; i < n; ++i) {
        if (kit::abort_requested(params)) return aborted(i);
        TSR_RETURN_IF_ERROR(run(i));
      }
      return Status::ok();
    }
    const int64_t t0 = now_ns();
    for (size_t i = 0; i < n; ++i) {
      if (kit::abort_requested(params)) return aborted(i);
      const int64_t t = now_ns();
      TSR_RETURN_IF_ERROR(run(i));
      prof->add_node(i, now_ns() - t);
    }
    prof->add_execute(now_ns() - t0);
    return Status::ok();
  });
}

void release_prepared(tsr_bk_prepared prepared) { delete prepared; }

}  // namespace tsr::cpu
