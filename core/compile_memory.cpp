// Compile pass 3: per device, a queue, the planned activation arena (with
// in-place reuse), one buffer per input and state, and the weights bound.
#include <algorithm>

#include "core/compile_plan.h"
#include "core/device_alloc.h"
#include "core/shared_state.h"
#include "core/shared_weights.h"

namespace tsr {
namespace {

// Element-wise ops whose output may take over input 0's storage: each output
// element depends only on the input elements at the same index.
bool inplace_capable(int32_t op) {
  switch (op) {
    case TSR_OP_ADD:
    case TSR_OP_SUB:
    case TSR_OP_MUL:
    case TSR_OP_DIV:
    case TSR_OP_SCALE:
    case TSR_OP_SILU:
    case TSR_OP_GELU:
    case TSR_OP_SWIGLU:
      return true;
    default:
      return false;
  }
}

bool same_layout(const TensorDesc& a, const TensorDesc& b) {
  if (a.dtype != b.dtype) return false;
  for (int i = 0; i < TSR_MAX_DIMS; ++i)
    if (a.ne[i] != b.ne[i] || a.nb[i] != b.nb[i]) return false;
  return true;
}

}  // namespace

Status memory_pass(CompilePlan& plan, ModelStats* stats) {
  const Graph& g = plan.g;
  CompiledModel::Impl& im = plan.im;
  const auto& devs = plan.registry.devices();
  const int32_t nv = static_cast<int32_t>(g.values().size());
  std::set<int32_t> used;
  for (NodeId n : im.order) used.insert(im.node_dev[n]);
  for (ValueId v = 0; v < nv; ++v)
    if (im.home[v] >= 0) used.insert(im.home[v]);
  for (int32_t d : used) {
    DeviceState ds;
    ds.device = d;
    ds.iface = &devs[d].backend->iface();
    im.devices.push_back(ds);
  }
  for (DeviceState& ds : im.devices) {
    const int32_t d = ds.device;
    const Device& dev = devs[d];
    const tsr_backend_iface& bk = *ds.iface;
    tsr_error err{};
    if (bk.queue_create(dev.handle, &ds.queue, &err) != TSR_OK)
      return make_error(TSR_ERR_DEVICE, "[compile] {}: {}", dev.name, backend_error(err, "queue_create"));
    // Room in a list is made before each buffer exists, so that recording
    // it cannot fail (out of host memory) and leave it owned by nobody.
    auto alloc = [&](int64_t size, uint32_t flags, const std::string& what) -> Result<tsr_bk_buffer> {
      ds.owned.reserve(ds.owned.size() + 1);
      auto b = alloc_device_buffer(dev, size, flags, "compile", what);
      if (b.is_ok()) ds.owned.push_back(b.value());
      return b;
    };

    // Activations (and transferred replicas) share one planned arena.
    std::vector<PlanBuffer> pb;
    std::vector<std::pair<bool, std::pair<ValueId, int32_t>>> keys;  // (is_replica, key)
    std::vector<std::string> names;
    std::map<ValueId, int32_t> pb_of_root;
    for (ValueId v = 0; v < nv; ++v) {
      const Value& val = g.value(v);
      if (val.root != v || val.kind != ValueKind::kActivation || im.home[v] != d) continue;
      pb_of_root[v] = static_cast<int32_t>(pb.size());
      pb.push_back(
          PlanBuffer{n_bytes_contiguous(val.desc), plan.first[v], std::max(plan.first[v], plan.last[v]), -1});
      keys.push_back({false, {v, d}});
      names.push_back(val.name);
    }
    for (const auto& [key, life] : plan.replica_life) {
      if (key.second != d) continue;
      const ValueId r = g.value(key.first).root;
      pb.push_back(PlanBuffer{n_bytes_contiguous(g.value(r).desc), life.first, life.last, -1});
      keys.push_back({true, key});
      names.push_back(fmt::format("copy of {}", g.value(key.first).name));
    }
    for (NodeId n : im.order) {
      const Node& nd = g.node(n);
      if (im.node_dev[n] != d || !inplace_capable(nd.op)) continue;
      const ValueId x = nd.inputs[0];
      const Value& xv = g.value(x);
      if (xv.root != x || xv.kind != ValueKind::kActivation || im.home[x] != d) continue;
      if (!same_layout(xv.desc, g.value(nd.output).desc)) continue;
      bool shared = false;
      for (size_t k = 1; k < nd.inputs.size(); ++k) shared |= g.value(nd.inputs[k]).root == x;
      if (shared) continue;
      pb[pb_of_root[nd.output]].inplace_source = pb_of_root[x];
    }
    auto layout = plan_memory(pb, 256);
    if (!layout.is_ok()) return layout.status();
#ifndef NDEBUG
    TSR_RETURN_IF_ERROR(check_plan(pb, layout.value()));
#endif
    im.plans.push_back(DeviceMemoryPlan{dev.name, pb, names, layout.value()});
    ds.arena_bytes = layout.value().arena_size;
    ds.arena_total = layout.value().total_size;
    ds.n_inplace = layout.value().n_inplace;
    if (!pb.empty()) {
      auto arena = alloc(layout.value().arena_size, TSR_BUFFER_ACTIVATIONS, "activation arena");
      if (!arena.is_ok()) return arena.status();
      for (size_t i = 0; i < pb.size(); ++i) {
        Storage s{arena.value(), static_cast<uint64_t>(layout.value().offsets[i])};
        (keys[i].first ? im.replicas : im.storage)[keys[i].second] = s;
      }
    }

    // Inputs and states: one buffer each, never reused, so values persist.
    for (ValueId v = 0; v < nv; ++v) {
      const Value& val = g.value(v);
      if (val.root != v || im.home[v] != d) continue;
      if (val.kind != ValueKind::kInput && val.kind != ValueKind::kState) continue;
      const int64_t size = n_bytes_contiguous(val.desc);
      const bool state = val.kind == ValueKind::kState;
      if (state && val.shared && plan.options.shared_states) {
        auto b = plan.options.shared_states->acquire(val.name, val.desc, dev, ds.queue);
        if (!b.is_ok()) return b.status();
        im.storage[{v, d}] = Storage{b.value(), 0};
        ds.state_bytes += size;
        continue;
      }
      auto b = alloc(size, (state ? TSR_BUFFER_KV : 0) | TSR_BUFFER_HOST_VISIBLE,
                     fmt::format("{} '{}'", value_kind_name(val.kind), val.name));
      if (!b.is_ok()) return b.status();
      im.storage[{v, d}] = Storage{b.value(), 0};
      if (state) {
        ds.state_bytes += size;
        TSR_RETURN_IF_ERROR(zero_buffer(bk, ds.queue, b.value(), size, fmt::format("state '{}'", val.name)));
      }
    }

    // Weights: in place when the backend can wrap host memory, else uploaded once.
    auto wrap = dev.props.host_visible ? dev.backend->buffer_wrap_host() : nullptr;
    ds.weights_in_place = wrap != nullptr;
    for (ValueId v = 0; v < nv; ++v) {
      if (!plan.weight_devices[v].count(d)) continue;
      const Value& val = g.value(v);
      tsr_bk_buffer b = nullptr;
      // Weights are never written: backends only read weight buffers.
      void* host = const_cast<void*>(val.data);
      ds.owned.reserve(ds.owned.size() + 1);
      ds.shared_weights.reserve(ds.shared_weights.size() + 1);
      if (wrap && wrap(dev.handle, host, static_cast<uint64_t>(val.data_size), &b, &err) == TSR_OK) {
        ds.owned.push_back(b);
      } else if (plan.options.shared_weights) {
        auto nb = plan.options.shared_weights->acquire(dev, val.data, val.data_size, val.name, ds.queue);
        if (!nb.is_ok()) return nb.status();
        b = nb.value();
        ds.shared_weights.push_back(b);
        ds.weights_in_place = false;
      } else {
        auto nb = alloc(val.data_size, TSR_BUFFER_WEIGHTS, fmt::format("weight '{}'", val.name));
        if (!nb.is_ok()) return nb.status();
        b = nb.value();
        ds.weights_in_place = false;
        if (bk.buffer_write(ds.queue, b, 0, val.data, static_cast<uint64_t>(val.data_size), &err) != TSR_OK)
          return make_error(TSR_ERR_DEVICE, "[compile] {}: uploading weight '{}': {}", dev.name, val.name,
                            backend_error(err, "buffer_write"));
      }
      im.storage[{v, d}] = Storage{b, 0};
      ds.weight_bytes += val.data_size;
    }
    if (bk.queue_finish(ds.queue, &err) != TSR_OK)
      return make_error(TSR_ERR_DEVICE, "[compile] {}: {}", dev.name, backend_error(err, "queue_finish"));

    stats->activation_peak_bytes += ds.arena_bytes;
    stats->activation_total_bytes += ds.arena_total;
    stats->state_bytes += ds.state_bytes;
    stats->weight_bytes += ds.weight_bytes;
    stats->n_inplace += ds.n_inplace;
  }

  return Status::ok();
}

}  // namespace tsr
