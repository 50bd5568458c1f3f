// supports_op, prepare, execute. Prepare asks each node's encoder for its
// dispatches and turns each into a cl_kernel with every argument set (the
// tensors' buffers, a parameter buffer of its own, the graph's step buffer);
// execute writes the step values and enqueues those kernels in order.
// Nothing is allocated, built or looked up per step.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "cl_internal.h"
#include "tessera/kit/kernel_times.h"
#include "tessera/kit/op_info.h"

namespace tsr::cl {
namespace {

constexpr size_t kParamBytes = sizeof(kit::shader::ParamBlock::u);  // 512
constexpr int kMaxStepValues = 16;

struct Launch {
  cl_kernel kernel = nullptr;
  cl_mem params = nullptr;
  size_t global[3] = {1, 1, 1};
  size_t local[3] = {1, 1, 1};
  std::string_view name;
};

}  // namespace

struct Prepared {
  tsr::cl::DeviceState* d = nullptr;
  std::vector<tsr::cl::Launch> launches;
  cl_mem step = nullptr;
  std::array<int32_t, tsr::cl::kMaxStepValues> step_host{};
  cl_event step_written = nullptr;  // the last execute's step upload reads step_host
  tsr::KernelTimes profile;
  ~Prepared();
};

namespace {

// The build defines of dispatch d: its own constants, then the dtype of each
// bound slot (0 for an unused one).
SpecConstants spec_of(const Dispatch& d) {
  SpecConstants spec{};
  for (int k = 0; k < 4; ++k) spec[static_cast<size_t>(k)] = d.spec[static_cast<size_t>(k)];
  for (int s = 0; s < kSlots; ++s)
    if (d.t[static_cast<size_t>(s)].buffer)
      spec[static_cast<size_t>(4 + s)] = static_cast<uint32_t>(d.t[static_cast<size_t>(s)].desc.dtype);
  return spec;
}

// Records nothing: builds the program of each dispatch of a node, so that a
// kernel the driver cannot build is refused in supports_op, where the
// scheduler falls back to the CPU (or, strict, fails naming the build log's
// errors), not in prepare, where the whole compile would fail. The programs
// stay built for prepare.
class BuildCheck final : public kit::shader::Recorder {
 public:
  explicit BuildCheck(DeviceState& d) : d_(d) {}
  const ComputeCaps& caps() const override { return d_.caps; }
  void set_node(int, int32_t) {}
  Status add(const Dispatch& d) override { return d_.program(d.kernel, spec_of(d)).status(); }

 private:
  DeviceState& d_;
};

// Turns each dispatch into a ready cl_kernel.
class PrepRecorder final : public kit::shader::Recorder {
 public:
  PrepRecorder(DeviceState& d, Prepared& p) : d_(d), p_(p) {}
  const ComputeCaps& caps() const override { return d_.caps; }
  void set_node(int node, int32_t op) {
    node_ = node;
    op_ = op;
  }

