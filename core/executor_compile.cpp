// Compiling a graph: placement, homes of every storage, transfers between
// devices, memory planning, buffers, weight binding and prepare.
#include <algorithm>
#include <climits>
#include <cstring>
#include <set>

#include "core/executor_impl.h"
#include "core/planner.h"
#include "core/scheduler.h"
#include "core/shared_state.h"
#include "ops/op_schema.h"

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

std::string mib(int64_t bytes) { return fmt::format("{:.2f} MiB", bytes / (1024.0 * 1024.0)); }

}  // namespace

ValueId version_of(const Graph& g, ValueId x) {
  while (g.value(x).producer >= 0 && is_view_node(g, g.value(x).producer))
    x = g.node(g.value(x).producer).inputs[0];
  return x;
}

bool is_view_node(const Graph& g, NodeId n) { return ops::op_info(g.node(n).op)->is_view; }

tsr_node_desc make_node_desc(const Graph& g, NodeId n) {
  const Node& nd = g.node(n);
  tsr_node_desc d{};
  d.struct_size = sizeof(d);
  d.op = nd.op;
  d.n_inputs = static_cast<int32_t>(nd.inputs.size());
  for (size_t i = 0; i < nd.inputs.size(); ++i) d.inputs[i] = g.value(nd.inputs[i]).desc;
  d.output = g.value(nd.output).desc;
  d.params = nd.params;
  return d;
}

const Storage* CompiledModel::Impl::find_storage(const Graph& g, ValueId x, int32_t d) const {
  const ValueId r = g.value(x).root;
  if (g.value(r).kind == ValueKind::kWeight || home[r] == d) {
    auto it = storage.find({r, d});
    return it == storage.end() ? nullptr : &it->second;
  }
  auto it = replicas.find({version_of(g, x), d});
  return it == replicas.end() ? nullptr : &it->second;
}

CompiledModel::CompiledModel(Registry& r, const Graph& g)
    : registry_(r), graph_(g), impl_(std::make_unique<Impl>()) {}

CompiledModel::~CompiledModel() {
  if (!impl_) return;
  for (Segment& s : impl_->segments) {
    if (s.prepared) registry_.devices()[s.device].backend->iface().release_prepared(s.prepared);
  }
  for (DeviceState& d : impl_->devices) {
    for (tsr_bk_buffer b : d.owned) d.iface->buffer_free(b);
    if (d.queue) d.iface->queue_destroy(d.queue);
  }
}

