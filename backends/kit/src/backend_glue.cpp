#include "tessera/kit/backend_glue.h"

#include "tessera/kit/op_info.h"
#include "tessera/kit/tensor.h"

namespace tsr::kit {

Status check_subgraph(tsr_bk_device device, const tsr_subgraph* graph, const tsr_bk_prepared* out_prepared) {
  if (!device || !graph || !out_prepared) return invalid_arg("[prepare] null argument");
  if (graph->n_nodes < 0 || (graph->n_nodes > 0 && !graph->nodes))
    return invalid_arg("[prepare] {} nodes with node array {}", graph->n_nodes,
                       graph->nodes ? "set" : "null");
  for (int i = 0; i < graph->n_nodes; ++i) {
    const int n = graph->nodes[i].desc.n_inputs;
    if (n < 0 || n > TSR_MAX_INPUTS)
      return invalid_arg("[prepare] node {} ({}): {} inputs (0..{})", i,
                         ops::op_name(graph->nodes[i].desc.op), n, TSR_MAX_INPUTS);
  }
  return Status::ok();
}

Status node_unsupported(int i, int32_t op, const std::string& reason) {
  return make_error(TSR_ERR_UNSUPPORTED, "[prepare] node {} ({}): {}", i, ops::op_name(op), reason);
}

namespace {

// A tensor of node i lies inside its buffer (name: "input 2", "output").
Status check_span(int i, int32_t op, const std::string& name, const tsr_tensor_ref& r, BufferSize size) {
  const int64_t span = n_bytes_spanned(r.desc);
  const uint64_t bytes = size(r.buffer);
  if (span < 0 || r.offset > bytes || static_cast<uint64_t>(span) > bytes - r.offset)
    return invalid_arg("[prepare] node {} ({}): {} {} at offset {} spans {} bytes, buffer has {}", i,
                       ops::op_name(op), name, desc_str(r.desc), r.offset, span, bytes);
  return Status::ok();
}

}  // namespace

Status check_node_buffers(int i, const tsr_subgraph_node& node, BufferSize size) {
  const int32_t op = node.desc.op;
  for (int j = 0; j < node.desc.n_inputs; ++j) {
    const tsr_tensor_ref& r = node.inputs[j];
    if (!r.buffer) {
      if (element_count(node.desc.inputs[j]) > 0)
        return invalid_arg("[prepare] node {} ({}): input {} has no buffer", i, ops::op_name(op), j);
      continue;
    }
    TSR_RETURN_IF_ERROR(check_span(i, op, "input " + std::to_string(j), r, size));
  }
  if (!node.output.buffer)
    return invalid_arg("[prepare] node {} ({}): output has no buffer", i, ops::op_name(op));
  return check_span(i, op, "output", node.output, size);
}

Status check_step_params(const tsr_step_params* params, int max_values, int64_t min, int64_t max) {
  if (!params || params->n_values == 0) return Status::ok();
  if (params->n_values < 0 || params->n_values > max_values || !params->values)
    return invalid_arg("[execute] {} step values{} (0..{})", params->n_values,
                       params->values ? "" : " and no array", max_values);
  for (int i = 0; i < params->n_values; ++i) {
    const int64_t v = params->values[i];
    if (v < min || v > max)
      return invalid_arg("[execute] step value {} is {}, outside [{}, {}]", i, v, min, max);
  }
  return Status::ok();
}

}  // namespace tsr::kit