  Status add(const Dispatch& in) override {
    Dispatch d = in;
    std::array<cl_mem, kSlots> mems{};
    const SpecConstants spec = spec_of(d);
    for (int s = 0; s < kSlots; ++s) {
      const tsr_tensor_ref& r = d.t[static_cast<size_t>(s)];
      if (!r.buffer) {
        mems[static_cast<size_t>(s)] = d_.dummy;
        continue;
      }
      kit::shader::Binding at;
      TSR_RETURN_IF_ERROR(
          kit::shader::bind_tensor(d_.caps, node_, op_, r, s, impl(r.buffer)->size, &d.p, &at));
      mems[static_cast<size_t>(s)] = impl(r.buffer)->mem;
    }
    auto program = d_.program(d.kernel, spec);
    if (!program.is_ok())
      return make_error(program.status().code(), "[prepare] node {} ({}): {}", node_, ops::op_name(op_),
                        program.status().message());
    const Fns& fn = *d_.fn;
    Launch l;
    l.name = d.kernel;
    cl_int r = CL_SUCCESS;
    l.kernel = fn.clCreateKernel(program.value(), "tsr_main", &r);
    // Owned by p_ from here, so an error below releases it.
    p_.launches.push_back(l);
    Launch& owned = p_.launches.back();
    TSR_RETURN_IF_ERROR(d_.check(r, "clCreateKernel"));
    size_t kernel_max = 0;
    fn.clGetKernelWorkGroupInfo(owned.kernel, d_.info.id, CL_KERNEL_WORK_GROUP_SIZE, sizeof kernel_max,
                                &kernel_max, nullptr);
    if (kernel_max && d.local_size > kernel_max)
      return make_error(
          TSR_ERR_UNSUPPORTED,
          "[prepare] node {} ({}): kernel {} needs {} work-items per workgroup; {} allows it {}", node_,
          ops::op_name(op_), d.kernel, d.local_size, d_.info.name, kernel_max);
    owned.params =
        fn.clCreateBuffer(d_.ctx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, kParamBytes, d.p.u.data(), &r);
    TSR_RETURN_IF_ERROR(d_.check(r, "clCreateBuffer (parameters)"));
    // Arguments (TSR_ARGS in kernels/opencl/common.cl): the seven tensor
    // slots, the parameter block, the step values.
    std::array<cl_mem, kSlots + 2> args{};
    std::copy(mems.begin(), mems.end(), args.begin());
    args[kSlots] = owned.params;
    args[kSlots + 1] = p_.step;
    for (cl_uint a = 0; a < args.size(); ++a)
      TSR_RETURN_IF_ERROR(
          d_.check(fn.clSetKernelArg(owned.kernel, a, sizeof(cl_mem), &args[a]), "clSetKernelArg"));
    owned.local[0] = d.local_size;
    owned.global[0] = static_cast<size_t>(d.groups[0]) * d.local_size;
    owned.global[1] = d.groups[1];
    owned.global[2] = d.groups[2];
    return Status::ok();
  }

