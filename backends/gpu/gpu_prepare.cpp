// supports_op, prepare, execute of the GPU backends. Prepare asks each
// node's encoder for its launches, resolves their kernels once and, where
// the driver has graphs, captures them into one CUDA/HIP graph; execute
// copies the step values to the device and replays the graph (or the
// launches), so nothing is allocated or resolved per step.
// TESSERA_GPU_PROFILE=1 launches kernel by kernel between timing events and
// prints per-kernel times when the prepared subgraph is released.
#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "gpu_internal.h"
#include "tessera/kit/abi_guard.h"
#include "tessera/kit/kernel_times.h"
#include "tessera/kit/op_info.h"
#include "tessera/kit/tensor.h"

namespace tsr::gpu {
namespace {

using ops::op_name;

struct Resolved {
  Launch l;
  Function f = nullptr;
  int node = 0;
};

constexpr uint64_t kGemmWorkspace = 32u << 20;  // cuBLAS's recommendation for Hopper

bool profiling_on() {
  const char* v = std::getenv("TESSERA_GPU_PROFILE");
  return v && *v && std::strcmp(v, "0") != 0;
}

}  // namespace

struct Prepared {
  DeviceState* d = nullptr;
  std::vector<Resolved> launches;
  std::vector<std::pair<DevPtr, uint64_t>> scratch;  // address, reserved
  DevPtr step = 0;
  uint64_t step_reserved = 0;
  int64_t* step_host = nullptr;  // page-locked source of the step copy
  Event step_copied = nullptr;
  bool step_pending = false;
  GraphExec graph = nullptr;
  DevPtr gemm_workspace = 0;
  uint64_t gemm_workspace_reserved = 0;
  // profiling
  std::vector<Event> marks;
  bool timing_pending = false;
  KernelTimes times;
  ~Prepared();
};

namespace {

class PrepEncoder final : public Encoder {
 public:
  PrepEncoder(Prepared& p) : p_(p) {}
  void set_node(int node, int32_t op) {
    node_ = node;
    op_ = op;
  }
  const Caps& caps() const override { return p_.d->caps; }

  Status add(const Launch& l) override {
    const Dim3& g = l.grid;
    if (l.gemm) {
      Resolved r{l, nullptr, node_};
      auto ws = gemm_workspace();
      if (!ws.is_ok()) return ws.status();
      r.l.gemm->workspace = ws.value();
      r.l.gemm->workspace_bytes = kGemmWorkspace;
      p_.launches.push_back(r);
      return Status::ok();
    }
    if (l.block == 0 || static_cast<int>(l.block) > caps().max_threads || g.x == 0 || g.y == 0 || g.z == 0 ||
        static_cast<uint64_t>(g.x) * l.block > 0xffffffffu || g.y > 65535 || g.z > 65535)
      return make_error(TSR_ERR_UNSUPPORTED, "[prepare] node {} ({}): {} needs {}x{}x{} blocks of {} threads",
                        node_, op_name(op_), l.kernel, g.x, g.y, g.z, l.block);
    auto f = p_.d->function(l.kernel);
    if (!f.is_ok()) return f.status();
    Resolved r{l, f.value(), node_};
    r.l.args.step = p_.step;
    p_.launches.push_back(r);
    return Status::ok();
  }

  Result<DevPtr> scratch(uint64_t bytes) override {
    DevPtr ptr = 0;
    uint64_t reserved = 0;
    TSR_RETURN_IF_ERROR(p_.d->pool->alloc(bytes, &ptr, &reserved));
    p_.scratch.emplace_back(ptr, reserved);
    std::vector<char> zeros(bytes, 0);
    TSR_RETURN_IF_ERROR(p_.d->drv->copy_h2d(ptr, zeros.data(), bytes, p_.d->capture));
    TSR_RETURN_IF_ERROR(p_.d->drv->stream_sync(p_.d->capture));
    return ptr;
  }

 private:
  // The vendor GEMM's scratch: one per prepared subgraph, not per device, so
  // graphs replayed at once on two queues never share it.
  Result<DevPtr> gemm_workspace() {
    if (!p_.gemm_workspace) {
      TSR_RETURN_IF_ERROR(p_.d->pool->alloc(kGemmWorkspace, &p_.gemm_workspace, &p_.gemm_workspace_reserved));
    }
    return p_.gemm_workspace;
  }

