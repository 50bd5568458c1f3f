#include "core/scheduler.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <set>
#include <utility>

#include "core/scheduler_cost.h"

namespace tsr {
namespace {

std::string node_name(const std::vector<ScheduleNode>& nodes, size_t i) {
  return nodes[i].label.empty() ? fmt::format("#{}", i) : nodes[i].label;
}

Status validate(const std::vector<ScheduleNode>& nodes, const ScheduleOptions& opt,
                const SupportsFn& supports) {
  const int64_t n_dev = static_cast<int64_t>(opt.devices.size());
  if (opt.preference.empty()) return invalid_arg("[schedule] empty device preference list");
  for (size_t k = 0; k < opt.preference.size(); ++k) {
    const int32_t d = opt.preference[k];
    if (d < 0 || d >= n_dev)
      return invalid_arg("[schedule] preference[{}] = {} is not a device index in 0..{}", k, d, n_dev - 1);
    for (size_t j = 0; j < k; ++j)
      if (opt.preference[j] == d)
        return invalid_arg("[schedule] device {} appears twice in the preference list", opt.devices[d]);
  }
  if (opt.fallback < 0 || opt.fallback >= n_dev)
    return invalid_arg("[schedule] fallback {} is not a device index in 0..{}", opt.fallback, n_dev - 1);
  if (!supports) return invalid_arg("[schedule] no supports callback");
  if (nodes.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max()))
    return invalid_arg("[schedule] {} nodes: more than int32 can index", nodes.size());
  for (size_t i = 0; i < nodes.size(); ++i) {
    const ScheduleNode& node = nodes[i];
    for (int32_t p : node.inputs)
      if (p < -1 || p >= static_cast<int64_t>(i))
        return invalid_arg("[schedule] node {} (#{}): input {} is neither -1 nor an earlier node",
                           node_name(nodes, i), i, p);
    if (node.is_view && node.inputs.size() != 1)
      return invalid_arg("[schedule] node {} (#{}): a view has exactly one input, not {}",
                         node_name(nodes, i), i, node.inputs.size());
    if (node.pin < -1 || node.pin >= n_dev)
      return invalid_arg("[schedule] node {} (#{}): pin {} is not a device index in 0..{}",
                         node_name(nodes, i), i, node.pin, n_dev - 1);
    if (node.pin >= 0 && (node.is_view || node.is_leaf))
      return invalid_arg("[schedule] node {} (#{}): only a compute node can be pinned", node_name(nodes, i),
                         i);
    if (node.is_leaf && (node.is_view || !node.inputs.empty()))
      return invalid_arg("[schedule] node {} (#{}): a leaf has no inputs and is not a view",
                         node_name(nodes, i), i);
  }
  return Status::ok();
}

// "vulkan:0: q4_1 weights; opencl:0: f16 unsupported"
std::string join_refusals(const std::vector<Refusal>& refusals, const std::vector<std::string>& devices) {
  std::string s;
  for (const Refusal& r : refusals) {
    if (!s.empty()) s += "; ";
    s += fmt::format("{}: {}", devices[r.device], r.reason);
  }
  return s;
}

// Asks the preference list, then the fallback; fills device and refusals of node i.
Status place_compute_node(const std::vector<ScheduleNode>& nodes, size_t i, const ScheduleOptions& opt,
                          const SupportsFn& supports, int32_t* out_device, std::vector<Refusal>* refusals) {
  auto ask = [&](int32_t d) {
    std::string reason;
    if (supports(d, static_cast<int32_t>(i), &reason)) return true;
    refusals->push_back({d, reason.empty() ? std::string("no reason given") : std::move(reason)});
    return false;
  };
  bool fallback_refused = false;
  const std::vector<int32_t> pinned{nodes[i].pin};
  for (int32_t d : nodes[i].pin >= 0 ? pinned : opt.preference) {
    if (ask(d)) {
      *out_device = d;
      return Status::ok();
    }
    fallback_refused = fallback_refused || d == opt.fallback;
  }
  const std::string& fb = opt.devices[opt.fallback];
  if (opt.strict && !fallback_refused)
    return make_error(TSR_ERR_UNSUPPORTED,
                      "[schedule] node {}: no {} device supports it: {}; strict mode forbids fallback to {}",
                      node_name(nodes, i), nodes[i].pin >= 0 ? "placed" : "preferred",
                      join_refusals(*refusals, opt.devices), fb);
  if (!fallback_refused && ask(opt.fallback)) {
    *out_device = opt.fallback;
    return Status::ok();
  }
  return make_error(TSR_ERR_UNSUPPORTED,
                    "[schedule] node {}: no device supports it, not even the fallback {}: {}",
                    node_name(nodes, i), fb, join_refusals(*refusals, opt.devices));
}

// "(kept on cpu:0: run rms_norm#3 .. mul#5 of 3 nodes: on vulkan:0 45.1 us
// with 2 copies (4.50 KiB), here 20.0 us with 0 copies)"
std::string explain_kept(const std::vector<ScheduleNode>& nodes, const KeptRun& k, const std::string& here,
                         const std::string& there) {
  auto name = [&](int32_t i) {
    return i >= 0 && static_cast<size_t>(i) < nodes.size() ? node_name(nodes, i) : fmt::format("#{}", i);
  };
  auto cost = [](double seconds, int32_t copies, int64_t bytes) {
    return fmt::format("{:.1f} us with {} cop{} ({:.2f} KiB)", seconds * 1e6, copies,
                       copies == 1 ? "y" : "ies", bytes / 1024.0);
  };
  const std::string run = k.n_nodes == 1
                              ? name(k.first)
                              : fmt::format("{} .. {} of {} nodes", name(k.first), name(k.last), k.n_nodes);
  return fmt::format("(kept on {}: run {}: on {} {}, here {})", here, run, there,
                     cost(k.cost_preferred, k.copies_preferred, k.copy_bytes_preferred),
                     cost(k.cost_fallback, k.copies_fallback, k.copy_bytes_fallback));
}

}  // namespace

