#include "core/graph.h"

#include "ops/op_schema.h"
#include "tessera/kit/dtype.h"

namespace tsr {

const char* value_kind_name(ValueKind k) {
  switch (k) {
    case ValueKind::kInput:
      return "input";
    case ValueKind::kWeight:
      return "weight";
    case ValueKind::kState:
      return "state";
    case ValueKind::kActivation:
      return "activation";
  }
  return "?";
}

Result<ValueId> Graph::add_leaf(std::string name, ValueKind kind, const TensorDesc& desc) {
  // Re-derive the layout from dtype and shape: a leaf is always contiguous and
  // this validates the caller's dims (overflow, block multiples).
  auto d = make_desc(desc.dtype, desc.rank, desc.ne);
  if (!d.is_ok())
    return make_error(d.status().code(), "[graph] {} '{}': {}", value_kind_name(kind), name,
                      d.status().message());
  Value v;
  v.name = std::move(name);
  v.kind = kind;
  v.desc = d.value();
  v.root = static_cast<ValueId>(values_.size());
  values_.push_back(std::move(v));
  return values_.back().root;
}

Result<ValueId> Graph::add_input(std::string name, const TensorDesc& desc) {
  return add_leaf(std::move(name), ValueKind::kInput, desc);
}

Result<ValueId> Graph::add_state(std::string name, const TensorDesc& desc, bool shared) {
  if (shared) {
    for (const Value& v : values_)
      if (v.shared && v.name == name) return invalid_arg("[graph] shared state '{}' declared twice", name);
  }
  auto id = add_leaf(std::move(name), ValueKind::kState, desc);
  if (id.is_ok()) values_[id.value()].shared = shared;
  return id;
}

Result<ValueId> Graph::add_weight(std::string name, const TensorDesc& desc, const void* data, int64_t size) {
  if (!data) return invalid_arg("[graph] weight '{}': data is null", name);
  auto id = add_leaf(name, ValueKind::kWeight, desc);
  if (!id.is_ok()) return id;
  Value& v = values_[id.value()];
  const int64_t need = n_bytes_contiguous(v.desc);
  if (size != need) {
    values_.pop_back();
    return invalid_arg("[graph] weight '{}': {} needs {} bytes, got {}", name, desc_str(v.desc), need, size);
  }
  v.data = data;
  v.data_size = size;
  return id;
}

Result<ValueId> Graph::add_node(int32_t op, const std::vector<ValueId>& inputs, const tsr_op_params& params) {
  const ops::OpInfo* info = ops::op_info(op);
  if (!info) return invalid_arg("[graph] unknown op id {}", op);
  const int n = static_cast<int>(inputs.size());
  if (n < info->min_inputs || n > info->max_inputs) {
    if (info->min_inputs == info->max_inputs)
      return invalid_arg("[{}] expects {} inputs, got {}", info->name, info->min_inputs, n);
    return invalid_arg("[{}] expects {} to {} inputs, got {}", info->name, info->min_inputs, info->max_inputs,
                       n);
  }
  TensorDesc in[TSR_MAX_INPUTS];
  for (int i = 0; i < n; ++i) {
    if (!valid_value(inputs[i]))
      return invalid_arg("[{}] input {} is tensor id {}, but the graph has {} tensors", info->name, i,
                         inputs[i], values_.size());
    in[i] = values_[inputs[i]].desc;
  }
  int64_t view_offset = 0;
  auto out = ops::infer(op, in, n, params, &view_offset);
  if (!out.is_ok()) return out.status();

  const NodeId nid = static_cast<NodeId>(nodes_.size());
  Value v;
  v.kind = ValueKind::kActivation;
  v.desc = out.value();
  v.producer = nid;
  if (info->is_view || info->writes_input0) {
    const Value& src = values_[inputs[0]];
    v.root = src.root;
    v.root_offset = src.root_offset + view_offset;
    v.kind = src.kind == ValueKind::kActivation ? ValueKind::kActivation : src.kind;
  } else {
    v.root = static_cast<ValueId>(values_.size());
  }
  v.name = std::string(info->name) + "#" + std::to_string(nid);
  const ValueId vid = static_cast<ValueId>(values_.size());
  values_.push_back(std::move(v));
  nodes_.push_back(Node{op, inputs, vid, params, device_});
  return vid;
}

Status Graph::mark_output(ValueId v) {
  if (!valid_value(v))
    return invalid_arg("[graph] output: tensor id {} not in graph ({} tensors)", v, values_.size());
  values_[v].is_output = true;
  return {};
}

Status Graph::set_name(ValueId v, std::string name) {
  if (!valid_value(v)) return invalid_arg("[graph] set_name: tensor id {} not in graph", v);
  values_[v].name = std::move(name);
  return {};
}

std::string Graph::node_label(NodeId n) const {
  const Node& nd = nodes_[n];
  return fmt::format("{}#{} {}", ops::op_name(nd.op), n, desc_str(values_[nd.output].desc));
}

Result<std::vector<NodeId>> live_nodes(const Graph& g) {
  std::vector<char> live(g.nodes().size(), 0);
  std::vector<char> needed(g.values().size(), 0);
  bool any_root = false;
  for (size_t v = 0; v < g.values().size(); ++v) {
    if (g.values()[v].is_output) {
      needed[v] = 1;
      any_root = true;
    }
  }
  for (size_t n = 0; n < g.nodes().size(); ++n) {
    const Node& nd = g.nodes()[n];
    const ops::OpInfo* info = ops::op_info(nd.op);
    if (info->writes_input0 && g.value(nd.output).kind == ValueKind::kState) {
      needed[nd.output] = 1;
      any_root = true;
    }
  }
  if (!any_root) return invalid_arg("[graph] nothing to compute: no outputs marked and no state written");
  // Walk backwards: graph order is topological, so one reverse pass suffices.
  for (size_t i = g.nodes().size(); i-- > 0;) {
    const Node& nd = g.nodes()[i];
    if (!needed[nd.output]) continue;
    live[i] = 1;
    for (ValueId in : nd.inputs) needed[in] = 1;
  }
  std::vector<NodeId> order;
  for (size_t i = 0; i < live.size(); ++i)
    if (live[i]) order.push_back(static_cast<NodeId>(i));
  return order;
}

}  // namespace tsr