Result<std::unique_ptr<CompiledModel>> CompiledModel::compile(Registry& registry, const Graph& graph,
                                                              const CompileOptions& options) {
  std::unique_ptr<CompiledModel> m(new CompiledModel(registry, graph));
  const Graph& g = m->graph_;
  Impl& im = *m->impl_;
  const auto& devs = registry.devices();

  // 1. Dead-node elimination.
  auto live = live_nodes(g);
  if (!live.is_ok()) return live.status();

  // 2. Devices: resolve the preference list.
  ScheduleOptions sopt;
  std::vector<std::string> wanted =
      options.devices.empty() ? std::vector<std::string>{"cpu"} : options.devices;
  for (const std::string& name : wanted) {
    auto idx = registry.find_device(name);
    if (!idx.is_ok()) return idx.status();
    if (std::find(sopt.preference.begin(), sopt.preference.end(), idx.value()) == sopt.preference.end())
      sopt.preference.push_back(idx.value());
  }
  sopt.fallback = registry.cpu_device();
  if (sopt.fallback < 0)
    return make_error(TSR_ERR_NOT_FOUND, "[compile] no CPU device registered to fall back to");
  // After the lookups above: they start the backends they name.
  for (const Device& d : devs) sopt.devices.push_back(d.name);
  sopt.strict = options.strict;

  // 3. Placement over the live nodes, views included.
  std::vector<int32_t> local(g.nodes().size(), -1);
  std::vector<ScheduleNode> snodes;
  for (NodeId n : live.value()) {
    local[n] = static_cast<int32_t>(snodes.size());
    ScheduleNode sn;
    sn.is_view = is_view_node(g, n);
    sn.label = g.node_label(n);
    for (ValueId x : g.node(n).inputs) {
      const NodeId p = g.value(x).producer;
      sn.inputs.push_back(p >= 0 ? local[p] : -1);
    }
    snodes.push_back(std::move(sn));
  }
  auto supports = [&](int32_t device, int32_t node, std::string* reason) {
    const NodeId n = live.value()[node];
    const tsr_node_desc desc = make_node_desc(g, n);
    char buf[256] = {0};
    const Device& d = devs[device];
    const bool ok = d.backend->iface().supports_op(d.handle, &desc, buf, sizeof(buf)) != 0;
    if (!ok) *reason = std::string(buf, strnlen(buf, sizeof(buf)));
    return ok;
  };
  auto placement = schedule_nodes(snodes, sopt, supports);
  if (!placement.is_ok()) return placement.status();
  im.node_dev.assign(g.nodes().size(), -1);
  for (size_t i = 0; i < live.value().size(); ++i) {
    const NodeId n = live.value()[i];
    im.node_dev[n] = placement.value().device[i];
    if (!snodes[i].is_view) im.order.push_back(n);
  }
  m->report_ = format_placement(snodes, sopt.devices, placement.value());
  m->stats_.n_nodes = static_cast<int32_t>(im.order.size());
  m->stats_.n_fallbacks = placement.value().n_fallbacks;

  // 4. Homes: activations live where produced; inputs and states where first
  // read (else on the CPU); weights are bound on every device that reads them.
  const int32_t nv = static_cast<int32_t>(g.values().size());
  im.home.assign(nv, -1);
  std::vector<std::set<int32_t>> weight_devices(nv);
  for (NodeId n : im.order) {
    const int32_t d = im.node_dev[n];
    const Node& nd = g.node(n);
    if (g.value(nd.output).root == nd.output) im.home[nd.output] = d;
    for (ValueId x : nd.inputs) {
      const ValueId r = g.value(x).root;
      if (g.value(r).kind == ValueKind::kWeight)
        weight_devices[r].insert(d);
      else if (im.home[r] < 0)
        im.home[r] = d;
    }
  }
  for (ValueId v = 0; v < nv; ++v) {
    const Value& val = g.value(v);
    if (val.root == v && (val.kind == ValueKind::kInput || val.kind == ValueKind::kState) && im.home[v] < 0)
      im.home[v] = sopt.fallback;
  }
  for (NodeId n : im.order) {
    if (!ops::op_info(g.node(n).op)->writes_input0) continue;
    const ValueId r = g.value(g.node(n).inputs[0]).root;
    if (im.home[r] != im.node_dev[n])
      return make_error(TSR_ERR_UNSUPPORTED, "[compile] {} writes '{}' on {}, but that tensor lives on {}",
                        g.node_label(n), g.value(r).name, devs[im.node_dev[n]].name, devs[im.home[r]].name);
  }

  // 5. Segments: maximal runs of consecutive nodes on one device.
  std::vector<int32_t> seg_of_pos(im.order.size());
  for (size_t i = 0; i < im.order.size(); ++i) {
    const int32_t d = im.node_dev[im.order[i]];
    if (im.segments.empty() || im.segments.back().device != d)
      im.segments.push_back(Segment{d, {}, {}, {}, nullptr});
    im.segments.back().nodes.push_back(im.order[i]);
    seg_of_pos[i] = static_cast<int32_t>(im.segments.size()) - 1;
  }
  std::vector<int32_t> seg_start(im.segments.size());
  for (size_t i = im.order.size(); i-- > 0;) seg_start[seg_of_pos[i]] = static_cast<int32_t>(i);

  // 6. Lifetimes in steps: node at position i runs at 2i+1; transfers before
  // the segment starting at position i happen at 2i.
  const int32_t end_step = 2 * static_cast<int32_t>(im.order.size()) + 2;
  std::vector<int32_t> first(nv, INT_MAX), last(nv, -1);  // per activation root, on its home
  struct ReplicaLife {
    int32_t first, last;
    int32_t transfer;
  };
  std::map<std::pair<ValueId, int32_t>, ReplicaLife> replica_life;
  for (size_t i = 0; i < im.order.size(); ++i) {
    const NodeId n = im.order[i];
    const int32_t d = im.node_dev[n];
    const int32_t step = 2 * static_cast<int32_t>(i) + 1;
    const Node& nd = g.node(n);
    const ValueId out_root = g.value(nd.output).root;
    first[out_root] = std::min(first[out_root], step);
    last[out_root] = std::max(last[out_root], step);
    for (ValueId x : nd.inputs) {
      const ValueId r = g.value(x).root;
      if (g.value(r).kind == ValueKind::kWeight) continue;
      if (im.home[r] == d) {
        last[r] = std::max(last[r], step);
        continue;
      }
      const ValueId ver = version_of(g, x);
      auto [it, inserted] = replica_life.try_emplace({ver, d}, ReplicaLife{0, 0, -1});
      if (inserted) {
        const int32_t seg = seg_of_pos[i];
        const int32_t tstep = 2 * seg_start[seg];
        it->second = {tstep, step, static_cast<int32_t>(im.transfers.size())};
        im.transfers.push_back(Transfer{ver, r, im.home[r], d});
        im.segments[seg].transfers_before.push_back(it->second.transfer);
        last[r] = std::max(last[r], tstep);
      }
      it->second.last = std::max(it->second.last, step);
    }
  }
  for (ValueId v = 0; v < nv; ++v)
    if (g.value(v).is_output) last[g.value(v).root] = end_step;
  m->stats_.n_copies = static_cast<int32_t>(im.transfers.size());

  // 7. Per device: plan the activation arena, allocate every pool.
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
    auto alloc = [&](int64_t size, uint32_t flags, const std::string& what) -> Result<tsr_bk_buffer> {
      tsr_bk_buffer b = nullptr;
      tsr_error e{};
      if (bk.buffer_alloc(dev.handle, static_cast<uint64_t>(std::max<int64_t>(size, 1)), flags, &b, &e) !=
          TSR_OK)
        return make_error(TSR_ERR_OUT_OF_MEMORY, "[compile] {}: {} ({} bytes): {}", dev.name, what, size,
                          backend_error(e, "buffer_alloc"));
      ds.owned.push_back(b);
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
      pb.push_back(PlanBuffer{n_bytes_contiguous(val.desc), first[v], std::max(first[v], last[v]), -1});
      keys.push_back({false, {v, d}});
      names.push_back(val.name);
    }
    for (const auto& [key, life] : replica_life) {
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
    auto plan = plan_memory(pb, 256);
    if (!plan.is_ok()) return plan.status();
#ifndef NDEBUG
    TSR_RETURN_IF_ERROR(check_plan(pb, plan.value()));
#endif
    im.plans.push_back(DeviceMemoryPlan{dev.name, pb, names, plan.value()});
    ds.arena_bytes = plan.value().arena_size;
    ds.arena_total = plan.value().total_size;
    ds.n_inplace = plan.value().n_inplace;
    if (!pb.empty()) {
      auto arena = alloc(plan.value().arena_size, TSR_BUFFER_ACTIVATIONS, "activation arena");
      if (!arena.is_ok()) return arena.status();
      for (size_t i = 0; i < pb.size(); ++i) {
        Storage s{arena.value(), static_cast<uint64_t>(plan.value().offsets[i])};
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
      if (state && val.shared && options.shared_states) {
        auto b = options.shared_states->acquire(val.name, val.desc, dev, ds.queue);
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
      if (!weight_devices[v].count(d)) continue;
      const Value& val = g.value(v);
      tsr_bk_buffer b = nullptr;
      // Weights are never written: backends only read weight buffers.
      void* host = const_cast<void*>(val.data);
      if (wrap && wrap(dev.handle, host, static_cast<uint64_t>(val.data_size), &b, &err) == TSR_OK) {
        ds.owned.push_back(b);
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

    m->stats_.activation_peak_bytes += ds.arena_bytes;
    m->stats_.activation_total_bytes += ds.arena_total;
    m->stats_.state_bytes += ds.state_bytes;
    m->stats_.weight_bytes += ds.weight_bytes;
    m->stats_.n_inplace += ds.n_inplace;
  }

  // 8. Prepare each segment on its device.
  for (Segment& s : im.segments) {
    const Device& dev = devs[s.device];
    for (NodeId n : s.nodes) {
      const Node& nd = g.node(n);
      tsr_subgraph_node sn{};
      sn.desc = make_node_desc(g, n);
      for (size_t k = 0; k < nd.inputs.size(); ++k) {
        const Storage* st = im.find_storage(g, nd.inputs[k], s.device);
        if (!st)
          return make_error(TSR_ERR_INTERNAL, "[compile] no storage for input {} of {}", k, g.node_label(n));
        sn.inputs[k] = tsr_tensor_ref{st->buffer, st->offset + g.value(nd.inputs[k]).root_offset,
                                      g.value(nd.inputs[k]).desc};
      }
      const Storage* st = im.find_storage(g, nd.output, s.device);
      if (!st)
        return make_error(TSR_ERR_INTERNAL, "[compile] no storage for the output of {}", g.node_label(n));
      sn.output =
          tsr_tensor_ref{st->buffer, st->offset + g.value(nd.output).root_offset, g.value(nd.output).desc};
      s.sub.push_back(sn);
    }
    tsr_subgraph sg{sizeof(tsr_subgraph), static_cast<int32_t>(s.sub.size()), s.sub.data()};
    tsr_error err{};
    if (dev.backend->iface().prepare(dev.handle, &sg, &s.prepared, &err) != TSR_OK)
      return make_error(TSR_ERR_DEVICE, "[compile] {}: prepare failed: {}", dev.name,
                        backend_error(err, "prepare"));
  }

  // 9. Report memory per device.
  for (const DeviceState& ds : im.devices) {
    m->report_ += fmt::format(
        "memory on {}: activations {} planned (sum of tensors {}, {} in place), states {}, weights {} ({})\n",
        devs[ds.device].name, mib(ds.arena_bytes), mib(ds.arena_total), ds.n_inplace, mib(ds.state_bytes),
        mib(ds.weight_bytes),
        ds.weight_bytes == 0  ? "none"
        : ds.weights_in_place ? "used in place"
                              : "uploaded");
  }
  for (const Transfer& t : im.transfers) {
    if (g.value(t.version).producer >= 0) continue;  // the scheduler's report lists produced values
    m->report_ += fmt::format("copy {} '{}' {} -> {}\n", value_kind_name(g.value(t.root).kind),
                              g.value(t.root).name, devs[t.from].name, devs[t.to].name);
  }
  return m;
}

const std::vector<DeviceMemoryPlan>& CompiledModel::memory_plans() const { return impl_->plans; }

std::vector<std::pair<NodeId, std::string>> CompiledModel::node_devices() const {
  std::vector<std::pair<NodeId, std::string>> r;
  for (NodeId n : impl_->order) r.emplace_back(n, registry_.devices()[impl_->node_dev[n]].name);
  return r;
}

}  // namespace tsr
