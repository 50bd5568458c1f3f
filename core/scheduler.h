// Scheduler: which device runs each node, and which values cross devices.
//
// A pure algorithm over plain structs, independent of the graph IR: the
// executor lists its nodes in topological order as ScheduleNodes (input edges
// by node index, leaves as -1), names its devices, and answers support queries
// through a callback. Nothing here owns or calls a backend.
//
// Rules:
// - A compute node goes to the first device of `preference` that supports it.
//   If none does, it goes to `fallback` (the CPU), unless `strict` is set,
//   which makes that an error. If the fallback refuses too, that is an error in
//   every mode. The fallback is asked at most once per node, even when it is
//   also in `preference`.
// - A pinned compute node (ScheduleNode::pin, the caller's placement, e.g. a
//   layer of a pipeline split) asks its pin instead of `preference`, then
//   falls back by the same rules; the transfer-cost model never moves it.
// - A view (metadata only, exactly one input: the value it views) is never
//   asked about: it takes the device of its producer, through chains of views.
//   A view of a leaf has no producer, so it takes the device of the first
//   compute node (lowest index) that reads it or a view of it: that is where
//   the leaf's data is needed first, so no copy is needed there. A view of a
//   leaf that no compute node reads goes to the fallback device.
// - A leaf node (is_leaf: a graph input or state, data that lives on one
//   device) is never asked about either: it goes where the first compute node
//   reading it (or a view of it) runs, else to the fallback. An input of -1 is
//   a leaf available on every device (a weight, bound where it is read): it is
//   never copied.
// - A copy is needed where a compute node reads a value that lives on another
//   device: one per (value, destination device), however many consumers there
//   share it. The value of a view is the value it views (through chains of
//   views), so two views of one tensor read on another device make one copy.
//   This list is every transfer the executor makes.
// - Transfer cost (options.cost.enabled, not in strict mode): after the rules
//   above, each maximal run of consecutive compute nodes on one preferred
//   device (views and leaves in between do not break a run) that the fallback
//   also supports is costed on both devices, and kept on the fallback when it
//   is cheaper there; runs are decided in node order, each seeing the
//   decisions before it. The cost of a run on device X is
//     sum over its nodes of (read_bytes + bytes) / bandwidth(X)
//     + for each (value, device) pair that would need a copy because of the
//       run (its inputs from elsewhere, its outputs read elsewhere):
//       copy_latency + bytes / transfer_bandwidth.
//   Leaves are not costed (they follow their first reader). A tie keeps the
//   run on the preferred device: the caller asked for it. A kept node is not a
//   fallback (its device supports it); it is counted and explained apart.
//
// Thread safety: the functions are pure; `supports` is called on the calling
// thread, sequentially, in node order.
//
// Example:
//   std::vector<tsr::ScheduleNode> nodes = {
//       {.inputs = {-1, -1}, .label = "matmul#0 f32 [576, 7]"},
//       {.inputs = {0}, .is_view = true, .label = "reshape#1 f32 [64, 9, 7]"},
//       {.inputs = {1}, .label = "rope#2 f32 [64, 9, 7]"}};
//   tsr::ScheduleOptions opt{.devices = {"cpu:0", "vulkan:0"}, .preference = {1}, .fallback = 0};
//   auto supports = [&](int32_t device, int32_t node, std::string* reason) {
//     return backend_supports(device, graph_node(node), reason);
//   };
//   tsr::Result<tsr::Placement> p = tsr::schedule_nodes(nodes, opt, supports);
//   if (!p.is_ok()) return p.status();
//   log(tsr::format_placement(nodes, opt.devices, p.value()));
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "tessera/kit/status.h"