Result<Placement> schedule_nodes(const std::vector<ScheduleNode>& nodes, const ScheduleOptions& options,
                                 const SupportsFn& supports) {
  TSR_RETURN_IF_ERROR(validate(nodes, options, supports));
  const size_t n = nodes.size();
  Placement out;
  out.device.assign(n, -1);
  out.refusals.resize(n);

  // Compute nodes: ask the devices.
  for (size_t i = 0; i < n; ++i) {
    if (nodes[i].is_view || nodes[i].is_leaf) continue;
    TSR_RETURN_IF_ERROR(place_compute_node(nodes, i, options, supports, &out.device[i], &out.refusals[i]));
    if (!out.refusals[i].empty()) ++out.n_fallbacks;
  }
  const std::vector<int32_t> base = value_bases(nodes);
  out.kept.assign(n, -1);
  if (options.cost.enabled && !options.strict) keep_costly_runs(nodes, base, options, supports, &out);

  // Views and leaves sit with their base: a compute node where it ran; a leaf
  // (or a view of a weight) where a compute node first reads it or a view of
  // it, else on the fallback.
  for (size_t c = 0; c < n; ++c) {
    if (nodes[c].is_view || nodes[c].is_leaf) continue;
    for (int32_t p : nodes[c].inputs)
      if (p >= 0 && out.device[base[p]] < 0) out.device[base[p]] = out.device[c];
  }
  for (size_t i = 0; i < n; ++i) {
    if (out.device[base[i]] < 0) out.device[base[i]] = options.fallback;
    out.device[i] = out.device[base[i]];
  }

  // One copy per (value, destination), at its first consumer there. A view
  // of a weight is no value to copy: weights are bound where they are read.
  std::set<std::pair<int32_t, int32_t>> copied;
  for (size_t c = 0; c < n; ++c) {
    if (nodes[c].is_view || nodes[c].is_leaf) continue;
    const int32_t to = out.device[c];
    for (int32_t p : nodes[c].inputs) {
      if (p < 0 || nodes[base[p]].is_view) continue;
      const int32_t v = base[p];
      if (out.device[v] == to || !copied.insert({v, to}).second) continue;
      out.copies.push_back({v, out.device[v], to, static_cast<int32_t>(c)});
    }
  }
  return out;
}

