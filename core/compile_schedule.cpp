// Compile pass 1: which device runs each live node and holds each input and
// state, and every copy between devices (core/scheduler.h decides all three).
#include <algorithm>
#include <cstring>
#include <map>
#include <string>

#include "core/communicator.h"
#include "core/compile_plan.h"
#include "core/support_restriction.h"
#include "ops/op_schema.h"

namespace tsr {
namespace {

// The compile's preference list, and the device of every name the graph's
// live nodes were placed on (Graph::set_device) into *pins.
Status resolve_devices(const Registry& registry, const CompileOptions& options, const Graph& g,
                       const std::vector<NodeId>& live, ScheduleOptions* sopt,
                       std::map<std::string, int32_t>* pins) {
  const std::vector<std::string> wanted =
      options.devices.empty() ? std::vector<std::string>{"cpu"} : options.devices;
  for (const std::string& name : wanted) {
    auto idx = registry.find_device(name);
    if (!idx.is_ok()) return idx.status();
    if (std::find(sopt->preference.begin(), sopt->preference.end(), idx.value()) == sopt->preference.end())
      sopt->preference.push_back(idx.value());
  }
  for (NodeId n : live) {
    const std::string& name = g.node(n).device;
    if (name.empty() || pins->count(name)) continue;
    auto idx = registry.find_device(name);
    if (!idx.is_ok())
      return make_error(idx.status().code(), "[compile] {} was placed on '{}' (tsr_graph_set_device): {}",
                        g.node_label(n), name, idx.status().message());
    (*pins)[name] = idx.value();
  }
  sopt->fallback = registry.cpu_device();
  if (sopt->fallback < 0)
    return make_error(TSR_ERR_NOT_FOUND, "[compile] no CPU device registered to fall back to");
  // After the lookups above: they start the backends they name.
  for (const Device& d : registry.devices()) sopt->devices.push_back(d.name);
  sopt->strict = options.strict;
  sopt->cost.enabled = options.transfer_cost;
  for (const Device& d : registry.devices()) sopt->cost.bandwidth.push_back(d.props.peak_bandwidth);
  return Status::ok();
}

bool is_leaf_root(const Value& v, ValueId id) {
  return v.root == id && (v.kind == ValueKind::kInput || v.kind == ValueKind::kState);
}

// Leaves first (every input and state), then the live nodes in order.
void collect_nodes(CompilePlan& plan, const std::vector<NodeId>& live,
                   const std::map<std::string, int32_t>& pins) {
  const Graph& g = plan.g;
  std::vector<int32_t> leaf(g.values().size(), -1), local(g.nodes().size(), -1);
  for (ValueId v = 0; v < static_cast<ValueId>(g.values().size()); ++v) {
    if (!is_leaf_root(g.value(v), v)) continue;
    leaf[v] = static_cast<int32_t>(plan.snodes.size());
    plan.snodes.push_back(
        ScheduleNode{.is_leaf = true,
                     .bytes = n_bytes_contiguous(g.value(v).desc),
                     .label = fmt::format("{} '{}'", value_kind_name(g.value(v).kind), g.value(v).name)});
    plan.snode_value.push_back(v);
  }
  for (NodeId n : live) {
    local[n] = static_cast<int32_t>(plan.snodes.size());
    const Node& nd = g.node(n);
    ScheduleNode sn;
    sn.is_view = is_view_node(g, n);
    // A view goes with the value it views, wherever the caller placed it.
    if (!sn.is_view && !nd.device.empty()) sn.pin = pins.at(nd.device);
    sn.label = g.node_label(n);
    sn.bytes = n_bytes_contiguous(g.value(nd.output).desc);
    for (ValueId x : nd.inputs) {
      const NodeId p = g.value(x).producer;
      sn.inputs.push_back(p >= 0 ? local[p] : leaf[g.value(x).root]);  // weights: -1
      sn.read_bytes += n_bytes_contiguous(g.value(x).desc);
    }
    plan.snodes.push_back(std::move(sn));
    plan.snode_value.push_back(nd.output);
  }
}

}  // namespace

Status schedule_pass(CompilePlan& plan, std::string* report, ModelStats* stats) {
  const Graph& g = plan.g;
  CompiledModel::Impl& im = plan.im;
  const auto& devs = plan.registry.devices();
  auto live = live_nodes(g);
  if (!live.is_ok()) return live.status();
  ScheduleOptions sopt;
  std::map<std::string, int32_t> pins;
  TSR_RETURN_IF_ERROR(resolve_devices(plan.registry, plan.options, g, live.value(), &sopt, &pins));
  plan.fallback = sopt.fallback;
  collect_nodes(plan, live.value(), pins);
  // Every collective must be for the communicator's world: a graph built
  // for 2 ranks cannot run alone, nor a 1-rank graph in a 2-rank job.
  const int64_t world = plan.options.comm ? plan.options.comm->size() : 1;
  for (NodeId n : live.value()) {
    if (!is_collective_node(g, n) || g.node(n).params.i[0] == world) continue;
    return make_error(TSR_ERR_INVALID_ARGUMENT, "[compile] {} is for a world of {} ranks, but {}",
                      g.node_label(n), g.node(n).params.i[0],
                      plan.options.comm
                          ? fmt::format("the context's communicator has {} ranks", world)
                          : std::string("the context has no communicator (tsr_context_open_comm)"));
  }

  const SupportRestriction restriction = SupportRestriction::from_env();
  auto supports = [&](int32_t device, int32_t node, std::string* reason) {
    const NodeId gn = g.value(plan.snode_value[node]).producer;
    // Core runs collectives on any device, staging through the host.
    if (is_collective_node(g, gn)) return true;
    const tsr_node_desc desc = make_node_desc(g, gn);
    const Device& d = devs[device];
    if (!restriction.allows(d.name, desc, reason)) return false;
    char buf[1024] = {0};  // room for a build log's first errors (OpenCL)
    const bool ok = d.backend->iface().supports_op(d.handle, &desc, buf, sizeof(buf)) != 0;
    if (!ok) *reason = std::string(buf, strnlen(buf, sizeof(buf)));
    return ok;
  };
  auto placement = schedule_nodes(plan.snodes, sopt, supports);
  if (!placement.is_ok()) return placement.status();
  plan.placement = std::move(placement.value());

  // Devices of nodes, homes of roots: activations where produced, inputs and
  // states where the scheduler put their leaf; weights bound where read.
  const int32_t nv = static_cast<int32_t>(g.values().size());
  im.node_dev.assign(g.nodes().size(), -1);
  im.home.assign(nv, -1);
  plan.weight_devices.assign(nv, {});
  for (size_t i = 0; i < plan.snodes.size(); ++i) {
    const ValueId v = plan.snode_value[i];
    const int32_t d = plan.placement.device[i];
    if (plan.snodes[i].is_leaf) {
      im.home[v] = d;
      continue;
    }
    const NodeId n = g.value(v).producer;
    im.node_dev[n] = d;
    if (plan.snodes[i].is_view) continue;
    im.order.push_back(n);
    if (g.value(v).root == v) im.home[v] = d;
    for (ValueId x : g.node(n).inputs)
      if (g.value(g.value(x).root).kind == ValueKind::kWeight) plan.weight_devices[g.value(x).root].insert(d);
  }
  for (NodeId n : im.order) {
    if (!ops::op_info(g.node(n).op)->writes_input0) continue;
    const ValueId r = g.value(g.node(n).inputs[0]).root;
    if (im.home[r] != im.node_dev[n])
      return make_error(TSR_ERR_UNSUPPORTED, "[compile] {} writes '{}' on {}, but that tensor lives on {}",
                        g.node_label(n), g.value(r).name, devs[im.node_dev[n]].name, devs[im.home[r]].name);
  }
  *report = format_placement(plan.snodes, sopt.devices, plan.placement);
  stats->n_nodes = static_cast<int32_t>(im.order.size());
  stats->n_fallbacks = plan.placement.n_fallbacks;
  stats->n_kept = plan.placement.n_kept;
  return Status::ok();
}

}  // namespace tsr
