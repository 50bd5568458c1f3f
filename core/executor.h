// Executor: a graph compiled for an ordered list of devices. Compiling runs
// dead-node elimination, placement (scheduler), memory planning (planner),
// buffer allocation, weight upload and each device's prepare; executing runs
// the prepared subgraphs in order with the copies between devices.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/graph.h"
#include "core/planner.h"
#include "core/registry.h"
#include "tessera/kit/status.h"

namespace tsr {

class Communicator;

class SharedStates;
class SharedWeights;

struct CompileOptions {
  std::vector<std::string> devices;  // preference order; empty = {"cpu"}
  bool strict = false;               // refuse to fall back to the CPU
  // Keep short runs of supported nodes on the CPU when copies would cost
  // more than they save (core/scheduler.h); off in strict mode.
  bool transfer_cost = true;
  // Where shared states live (must outlive the model); null: shared states
  // are private to the model like other states.
  SharedStates* shared_states = nullptr;
  // Where weights uploaded to devices that cannot read host memory in place
  // are shared with the context's other models (must outlive the model);
  // null: the model uploads its own.
  SharedWeights* shared_weights = nullptr;
  // Runs the graph's collectives (all_reduce, all_gather) with the other
  // ranks (must outlive the model); null: a world of one rank.
  Communicator* comm = nullptr;
};

struct ModelStats {
  int32_t n_nodes = 0;
  int32_t n_fallbacks = 0;
  int32_t n_kept = 0;  // nodes kept on the CPU by transfer cost
  int32_t n_copies = 0;
  int64_t activation_peak_bytes = 0;
  int64_t activation_total_bytes = 0;
  int64_t weight_bytes = 0;  // bytes of weights bound (in place or uploaded)
  int64_t state_bytes = 0;
  int32_t n_inplace = 0;
  double last_execute_seconds = 0;
};

// The activation arena of one device as planned: kept so tests and tools can
// verify it independently (check_plan) and report it.
struct DeviceMemoryPlan {
  std::string device;
  std::vector<PlanBuffer> buffers;
  std::vector<std::string> names;  // per buffer: the tensor it holds
  Plan plan;
};

class CompiledModel {
 public:
  // The registry must outlive the model; the graph is copied. Weights stay
  // borrowed from the caller (see Graph::add_weight).
  static Result<std::unique_ptr<CompiledModel>> compile(Registry& registry, const Graph& graph,
                                                        const CompileOptions& options);
  ~CompiledModel();
  CompiledModel(const CompiledModel&) = delete;
  CompiledModel& operator=(const CompiledModel&) = delete;

  const Graph& graph() const { return graph_; }
  // size must equal the input's contiguous byte size.
  Status set_input(ValueId v, const void* data, int64_t size);
  Status execute(const int64_t* step_params, int32_t n_step_params);
  // should_abort(user), called on the executing thread between segments and
  // passed to backends (tsr_step_params) to call between nodes; non-zero
  // makes execute fail with TSR_ERR_ABORTED. nullptr: never.
  void set_abort(int32_t (*should_abort)(void*), void* user) {
    should_abort_ = should_abort;
    abort_user_ = user;
  }
  // Outputs, states and inputs can be read; size must equal the contiguous byte size.
  Status get_output(ValueId v, void* dst, int64_t size);

  const std::string& placement_report() const { return report_; }
  const ModelStats& stats() const { return stats_; }
  const std::vector<DeviceMemoryPlan>& memory_plans() const;
  // Device name each compute node runs on, in execution order (for tests and tools).
  std::vector<std::pair<NodeId, std::string>> node_devices() const;

  struct Impl;

 private:
  explicit CompiledModel(Registry& r, const Graph& g);
  Registry& registry_;
  Graph graph_;
  std::unique_ptr<Impl> impl_;
  std::string report_;
  ModelStats stats_;
  int32_t (*should_abort_)(void*) = nullptr;
  void* abort_user_ = nullptr;
};

}  // namespace tsr
