// Compile pass 2: segments (maximal runs of consecutive nodes on one device),
// the scheduler's copies as the executor's transfers, and the lifetime of
// every activation and replica for the memory planner.
#include <algorithm>

#include "core/compile_plan.h"

namespace tsr {

Status transfers_pass(CompilePlan& plan, ModelStats* stats) {
  const Graph& g = plan.g;
  CompiledModel::Impl& im = plan.im;
  std::vector<int32_t> seg_of_pos(im.order.size()), pos_of_node(g.nodes().size(), -1);
  for (size_t i = 0; i < im.order.size(); ++i) {
    const int32_t d = im.node_dev[im.order[i]];
    // A collective is a segment of its own: core runs it between the
    // device's segments, not the backend.
    const bool collective = is_collective_node(g, im.order[i]);
    if (im.segments.empty() || im.segments.back().device != d || collective || im.segments.back().collective)
      im.segments.push_back(Segment{d, {}, {}, {}, nullptr, collective});
    im.segments.back().nodes.push_back(im.order[i]);
    seg_of_pos[i] = static_cast<int32_t>(im.segments.size()) - 1;
    pos_of_node[im.order[i]] = static_cast<int32_t>(i);
  }
  std::vector<int32_t> seg_start(im.segments.size());
  for (size_t i = im.order.size(); i-- > 0;) seg_start[seg_of_pos[i]] = static_cast<int32_t>(i);

  // Each copy happens before the segment of its first consumer on the destination.
  for (const BoundaryCopy& c : plan.placement.copies) {
    const ValueId version = plan.snode_value[c.value];
    const ValueId root = g.value(version).root;
    if (im.home[root] != c.from)
      return make_error(TSR_ERR_INTERNAL, "[compile] copy of '{}' from device {}, but it lives on device {}",
                        g.value(version).name, c.from, im.home[root]);
    const int32_t pos = pos_of_node[g.value(plan.snode_value[c.first_consumer]).producer];
    const int32_t seg = seg_of_pos[pos];
    const int32_t ti = static_cast<int32_t>(im.transfers.size());
    im.transfers.push_back(Transfer{version, root, c.from, c.to});
    im.segments[seg].transfers_before.push_back(ti);
    plan.replica_life[{version, c.to}] = ReplicaLife{2 * seg_start[seg], 2 * pos + 1};
  }

  // Lifetimes: an activation from its first write to its last read on its
  // home (a transfer out of it counts as a read); a replica until its last
  // reader on its device.
  const int32_t nv = static_cast<int32_t>(g.values().size());
  plan.first.assign(nv, INT_MAX);
  plan.last.assign(nv, -1);
  for (const auto& [key, life] : plan.replica_life) {
    const ValueId r = g.value(key.first).root;
    plan.last[r] = std::max(plan.last[r], life.first);
  }
  for (size_t i = 0; i < im.order.size(); ++i) {
    const NodeId n = im.order[i];
    const int32_t d = im.node_dev[n];
    const int32_t step = 2 * static_cast<int32_t>(i) + 1;
    const Node& nd = g.node(n);
    const ValueId out_root = g.value(nd.output).root;
    plan.first[out_root] = std::min(plan.first[out_root], step);
    plan.last[out_root] = std::max(plan.last[out_root], step);
    for (ValueId x : nd.inputs) {
      const ValueId r = g.value(x).root;
      if (g.value(r).kind == ValueKind::kWeight) continue;
      if (im.home[r] == d) {
        plan.last[r] = std::max(plan.last[r], step);
        continue;
      }
      auto it = plan.replica_life.find({version_of(g, x), d});
      if (it == plan.replica_life.end())
        return make_error(TSR_ERR_INTERNAL,
                          "[compile] {} reads '{}' on device {}, but no copy brings it there",
                          g.node_label(n), g.value(x).name, d);
      it->second.last = std::max(it->second.last, step);
    }
  }
  const int32_t end_step = 2 * static_cast<int32_t>(im.order.size()) + 2;
  for (ValueId v = 0; v < nv; ++v)
    if (g.value(v).is_output) plan.last[g.value(v).root] = end_step;
  stats->n_copies = static_cast<int32_t>(im.transfers.size());
  return Status::ok();
}

}  // namespace tsr
