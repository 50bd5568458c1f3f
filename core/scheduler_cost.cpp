#include "core/scheduler_cost.h"

#include <set>
#include <utility>

namespace tsr {
namespace {

bool is_compute(const ScheduleNode& n) { return !n.is_view && !n.is_leaf; }

class RunCoster {
 public:
  RunCoster(const std::vector<ScheduleNode>& nodes, const std::vector<int32_t>& base,
            const ScheduleOptions& options, const Placement& placement)
      : nodes_(nodes),
        base_(base),
        opt_(options),
        placement_(placement),
        in_run_(nodes.size(), false),
        readers_(nodes.size()) {
    // Compute readers of every compute value, views resolved: a run's outputs
    // read elsewhere need copies out.
    for (size_t c = 0; c < nodes.size(); ++c) {
      if (!is_compute(nodes[c])) continue;
      for (int32_t p : nodes[c].inputs)
        if (p >= 0 && is_compute(nodes[base[p]])) readers_[base[p]].push_back(static_cast<int32_t>(c));
    }
  }

  double bandwidth(int32_t d) const {
    auto known = [&](int32_t x) {
      return x >= 0 && static_cast<size_t>(x) < opt_.cost.bandwidth.size() && opt_.cost.bandwidth[x] > 0;
    };
    if (known(d)) return opt_.cost.bandwidth[d];
    return known(opt_.fallback) ? opt_.cost.bandwidth[opt_.fallback] : opt_.cost.default_bandwidth;
  }

  struct Cost {
    double seconds = 0;
    int32_t copies = 0;
    int64_t copy_bytes = 0;
  };

  // The run's cost if all of `members` ran on device x, everything else staying put.
  Cost cost_on(const std::vector<int32_t>& members, int32_t x) {
    for (int32_t i : members) in_run_[i] = true;
    Cost c;
    std::set<std::pair<int32_t, int32_t>> copies;  // (value, destination)
    for (int32_t i : members) {
      const ScheduleNode& n = nodes_[i];
      c.seconds += static_cast<double>(n.read_bytes + n.bytes) / bandwidth(x);
      for (int32_t p : n.inputs) {
        if (p < 0) continue;
        const int32_t b = base_[p];
        if (is_compute(nodes_[b]) && !in_run_[b] && placement_.device[b] != x) copies.insert({b, x});
      }
      for (int32_t r : readers_[i])
        if (!in_run_[r] && placement_.device[r] != x) copies.insert({i, placement_.device[r]});
    }
    for (const auto& [value, to] : copies) {
      (void)to;
      ++c.copies;
      c.copy_bytes += nodes_[value].bytes;
      c.seconds +=
          opt_.cost.copy_latency + static_cast<double>(nodes_[value].bytes) / opt_.cost.transfer_bandwidth;
    }
    for (int32_t i : members) in_run_[i] = false;
    return c;
  }

 private:
  const std::vector<ScheduleNode>& nodes_;
  const std::vector<int32_t>& base_;
  const ScheduleOptions& opt_;
  const Placement& placement_;
  std::vector<bool> in_run_;
  std::vector<std::vector<int32_t>> readers_;
};

// Whether the fallback runs every member; asks it at most once per node and
// stops at the first refusal. A fallback that refused while in the
// preference list is not asked again.
bool fallback_runs_all(const std::vector<int32_t>& members, const ScheduleOptions& opt,
                       const SupportsFn& supports, const Placement& placement) {
  for (int32_t i : members) {
    for (const Refusal& r : placement.refusals[i])
      if (r.device == opt.fallback) return false;
    std::string reason;
    if (!supports(opt.fallback, i, &reason)) return false;
  }
  return true;
}

}  // namespace

std::vector<int32_t> value_bases(const std::vector<ScheduleNode>& nodes) {
  std::vector<int32_t> base(nodes.size());
  for (size_t i = 0; i < nodes.size(); ++i) {
    const int32_t p = nodes[i].is_view ? nodes[i].inputs[0] : -1;
    base[i] = p >= 0 ? base[p] : static_cast<int32_t>(i);
  }
  return base;
}

void keep_costly_runs(const std::vector<ScheduleNode>& nodes, const std::vector<int32_t>& base,
                      const ScheduleOptions& options, const SupportsFn& supports, Placement* placement) {
  RunCoster coster(nodes, base, options, *placement);
  placement->kept.assign(nodes.size(), -1);
  const int32_t fb = options.fallback;

  auto decide = [&](const std::vector<int32_t>& members) {
    if (members.empty()) return;
    const int32_t d = placement->device[members.front()];
    if (d == fb || !fallback_runs_all(members, options, supports, *placement)) return;
    const RunCoster::Cost there = coster.cost_on(members, d);
    const RunCoster::Cost here = coster.cost_on(members, fb);
    if (!(here.seconds < there.seconds)) return;  // a tie stays where the caller preferred
    const int32_t k = static_cast<int32_t>(placement->kept_runs.size());
    placement->kept_runs.push_back(
        KeptRun{members.front(), members.back(), static_cast<int32_t>(members.size()), d, there.seconds,
                here.seconds, there.copies, here.copies, there.copy_bytes, here.copy_bytes});
    for (int32_t i : members) {
      placement->device[i] = fb;
      placement->kept[i] = k;
    }
    placement->n_kept += static_cast<int32_t>(members.size());
  };

  // Maximal runs of consecutive compute nodes on one device, in node order;
  // later runs see the decisions on earlier ones. A pinned node is where the
  // caller put it: it ends a run and is never a member.
  std::vector<int32_t> run;
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (!is_compute(nodes[i])) continue;
    if (nodes[i].pin >= 0) {
      decide(run);
      run.clear();
      continue;
    }
    if (!run.empty() && placement->device[run.front()] != placement->device[i]) {
      decide(run);
      run.clear();
    }
    run.push_back(static_cast<int32_t>(i));
  }
  decide(run);
}

}  // namespace tsr
