// Internal state of a CompiledModel, shared by executor_compile.cpp (building
// it) and executor_run.cpp (using it). Not part of any public interface.
#pragma once

#include <map>
#include <utility>
#include <vector>

#include "core/communicator.h"
#include "core/executor.h"
#include "core/shared_weights.h"

namespace tsr {

struct Storage {
  tsr_bk_buffer buffer = nullptr;
  uint64_t offset = 0;
};

struct DeviceState {
  int32_t device = -1;  // registry index
  const tsr_backend_iface* iface = nullptr;
  tsr_bk_queue queue = nullptr;
  std::vector<tsr_bk_buffer> owned;           // every buffer to free, arena included
  std::vector<tsr_bk_buffer> shared_weights;  // references to release (CompileOptions::shared_weights)
  int64_t arena_bytes = 0, arena_total = 0, state_bytes = 0, weight_bytes = 0;
  int32_t n_inplace = 0;
  bool weights_in_place = false;
};

// Copy of one version of a root's storage from its home device to another
// device, done right before the segment that first reads it there.
struct Transfer {
  ValueId version = -1;  // the value whose content is copied (see version_of)
  ValueId root = -1;
  int32_t from = -1, to = -1;  // registry device indices
};

struct Segment {
  int32_t device = -1;  // registry index
  std::vector<NodeId> nodes;
  std::vector<int32_t> transfers_before;  // indices into CompiledModel::Impl::transfers
  std::vector<tsr_subgraph_node> sub;     // kept alive for the prepared subgraph's lifetime
  tsr_bk_prepared prepared = nullptr;
  bool collective = false;  // one all_reduce / all_gather node, run by core (executor_collective.cpp)
  const DeviceComm* device_comm = nullptr;  // collective: the device's own library, else host staging
};

struct CompiledModel::Impl {
  std::vector<NodeId> order;      // compute nodes in execution order
  std::vector<int32_t> node_dev;  // per graph node: registry device, -1 if dead
  std::vector<int32_t> home;      // per value (roots only): registry device, -1 if none
  std::map<std::pair<ValueId, int32_t>, Storage> storage;   // (root, device): home storage, weight copies
  std::map<std::pair<ValueId, int32_t>, Storage> replicas;  // (version, device): transferred copies
  std::vector<DeviceState> devices;
  std::vector<Transfer> transfers;
  std::vector<Segment> segments;
  std::vector<unsigned char> staging;
  std::vector<DeviceMemoryPlan> plans;
  Communicator* comm = nullptr;             // CompileOptions::comm
  SharedWeights* shared_weights = nullptr;  // CompileOptions::shared_weights
  std::vector<unsigned char> staging_out;

  DeviceState* device_state(int32_t device) {
    for (DeviceState& d : devices)
      if (d.device == device) return &d;
    return nullptr;
  }
  // Where node input x lives when read on device d.
  const Storage* find_storage(const Graph& g, ValueId x, int32_t d) const;
};

// The value whose storage content x shows: x itself unless x is a view, then
// the value it views (recursively). set_rows outputs are versions of their
// state; plain activations are their own version.
ValueId version_of(const Graph& g, ValueId x);
bool is_view_node(const Graph& g, NodeId n);
tsr_node_desc make_node_desc(const Graph& g, NodeId n);
bool is_collective_node(const Graph& g, NodeId n);
// Runs a collective segment (executor_collective.cpp).
Status run_collective(CompiledModel::Impl& im, const Registry& registry, Segment& s);

}  // namespace tsr