  Prepared& p_;
  int node_ = 0;
  int32_t op_ = 0;
};

}  // namespace

bool supports_on_device(tsr_bk_device device, const tsr_node_desc& n, std::string& reason) {
  const OpKernel* k = kit::kernel_for<Kernels>(n.op, "GPU", reason);
  return k && k->supports(impl(device)->d->caps, n, reason);
}

namespace {

Status run_launch(Prepared& p, const Resolved& r, Stream s) {
  if (r.l.gemm) return p.d->drv->gemm(*r.l.gemm, s);
  return p.d->drv->launch(r.f, r.l.grid, r.l.block, r.l.args, s);
}

Status capture(Prepared& p) {
  Driver& drv = *p.d->drv;
  TSR_RETURN_IF_ERROR(drv.capture_begin(p.d->capture));
  // Ends the capture on every way out, an exception from a launch (a host
  // allocation failing) included: a stream left capturing refuses every
  // later copy on it, so one failed prepare would fail all the next ones.
  struct Capturing {
    Driver& drv;
    Stream s;
    bool open = true;
    Status end(GraphExec* g) {
      open = false;
      return drv.capture_end(s, g);
    }
    ~Capturing() {
      GraphExec g = nullptr;
      if (open && drv.capture_end(s, &g).is_ok() && g) drv.graph_destroy(g);
    }
  } capturing{drv, p.d->capture};
  Status s;
  for (const Resolved& r : p.launches) {
    s = run_launch(p, r, p.d->capture);
    if (!s.is_ok()) break;
  }
  GraphExec g = nullptr;
  Status e = capturing.end(&g);  // ends the capture even after a failed launch
  if (!s.is_ok() && g) drv.graph_destroy(g);
  TSR_RETURN_IF_ERROR(s);
  TSR_RETURN_IF_ERROR(e);
  p.graph = g;
  return Status::ok();
}

uint64_t buffer_size(tsr_bk_buffer b) { return impl(b)->size; }

}  // namespace

Status prepare_graph(tsr_bk_device device, const tsr_subgraph* graph, tsr_bk_prepared* out_prepared) {
  DeviceState& d = *impl(device)->d;
  TSR_RETURN_IF_ERROR(d.bind());
  auto prep = std::make_unique<Prepared>();
  Prepared& p = *prep;
  p.d = &d;
  TSR_RETURN_IF_ERROR(d.pool->alloc(kMaxStepValues * sizeof(int64_t), &p.step, &p.step_reserved));
  TSR_RETURN_IF_ERROR(
      d.drv->host_alloc(kMaxStepValues * sizeof(int64_t), reinterpret_cast<void**>(&p.step_host)));
  std::memset(p.step_host, 0, kMaxStepValues * sizeof(int64_t));
  TSR_RETURN_IF_ERROR(d.drv->copy_h2d(p.step, p.step_host, kMaxStepValues * sizeof(int64_t), d.capture));
  TSR_RETURN_IF_ERROR(d.drv->event_create(&p.step_copied));

  PrepEncoder enc(p);
  TSR_RETURN_IF_ERROR(kit::encode_nodes<Kernels>(
      *graph, buffer_size, enc,
      [&](const tsr_node_desc& n, std::string& why) { return supports_on_device(device, n, why); }));
  TSR_RETURN_IF_ERROR(d.drv->stream_sync(d.capture));
  if (profiling_on()) {
    p.marks.resize(p.launches.size() + 1);
    for (Event& e : p.marks) TSR_RETURN_IF_ERROR(d.drv->event_create(&e));
  } else if (d.drv->has_graphs() && !p.launches.empty()) {
    TSR_RETURN_IF_ERROR(capture(p));
  }
  *out_prepared = handle(prep.release());
  return Status::ok();
}

namespace {

std::string launch_name(const Resolved& r) { return r.l.gemm ? "gemm (vendor library)" : r.l.kernel; }

// Adds the finished run's kernel times to the totals.
void collect_profile(Prepared& p) {
  if (!p.timing_pending) return;
  p.timing_pending = false;
  Driver& drv = *p.d->drv;
  if (!drv.event_sync(p.marks.back()).is_ok()) return;
  for (size_t i = 0; i < p.launches.size(); ++i) {
    float ms = 0;
    if (!drv.event_elapsed_ms(p.marks[i], p.marks[i + 1], &ms).is_ok()) return;
    p.times.add(launch_name(p.launches[i]), static_cast<double>(ms) * 1e6);
  }
  p.times.end_run();
}

}  // namespace

Status execute_graph(tsr_bk_prepared prepared, tsr_bk_queue queue, const tsr_step_params* params) {
  Prepared& p = *impl(prepared);
  Driver& drv = *p.d->drv;
  const Stream s = impl(queue)->s;
  TSR_RETURN_IF_ERROR(p.d->bind());
  TSR_RETURN_IF_ERROR(kit::check_step_params(params, kMaxStepValues, INT64_MIN, INT64_MAX));
  if (params && params->n_values > 0) {
    // The previous run's copy reads step_host: wait until it has.
    if (p.step_pending) TSR_RETURN_IF_ERROR(drv.event_sync(p.step_copied));
    std::memcpy(p.step_host, params->values, static_cast<size_t>(params->n_values) * sizeof(int64_t));
    TSR_RETURN_IF_ERROR(drv.copy_h2d(p.step, p.step_host, kMaxStepValues * sizeof(int64_t), s));
    TSR_RETURN_IF_ERROR(drv.event_record(p.step_copied, s));
    p.step_pending = true;
  }
  if (p.graph) return drv.graph_launch(p.graph, s);
  const bool timed = !p.marks.empty();
  if (timed) {
    collect_profile(p);
    TSR_RETURN_IF_ERROR(drv.event_record(p.marks[0], s));
  }
  for (size_t i = 0; i < p.launches.size(); ++i) {
    TSR_RETURN_IF_ERROR(run_launch(p, p.launches[i], s));
    if (timed) TSR_RETURN_IF_ERROR(drv.event_record(p.marks[i + 1], s));
  }
  p.timing_pending = timed;
  return Status::ok();
}

namespace {

void print_profile(const Prepared& p) { p.times.print("gpu", p.d->info.name, p.launches.size(), "launches"); }

}  // namespace

Launch node_launch(const tsr_subgraph_node& n, std::string_view kernel) {
  Launch l;
  l.kernel = std::string(kernel);
  auto fill = [](GpuTensor& t, const tsr_tensor_ref& r) {
    t.ptr = r.buffer ? impl(r.buffer)->ptr + r.offset : 0;
    for (int i = 0; i < 4; ++i) {
      t.ne[i] = r.desc.ne[i];
      t.nb[i] = r.desc.nb[i];
    }
    t.dtype = r.desc.dtype;
  };
  for (int i = 0; i < n.desc.n_inputs && i < kOutSlot; ++i) fill(l.args.t[i], n.inputs[i]);
  fill(l.args.t[kOutSlot], n.output);
  for (int i = 0; i < 16; ++i) l.args.ip[i] = n.desc.params.i[i];
  for (int i = 0; i < 8; ++i) l.args.fp[i] = n.desc.params.f[i];
  return l;
}

}  // namespace tsr::gpu

tsr::gpu::Prepared::~Prepared() {
  if (!d) return;
  Driver& drv = *d->drv;
  (void)d->bind();
  // The last run may still be on its queue: nothing below is freed before
  // the device is done with it (the pool hands memory out again at once).
  (void)drv.sync();
  collect_profile(*this);
  print_profile(*this);
  for (Event e : marks)
    if (e) drv.event_destroy(e);
  if (graph) drv.graph_destroy(graph);
  if (step_copied) drv.event_destroy(step_copied);
  if (step_host) drv.host_free(step_host);
  d->pool->free(step, step_reserved);
  d->pool->free(gemm_workspace, gemm_workspace_reserved);
  for (const auto& [ptr, reserved] : scratch) d->pool->free(ptr, reserved);
}

void tsr::gpu::release_prepared(tsr_bk_prepared prepared) { delete impl(prepared); }
