// Compiling a graph as passes over one plan (internal to core):
//   schedule_pass   live nodes, devices, placement with every copy (scheduler)
//   transfers_pass  segments, the scheduler's copies as transfers, lifetimes
//   memory_pass     per device: queue, planned arena, inputs, states, weights
//   prepare_pass    each segment's subgraph prepared on its device
// Each pass reads what the ones before it wrote into the plan and the model.
#pragma once

#include <climits>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "core/executor_impl.h"
#include "core/scheduler.h"

namespace tsr {

// A replica's lifetime on its device, in steps: node at execution position i
// runs at 2i+1; transfers before the segment starting at position i at 2i.
struct ReplicaLife {
  int32_t first = 0, last = 0;
};

struct CompilePlan {
  CompilePlan(Registry& r, const Graph& graph, const CompileOptions& o, CompiledModel::Impl& i)
      : registry(r), g(graph), options(o), im(i) {}
  Registry& registry;
  const Graph& g;
  const CompileOptions& options;
  CompiledModel::Impl& im;

  // schedule_pass
  std::vector<ScheduleNode> snodes;  // leaves (inputs, states) first, then live nodes
  std::vector<ValueId> snode_value;  // per schedule node: the value it holds or produces
  Placement placement;
  int32_t fallback = -1;                          // registry index of the CPU
  std::vector<std::set<int32_t>> weight_devices;  // per weight root: devices reading it
  // transfers_pass
  std::vector<int32_t> first, last;                                 // per activation root, on its home
  std::map<std::pair<ValueId, int32_t>, ReplicaLife> replica_life;  // (version, device)
};

Status schedule_pass(CompilePlan& plan, std::string* report, ModelStats* stats);
Status transfers_pass(CompilePlan& plan, ModelStats* stats);
Status memory_pass(CompilePlan& plan, ModelStats* stats);
Status prepare_pass(CompilePlan& plan, std::string* report);

}  // namespace tsr
