// Compiling a graph: the passes of core/compile_plan.h in order, and the
// helpers they share.
#include "core/compile_plan.h"
#include "ops/op_schema.h"

namespace tsr {

ValueId version_of(const Graph& g, ValueId x) {
  while (g.value(x).producer >= 0 && is_view_node(g, g.value(x).producer))
    x = g.node(g.value(x).producer).inputs[0];
  return x;
}

bool is_view_node(const Graph& g, NodeId n) { return ops::op_info(g.node(n).op)->is_view; }
bool is_collective_node(const Graph& g, NodeId n) { return ops::op_info(g.node(n).op)->is_collective; }

tsr_node_desc make_node_desc(const Graph& g, NodeId n) {
  const Node& nd = g.node(n);
  tsr_node_desc d{};
  d.struct_size = sizeof(d);
  d.op = nd.op;
  d.n_inputs = static_cast<int32_t>(nd.inputs.size());
  for (size_t i = 0; i < nd.inputs.size(); ++i) d.inputs[i] = g.value(nd.inputs[i]).desc;
  d.output = g.value(nd.output).desc;
  d.params = nd.params;
  return d;
}

const Storage* CompiledModel::Impl::find_storage(const Graph& g, ValueId x, int32_t d) const {
  const ValueId r = g.value(x).root;
  if (g.value(r).kind == ValueKind::kWeight || home[r] == d) {
    auto it = storage.find({r, d});
    return it == storage.end() ? nullptr : &it->second;
  }
  auto it = replicas.find({version_of(g, x), d});
  return it == replicas.end() ? nullptr : &it->second;
}

CompiledModel::CompiledModel(Registry& r, const Graph& g)
    : registry_(r), graph_(g), impl_(std::make_unique<Impl>()) {}

CompiledModel::~CompiledModel() {
  if (!impl_) return;
  for (Segment& s : impl_->segments) {
    if (s.prepared) registry_.devices()[s.device].backend->iface().release_prepared(s.prepared);
  }
  for (DeviceState& d : impl_->devices) {
    for (tsr_bk_buffer b : d.owned) d.iface->buffer_free(b);
    for (tsr_bk_buffer b : d.shared_weights) impl_->shared_weights->release(b);
    if (d.queue) d.iface->queue_destroy(d.queue);
  }
}

Result<std::unique_ptr<CompiledModel>> CompiledModel::compile(Registry& registry, const Graph& graph,
                                                              const CompileOptions& options) {
  std::unique_ptr<CompiledModel> m(new CompiledModel(registry, graph));
  CompilePlan plan(registry, m->graph_, options, *m->impl_);
  m->impl_->comm = options.comm;
  m->impl_->shared_weights = options.shared_weights;
  TSR_RETURN_IF_ERROR(schedule_pass(plan, &m->report_, &m->stats_));
  TSR_RETURN_IF_ERROR(transfers_pass(plan, &m->stats_));
  TSR_RETURN_IF_ERROR(memory_pass(plan, &m->stats_));
  TSR_RETURN_IF_ERROR(prepare_pass(plan, &m->report_));
  return m;
}

const std::vector<DeviceMemoryPlan>& CompiledModel::memory_plans() const { return impl_->plans; }

std::vector<std::pair<NodeId, std::string>> CompiledModel::node_devices() const {
  std::vector<std::pair<NodeId, std::string>> r;
  for (NodeId n : impl_->order) r.emplace_back(n, registry_.devices()[impl_->node_dev[n]].name);
  return r;
}

}  // namespace tsr