namespace tsr {

struct ScheduleNode {
  // Producing node of each input (an index < this node's), or -1 for a graph
  // leaf (input, weight, state). A view has exactly one: the value it views.
  std::vector<int32_t> inputs;
  bool is_view = false;    // metadata only: placed with its producer, never asked about
  bool is_leaf = false;    // input or state data: no inputs, placed with its first reader
  int64_t bytes = 0;       // size of the value it produces or holds: what a copy of it moves
  int64_t read_bytes = 0;  // bytes a compute node reads (weights included): with `bytes`, its cost
  std::string label;       // for messages and reports, e.g. "matmul#12 f32 [576, 7]"
  int32_t pin = -1;        // compute nodes: the device index the caller placed it on, or -1
};

// The transfer-cost model's parameters. Bandwidths are bytes/s; 0 = unknown.
struct TransferCostOptions {
  bool enabled = false;
  std::vector<double> bandwidth;  // per device index (missing = unknown); unknown = the fallback's
  // The fallback's bandwidth when it is unknown too: only ratios between
  // devices matter for node costs, so any plausible host figure will do.
  double default_bandwidth = 20e9;
  // Copies stage through host memory (executor_run.cpp): PCIe-class speed.
  double transfer_bandwidth = 8e9;
  // Fixed cost per copy: the source queue is finished and the destination
  // written and finished, two host waits and a submission (tens of us on a GPU).
  double copy_latency = 20e-6;
};

struct ScheduleOptions {
  std::vector<std::string> devices;  // every device; "device index" everywhere means an index here
  std::vector<int32_t> preference;   // device indices, most preferred first; not empty, no repeats
  int32_t fallback = -1;             // device index that runs what no preferred device supports
  bool strict = false;               // make falling back to `fallback` an error (and turns `cost` off)
  TransferCostOptions cost;
};

// Answers whether device `device` can run node `node`; when it cannot, it may
// write why into *reason (never null, empty on entry), e.g. "q4_1 weights".
using SupportsFn = std::function<bool(int32_t device, int32_t node, std::string* reason)>;

// A device that was asked about a node before the one chosen, and said no.
struct Refusal {
  int32_t device = -1;
  std::string reason;  // as the callback gave it; "no reason given" when it gave none
};

// The value of node `value` is needed on `to` while it lives on `from`.
struct BoundaryCopy {
  int32_t value = -1;           // node index of a compute node or leaf (never a view)
  int32_t from = -1;            // device index
  int32_t to = -1;              // device index
  int32_t first_consumer = -1;  // lowest node index on `to` reading it: copy before it runs
};

// A run of compute nodes the transfer-cost model kept on the fallback, with
// the costs it compared (seconds) and the copies behind them.
struct KeptRun {
  int32_t first = -1, last = -1;  // node indices, inclusive
  int32_t n_nodes = 0;            // compute nodes in it
  int32_t preferred = -1;         // device index it would have run on
  double cost_preferred = 0, cost_fallback = 0;
  int32_t copies_preferred = 0, copies_fallback = 0;
  int64_t copy_bytes_preferred = 0, copy_bytes_fallback = 0;
};

struct Placement {
  std::vector<int32_t> device;                 // per node: device index
  std::vector<std::vector<Refusal>> refusals;  // per node, in asking order; empty: first choice (and views)
  std::vector<BoundaryCopy> copies;            // ordered by first_consumer, then input order
  int32_t n_fallbacks = 0;                     // compute nodes no preferred device supports
  std::vector<int32_t> kept;                   // per node: index into kept_runs, or -1
  std::vector<KeptRun> kept_runs;              // in node order
  int32_t n_kept = 0;                          // compute nodes kept on the fallback by transfer cost
};

// Places nodes on devices. `supports` must be callable; it is not kept.
// Errors: TSR_ERR_INVALID_ARGUMENT for a malformed request (an input that is
// not an earlier node, a view without exactly one input, a leaf with inputs,
// a device index (preference, fallback or pin) out of range, an empty or repeating preference list);
// TSR_ERR_UNSUPPORTED when a node cannot be placed ("[schedule] node <label>: no preferred device supports
// it: ...").
Result<Placement> schedule_nodes(const std::vector<ScheduleNode>& nodes, const ScheduleOptions& options,
                                 const SupportsFn& supports);

// Human-readable report: one line per node (label, device, and
// "(fallback: vulkan:0 said 'q4_1 weights')" or "(kept on cpu:0: ...)" where it
// applies), one line per copy, and a summary
// "N nodes: X on cpu:0, Y on vulkan:0; Z fallbacks; K kept by transfer cost; W copies".
std::string format_placement(const std::vector<ScheduleNode>& nodes, const std::vector<std::string>& devices,
                             const Placement& placement);

}  // namespace tsr
