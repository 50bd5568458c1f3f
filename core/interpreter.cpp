#include "core/interpreter.h"

#include <cstring>

#include "ops/op_schema.h"

namespace tsr {

ReferenceInterpreter::ReferenceInterpreter(const Graph& g) : g_(g), storage_(g.values().size()) {
  for (size_t v = 0; v < g.values().size(); ++v) {
    const Value& val = g.value(static_cast<ValueId>(v));
    if (val.root == static_cast<ValueId>(v) && val.kind != ValueKind::kWeight)
      storage_[v].assign(static_cast<size_t>(n_bytes_contiguous(val.desc)), 0);
  }
}

const unsigned char* ReferenceInterpreter::root_ptr(ValueId root) const {
  const Value& r = g_.value(root);
  return r.kind == ValueKind::kWeight ? static_cast<const unsigned char*>(r.data) : storage_[root].data();
}

Status ReferenceInterpreter::set_input(ValueId v, const void* data, int64_t size) {
  if (!g_.valid_value(v) || g_.value(v).kind != ValueKind::kInput)
    return invalid_arg("[reference] tensor id {} is not an input", v);
  if (size != static_cast<int64_t>(storage_[v].size()))
    return invalid_arg("[reference] input '{}' needs {} bytes, got {}", g_.value(v).name, storage_[v].size(),
                       size);
  std::memcpy(storage_[v].data(), data, static_cast<size_t>(size));
  return {};
}

Status ReferenceInterpreter::run(const int64_t* step_params, int32_t n_step_params) {
  const tsr_step_params step{sizeof(tsr_step_params), n_step_params, step_params};
  auto live = live_nodes(g_);
  if (!live.is_ok()) return live.status();
  for (NodeId n : live.value()) {
    const Node& nd = g_.node(n);
    if (ops::op_info(nd.op)->is_view) continue;
    TensorDesc in_desc[TSR_MAX_INPUTS];
    const void* in[TSR_MAX_INPUTS];
    for (size_t i = 0; i < nd.inputs.size(); ++i) {
      const Value& x = g_.value(nd.inputs[i]);
      in_desc[i] = x.desc;
      in[i] = root_ptr(x.root) + x.root_offset;
    }
    const Value& out = g_.value(nd.output);
    if (g_.value(out.root).kind == ValueKind::kWeight)
      return invalid_arg("[reference] {} writes into weight '{}'", g_.node_label(n), g_.value(out.root).name);
    void* out_ptr = storage_[out.root].data() + out.root_offset;
    TSR_RETURN_IF_ERROR(ops::reference(nd.op, in_desc, in, static_cast<int>(nd.inputs.size()), out.desc,
                                       out_ptr, nd.params, &step));
  }
  return {};
}

Result<std::vector<unsigned char>> ReferenceInterpreter::read(ValueId v) const {
  if (!g_.valid_value(v)) return invalid_arg("[reference] tensor id {} not in graph", v);
  const Value& val = g_.value(v);
  std::vector<unsigned char> out(static_cast<size_t>(n_bytes_contiguous(val.desc)));
  TSR_RETURN_IF_ERROR(copy_to_contiguous(val.desc, root_ptr(val.root) + val.root_offset, out.data()));
  return out;
}

}  // namespace tsr
