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
// - A view (metadata only, exactly one input: the value it views) is never
//   asked about: it takes the device of its producer, through chains of views.
//   A view of a leaf has no producer, so it takes the device of the first
//   compute node (lowest index) that reads it or a view of it: that is where
//   the leaf's data is needed first, so no copy is needed there. A view of a
//   leaf that no compute node reads goes to the fallback device.
// - A copy is needed where a node reads a value produced on another device:
//   one per (value, destination device), however many consumers there share it.
//   Leaves are not values here: uploading inputs and weights is the executor's.
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
  bool is_view = false;  // metadata only: placed with its producer, never asked about
  std::string label;     // for messages and reports, e.g. "matmul#12 f32 [576, 7]"
};

struct ScheduleOptions {
  std::vector<std::string> devices;  // every device; "device index" everywhere means an index here
  std::vector<int32_t> preference;   // device indices, most preferred first; not empty, no repeats
  int32_t fallback = -1;             // device index that runs what no preferred device supports
  bool strict = false;               // make falling back to `fallback` an error
};

// Answers whether device `device` can run node `node`; when it cannot, it may
// write why into *reason (never null, empty on entry), e.g. "q4_1 weights".
using SupportsFn = std::function<bool(int32_t device, int32_t node, std::string* reason)>;

// A device that was asked about a node before the one chosen, and said no.
struct Refusal {
  int32_t device = -1;
  std::string reason;  // as the callback gave it; "no reason given" when it gave none
};

// The value of node `value` is needed on `to` while produced on `from`.
struct BoundaryCopy {
  int32_t value = -1;           // producing node index
  int32_t from = -1;            // device index
  int32_t to = -1;              // device index
  int32_t first_consumer = -1;  // lowest node index on `to` reading it: copy before it runs
};

struct Placement {
  std::vector<int32_t> device;                 // per node: device index
  std::vector<std::vector<Refusal>> refusals;  // per node, in asking order; empty: first choice (and views)
  std::vector<BoundaryCopy> copies;            // ordered by first_consumer, then input order
  int32_t n_fallbacks = 0;                     // nodes not on their first-choice device
};

// Places nodes on devices. `supports` must be callable; it is not kept.
// Errors: TSR_ERR_INVALID_ARGUMENT for a malformed request (an input that is
// not an earlier node, a view without exactly one input, a device index out of range, an
// empty or repeating preference list); TSR_ERR_UNSUPPORTED when a node cannot
// be placed ("[schedule] node <label>: no preferred device supports it: ...").
Result<Placement> schedule_nodes(const std::vector<ScheduleNode>& nodes, const ScheduleOptions& options,
                                 const SupportsFn& supports);

// Human-readable report: one line per node (label, device, and
// "(fallback: vulkan:0 said 'q4_1 weights')" where it applies), one line per
// copy, and a summary "N nodes: X on cpu:0, Y on vulkan:0; Z fallbacks; W copies".
std::string format_placement(const std::vector<ScheduleNode>& nodes, const std::vector<std::string>& devices,
                             const Placement& placement);

}  // namespace tsr