 private:
  DeviceState& d_;
  Prepared& p_;
  int node_ = 0;
  int32_t op_ = 0;
};

uint64_t buffer_size(tsr_bk_buffer b) { return impl(b)->size; }

}  // namespace

bool supports_on_device(tsr_bk_device device, const tsr_node_desc& n, std::string& reason) {
  DeviceState& d = *impl(device)->d;
  if (!kit::shader::supports(d.caps, n, "OpenCL", reason)) return false;
  if (element_count(n.output) == 0) return true;  // nothing is dispatched
  // Encode the node against stand-in buffers (BuildCheck binds nothing; one
  // per tensor, the output in input 0's for an op that writes it, as core
  // binds them) to learn its kernels, and build them.
  static char stand_in[TSR_MAX_INPUTS + 1];
  auto buffer = [](int slot) { return reinterpret_cast<tsr_bk_buffer>(&stand_in[slot]); };
  tsr_subgraph_node sn{};
  sn.desc = n;
  for (int i = 0; i < n.n_inputs; ++i) sn.inputs[i] = {buffer(i), 0, n.inputs[i]};
  const bool in_place = ops::op_info(n.op) && ops::op_info(n.op)->writes_input0;
  sn.output = {buffer(in_place ? 0 : TSR_MAX_INPUTS), 0, n.output};
  BuildCheck check(d);
  const Status st = kit::find_kernel<kit::shader::Kernels>(n.op)->encode(check, sn);
  if (st.is_ok()) return true;
  reason = st.message();
  return false;
}

Status prepare_graph(tsr_bk_device device, const tsr_subgraph* graph, tsr_bk_prepared* out_prepared) {
  DeviceState& d = *impl(device)->d;
  auto prep = std::make_unique<Prepared>();
  prep->d = &d;
  cl_int r = CL_SUCCESS;
  prep->step = d.fn->clCreateBuffer(d.ctx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, sizeof prep->step_host,
                                    prep->step_host.data(), &r);
  TSR_RETURN_IF_ERROR(d.check(r, "clCreateBuffer (step values)"));
  PrepRecorder rec(d, *prep);
  TSR_RETURN_IF_ERROR(kit::encode_nodes<kit::shader::Kernels>(
      *graph, buffer_size, rec,
      [&](const tsr_node_desc& n, std::string& why) { return supports_on_device(device, n, why); }));
  *out_prepared = handle(prep.release());
  return Status::ok();
}

namespace {

// Enqueues every launch; with profiling, waits and adds each kernel's time.
Status enqueue_all(Prepared& p) {
  DeviceState& d = *p.d;
  const Fns& fn = *d.fn;
  // Profiling events, released whatever happens.
  struct Events {
    const Fns& fn;
    std::vector<cl_event> v;
    ~Events() {
      for (cl_event e : v)
        if (e) fn.clReleaseEvent(e);
    }
  } ev{fn, std::vector<cl_event>(d.profiling ? p.launches.size() : 0, nullptr)};
  std::vector<cl_event>& events = ev.v;
  for (size_t i = 0; i < p.launches.size(); ++i) {
    const Launch& l = p.launches[i];
    TSR_RETURN_IF_ERROR(d.check(fn.clEnqueueNDRangeKernel(d.queue, l.kernel, 3, nullptr, l.global, l.local, 0,
                                                          nullptr, d.profiling ? &events[i] : nullptr),
                                "clEnqueueNDRangeKernel"));
  }
  TSR_RETURN_IF_ERROR(d.check(fn.clFlush(d.queue), "clFlush"));
  if (!d.profiling) return Status::ok();
  TSR_RETURN_IF_ERROR(d.check(fn.clFinish(d.queue), "clFinish"));
  for (size_t i = 0; i < events.size(); ++i) {
    cl_ulong start = 0, end = 0;
    fn.clGetEventProfilingInfo(events[i], CL_PROFILING_COMMAND_START, sizeof start, &start, nullptr);
    fn.clGetEventProfilingInfo(events[i], CL_PROFILING_COMMAND_END, sizeof end, &end, nullptr);
    p.profile.add(p.launches[i].name, static_cast<double>(end - start));
  }
  p.profile.end_run();
  return Status::ok();
}

}  // namespace

Status execute_graph(tsr_bk_prepared prepared, tsr_bk_queue, const tsr_step_params* params) {
  Prepared& p = *impl(prepared);
  DeviceState& d = *p.d;
  const Fns& fn = *d.fn;
  // The kernels read step values as int32.
  TSR_RETURN_IF_ERROR(kit::check_step_params(params, kMaxStepValues, INT32_MIN, INT32_MAX));
  // The previous execute's upload may still read step_host.
  if (p.step_written) {
    TSR_RETURN_IF_ERROR(d.check(fn.clWaitForEvents(1, &p.step_written), "clWaitForEvents"));
    fn.clReleaseEvent(p.step_written);
    p.step_written = nullptr;
  }
  p.step_host.fill(0);
  for (int i = 0; params && i < params->n_values; ++i)
    p.step_host[static_cast<size_t>(i)] = static_cast<int32_t>(params->values[i]);
  TSR_RETURN_IF_ERROR(d.check(fn.clEnqueueWriteBuffer(d.queue, p.step, CL_FALSE, 0, sizeof p.step_host,
                                                      p.step_host.data(), 0, nullptr, &p.step_written),
                              "clEnqueueWriteBuffer (step values)"));
  return enqueue_all(p);
}

}  // namespace tsr::cl

tsr::cl::Prepared::~Prepared() {
  if (!d) return;
  const tsr::cl::Fns& fn = *d->fn;
  fn.clFinish(d->queue);
  profile.print("opencl", d->info.name, launches.size(), "kernels");
  if (step_written) fn.clReleaseEvent(step_written);
  for (const tsr::cl::Launch& l : launches) {
    if (l.kernel) fn.clReleaseKernel(l.kernel);
    if (l.params) fn.clReleaseMemObject(l.params);
  }
  if (step) fn.clReleaseMemObject(step);
}

void tsr::cl::release_prepared(tsr_bk_prepared prepared) { delete impl(prepared); }