std::string format_placement(const std::vector<ScheduleNode>& nodes, const std::vector<std::string>& devices,
                             const Placement& placement) {
  auto device_name = [&](int32_t d) {
    return d >= 0 && static_cast<size_t>(d) < devices.size() ? devices[d] : fmt::format("device({})", d);
  };
  const size_t n = std::min(nodes.size(), placement.device.size());
  size_t width = 0;
  for (size_t i = 0; i < n; ++i) width = std::max(width, node_name(nodes, i).size());

  // Nodes first, in order; then the leaves (where inputs and states live).
  std::vector<size_t> order;
  for (int leaves = 0; leaves < 2; ++leaves)
    for (size_t i = 0; i < n; ++i)
      if (nodes[i].is_leaf == (leaves == 1)) order.push_back(i);
  std::string s;
  for (size_t i : order) {
    s += fmt::format("{:<{}}  {}", node_name(nodes, i), width, device_name(placement.device[i]));
    if (nodes[i].is_view) s += " (view)";
    if (nodes[i].is_leaf) s += " (leaf)";
    if (i < placement.refusals.size() && !placement.refusals[i].empty()) {
      s += " (fallback: ";
      for (size_t k = 0; k < placement.refusals[i].size(); ++k) {
        const Refusal& r = placement.refusals[i][k];
        s += fmt::format("{}{} said '{}'", k ? ", " : "", device_name(r.device), r.reason);
      }
      s += ")";
    }
    if (i < placement.kept.size() && placement.kept[i] >= 0 &&
        static_cast<size_t>(placement.kept[i]) < placement.kept_runs.size())
      s += " " + explain_kept(nodes, placement.kept_runs[placement.kept[i]], device_name(placement.device[i]),
                              device_name(placement.kept_runs[placement.kept[i]].preferred));
    s += "\n";
  }
  for (const BoundaryCopy& c : placement.copies) {
    const bool known = c.value >= 0 && static_cast<size_t>(c.value) < n && c.first_consumer >= 0 &&
                       static_cast<size_t>(c.first_consumer) < n;
    s += fmt::format("copy {}: {} -> {}", known ? node_name(nodes, c.value) : fmt::format("#{}", c.value),
                     device_name(c.from), device_name(c.to));
    if (known) s += fmt::format(" (before {})", node_name(nodes, c.first_consumer));
    s += "\n";
  }

  // Summary of the nodes (leaves are data, not nodes), devices in index
  // order, those with no node left out.
  std::vector<int64_t> count(devices.size(), 0);
  size_t n_nodes = 0;
  for (size_t i = 0; i < n; ++i) {
    if (nodes[i].is_leaf) continue;
    ++n_nodes;
    if (placement.device[i] >= 0 && static_cast<size_t>(placement.device[i]) < devices.size())
      ++count[placement.device[i]];
  }
  std::string per_device;
  for (size_t d = 0; d < devices.size(); ++d)
    if (count[d] > 0)
      per_device += fmt::format("{}{} on {}", per_device.empty() ? "" : ", ", count[d], devices[d]);
  s += fmt::format("{} nodes{}{}; {} fallbacks; {} kept by transfer cost; {} copies\n", n_nodes,
                   per_device.empty() ? "" : ": ", per_device, placement.n_fallbacks, placement.n_kept,
                   placement.copies.size());
  return s;
}

}  // namespace tsr
