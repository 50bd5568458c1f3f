// Compile pass 4: each segment's nodes bound to their storage and prepared
// once on its device; the memory report.
#include <algorithm>
#include <map>
#include <set>

#include "core/compile_plan.h"

namespace tsr {
namespace {

std::string mib(int64_t bytes) { return fmt::format("{:.2f} MiB", bytes / (1024.0 * 1024.0)); }

}  // namespace

Status prepare_pass(CompilePlan& plan, std::string* report) {
  const Graph& g = plan.g;
  CompiledModel::Impl& im = plan.im;
  const auto& devs = plan.registry.devices();
  // Device collective libraries first, before anything that can fail on one
  // rank only: the ranks agree on them collectively (Communicator::device_comm).
  std::set<int32_t> coll_devices;
  for (const Segment& s : im.segments)
    if (s.collective) coll_devices.insert(s.device);
  if (plan.options.comm && !coll_devices.empty()) {
    const int32_t d = coll_devices.size() == 1 ? *coll_devices.begin() : -1;
    auto dc = plan.options.comm->device_comm(d, d >= 0 ? &devs[d] : nullptr);
    if (!dc.is_ok()) return dc.status();
    for (Segment& s : im.segments)
      if (s.collective) s.device_comm = dc.value();
  }
  for (Segment& s : im.segments) {
    const Device& dev = devs[s.device];
    for (NodeId n : s.nodes) {
      const Node& nd = g.node(n);
      tsr_subgraph_node sn{};
      sn.desc = make_node_desc(g, n);
      for (size_t k = 0; k < nd.inputs.size(); ++k) {
        const Storage* st = im.find_storage(g, nd.inputs[k], s.device);
        if (!st)
          return make_error(TSR_ERR_INTERNAL, "[compile] no storage for input {} of {}", k, g.node_label(n));
        sn.inputs[k] = tsr_tensor_ref{st->buffer, st->offset + g.value(nd.inputs[k]).root_offset,
                                      g.value(nd.inputs[k]).desc};
      }
      const Storage* st = im.find_storage(g, nd.output, s.device);
      if (!st)
        return make_error(TSR_ERR_INTERNAL, "[compile] no storage for the output of {}", g.node_label(n));
      sn.output =
          tsr_tensor_ref{st->buffer, st->offset + g.value(nd.output).root_offset, g.value(nd.output).desc};
      s.sub.push_back(sn);
    }
    if (s.collective) continue;  // run by core (executor_collective.cpp)
    tsr_subgraph sg{sizeof(tsr_subgraph), static_cast<int32_t>(s.sub.size()), s.sub.data()};
    tsr_error err{};
    if (dev.backend->iface().prepare(dev.handle, &sg, &s.prepared, &err) != TSR_OK)
      return make_error(TSR_ERR_DEVICE, "[compile] {}: prepare failed: {}", dev.name,
                        backend_error(err, "prepare"));
  }

  // How each device's collectives run, for the placement report.
  std::map<int32_t, int32_t> collectives;  // device -> count
  for (const Segment& s : im.segments)
    if (s.collective) ++collectives[s.device];
  for (const auto& [d, n] : collectives) {
    const Segment& s = *std::find_if(im.segments.begin(), im.segments.end(),
                                     [d = d](const Segment& x) { return x.collective && x.device == d; });
    const char* host = devs[d].props.host_visible ? "host memory, in place" : "staged through host memory";
    *report += fmt::format("collectives on {}: {} per step, {}\n", devs[d].name, n,
                           s.device_comm       ? fmt::format("{} on the device", s.device_comm->iface->name)
                           : plan.options.comm ? fmt::format("{} ({})", plan.options.comm->name(), host)
                                               : std::string("a world of one rank (copies)"));
  }

  // Memory per device, for the placement report.
  for (const DeviceState& ds : im.devices) {
    *report += fmt::format(
        "memory on {}: activations {} planned (sum of tensors {}, {} in place), states {}, weights {} ({})\n",
        devs[ds.device].name, mib(ds.arena_bytes), mib(ds.arena_total), ds.n_inplace, mib(ds.state_bytes),
        mib(ds.weight_bytes),
        ds.weight_bytes == 0  ? "none"
        : ds.weights_in_place ? "used in place"
                              : "uploaded");
  }
  return Status::ok();
}

}  // namespace tsr
