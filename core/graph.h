// Graph IR and builder. A graph is a list of values (tensors) and the nodes
// that produce them, in the order they were added (always topological).
// Every add_* call runs shape/dtype inference at once, so a bad graph is
// rejected at the node that makes it bad, with the op and shapes named.
//
//   Graph g;
//   auto x = g.add_input("x", make_desc(TSR_DTYPE_F32, {576, 7}).value());
//   auto w = g.add_weight("w", desc, data, bytes);
//   auto y = g.add_node(TSR_OP_MATMUL, {w.value(), x.value()}, {});  // f32 [M, 7]
//   g.mark_output(y.value());
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tessera/kit/status.h"
#include "tessera/kit/tensor.h"

namespace tsr {

using ValueId = int32_t;
using NodeId = int32_t;

enum class ValueKind {
  kInput,       // set by the caller before each execution
  kWeight,      // caller-owned host memory, used in place where the device can
  kState,       // persistent across executions (KV cache), zero-initialised
  kActivation,  // produced by a node
};

const char* value_kind_name(ValueKind k);

struct Value {
  std::string name;
  ValueKind kind = ValueKind::kActivation;
  TensorDesc desc{};           // layout relative to the root's storage
  NodeId producer = -1;        // -1 for leaves
  ValueId root = -1;           // value owning the storage (itself unless it aliases)
  int64_t root_offset = 0;     // byte offset inside the root's storage
  const void* data = nullptr;  // weights: borrowed host memory
  int64_t data_size = 0;
  bool is_output = false;
  bool shared = false;  // state kept by the context under its name (see SharedStates)
};

struct Node {
  int32_t op = 0;
  std::vector<ValueId> inputs;
  ValueId output = -1;
  tsr_op_params params{};
  // The device the caller placed this node on (Graph::set_device), or "":
  // the compile's preference list decides.
  std::string device;
};

class Graph {
 public:
  Result<ValueId> add_input(std::string name, const TensorDesc& desc);
  // data is borrowed: it must stay valid and unchanged while any model
  // compiled from this graph exists. size must equal the tensor's byte size.
  Result<ValueId> add_weight(std::string name, const TensorDesc& desc, const void* data, int64_t size);
  // shared: the state is looked up by name in the context's SharedStates at
  // compile time, so models compiled from different graphs see one memory.
  Result<ValueId> add_state(std::string name, const TensorDesc& desc, bool shared = false);
  Result<ValueId> add_node(int32_t op, const std::vector<ValueId>& inputs, const tsr_op_params& params);
  Status mark_output(ValueId v);
  Status set_name(ValueId v, std::string name);
  // Nodes added from now on are placed on `device` (a device name as
  // tsr_device_find takes it, checked at compile); "" returns to the
  // compile's preference list. This is how a model is split across devices
  // layer by layer (pipeline split).
  void set_device(std::string device) { device_ = std::move(device); }
  const std::string& device() const { return device_; }

  const std::vector<Value>& values() const { return values_; }
  const std::vector<Node>& nodes() const { return nodes_; }
  const Value& value(ValueId v) const { return values_[v]; }
  const Node& node(NodeId n) const { return nodes_[n]; }
  bool valid_value(ValueId v) const { return v >= 0 && v < static_cast<ValueId>(values_.size()); }

  // "matmul#3 f32 [576, 7]" for messages and placement reports.
  std::string node_label(NodeId n) const;

 private:
  Result<ValueId> add_leaf(std::string name, ValueKind kind, const TensorDesc& desc);
  std::vector<Value> values_;
  std::vector<Node> nodes_;
  std::string device_;
};

// Nodes needed to compute the outputs, in graph order: dead-node elimination.
// set_rows into a state is a side effect and always kept. Fails when the
// graph has no outputs and no state writes.
Result<std::vector<NodeId>> live_nodes(const Graph& g);

}  // namespace tsr
