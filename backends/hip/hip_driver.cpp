// The HIP backend's driver: gpu::Driver over the HIP runtime's module API
// (code objects of kernels/gpu compiled by hipcc, stream capture into HIP
// graphs). Dense GEMMs run on Tessera's own kernels (no hipBLAS/rocBLAS in
// the build). TESSERA_HIP_DISABLE=1 hides every HIP device.
#include <dlfcn.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <vector>

#include "gpu/kernel_args.h"
#include "gpu_driver.h"
#include "gpu_images.h"
#include "hip_api.h"

namespace tsr::gpu {
std::span<const KernelImage> hip_kernel_images();  // generated: cmake/EmbedBinary.cmake
}

namespace tsr::hip {
namespace {

// FP32 FMA lanes per CU: CDNA2/3 issue packed FP32 (two per lane), RDNA3
// dual-issues; older GCN and RDNA1/2 have 64.
int fp32_lanes_per_cu(const std::string& arch) {
  if (arch.rfind("gfx90a", 0) == 0 || arch.rfind("gfx94", 0) == 0 || arch.rfind("gfx11", 0) == 0) return 128;
  return 64;
}

class HipDriver final : public gpu::Driver {
 public:
  HipDriver(void* lib, const RuntimeFns& fn, int count) : lib_(lib), fn_(fn), count_(count) {}
  ~HipDriver() override {
    for (auto& [index, mods] : modules_) {
      (void)fn_.hipSetDevice(index);
      for (hipModule_t m : mods) (void)fn_.hipModuleUnload(m);
    }
  }

  int device_count() const override { return count_; }

  Status device_info(int index, gpu::DeviceInfo* out) override {
    char name[256] = {};
    TSR_RETURN_IF_ERROR(check(fn_.hipDeviceGetName(name, sizeof name, index), "hipDeviceGetName"));
    size_t mem = 0;
    TSR_RETURN_IF_ERROR(check(fn_.hipDeviceTotalMem(&mem, index), "hipDeviceTotalMem"));
    hipDeviceProp_t props{};
    TSR_RETURN_IF_ERROR(check(fn_.hipGetDeviceProperties(&props, index), "hipGetDeviceProperties"));
    auto attr = [&](hipDeviceAttribute_t a) {
      int v = 0;
      return fn_.hipDeviceGetAttribute(&v, a, index) == hipSuccess ? v : 0;
    };
    const int cus = attr(hipDeviceAttributeMultiprocessorCount);
    const double clock_khz = attr(hipDeviceAttributeClockRate);
    const double mem_khz = attr(hipDeviceAttributeMemoryClockRate);
    const double bus_bits = attr(hipDeviceAttributeMemoryBusWidth);
    int version = 0;
    (void)fn_.hipDriverGetVersion(&version);
    const std::string arch = props.gcnArchName;
    out->name = name;
    out->arch = arch.substr(0, arch.find(':'));  // "gfx90a:sramecc+:xnack-"
    out->driver = fmt::format("HIP runtime {}", version);
    out->memory_bytes = mem;
    out->compute_units = cus;
    out->warp_size = attr(hipDeviceAttributeWarpSize);
    out->max_threads_per_block = attr(hipDeviceAttributeMaxThreadsPerBlock);
    out->shared_bytes_per_block = attr(hipDeviceAttributeMaxSharedMemoryPerBlock);
    out->peak_flops = 2.0 * cus * fp32_lanes_per_cu(out->arch) * clock_khz * 1e3;
    out->peak_bandwidth = 2.0 * mem_khz * 1e3 * bus_bits / 8.0;
    out->details = fmt::format("gcn arch: {}\nclock: {} MHz\nmemory clock: {} MHz\nbus width: {} bits\n",
                               arch, clock_khz / 1e3, mem_khz / 1e3, bus_bits);
    return Status::ok();
  }

  Status bind(int index) override {
    cur_ = index;
    return check(fn_.hipSetDevice(index), "hipSetDevice");
  }

  Status mem_alloc(uint64_t size, gpu::DevPtr* out) override {
    void* p = nullptr;
    TSR_RETURN_IF_ERROR(check(fn_.hipMalloc(&p, size), "hipMalloc"));
    *out = reinterpret_cast<gpu::DevPtr>(p);
    return Status::ok();
  }
  void mem_free(gpu::DevPtr p) override { (void)fn_.hipFree(ptr(p)); }
  Status host_alloc(uint64_t size, void** out) override {
    return check(fn_.hipHostMalloc(out, size, 0), "hipHostMalloc");
  }
  void host_free(void* p) override { (void)fn_.hipHostFree(p); }

  Status sync() override { return check(fn_.hipDeviceSynchronize(), "hipDeviceSynchronize"); }

  Status stream_create(gpu::Stream* out) override {
    hipStream_t s = nullptr;
    TSR_RETURN_IF_ERROR(
        check(fn_.hipStreamCreateWithFlags(&s, hipStreamNonBlocking), "hipStreamCreateWithFlags"));
    *out = s;
    return Status::ok();
  }
  void stream_destroy(gpu::Stream s) override { (void)fn_.hipStreamDestroy(stream(s)); }
  Status stream_sync(gpu::Stream s) override {
    return check(fn_.hipStreamSynchronize(stream(s)), "hipStreamSynchronize");
  }
  Status stream_done(gpu::Stream s, bool* done) override {
    const hipError_t r = fn_.hipStreamQuery(stream(s));
    *done = r == hipSuccess;
    return r == hipErrorNotReady ? Status::ok() : check(r, "hipStreamQuery");
  }
  Status copy_h2d(gpu::DevPtr dst, const void* src, uint64_t n, gpu::Stream s) override {
    return check(fn_.hipMemcpyHtoDAsync(ptr(dst), const_cast<void*>(src), n, stream(s)),
                 "hipMemcpyHtoDAsync");
  }
  Status copy_d2h(void* dst, gpu::DevPtr src, uint64_t n, gpu::Stream s) override {
    return check(fn_.hipMemcpyDtoHAsync(dst, ptr(src), n, stream(s)), "hipMemcpyDtoHAsync");
  }
  Status copy_d2d(gpu::DevPtr dst, gpu::DevPtr src, uint64_t n, gpu::Stream s) override {
    return check(fn_.hipMemcpyDtoDAsync(ptr(dst), ptr(src), n, stream(s)), "hipMemcpyDtoDAsync");
  }

  Status event_create(gpu::Event* out) override {
    hipEvent_t e = nullptr;
    TSR_RETURN_IF_ERROR(check(fn_.hipEventCreate(&e), "hipEventCreate"));
    *out = e;
    return Status::ok();
  }
  void event_destroy(gpu::Event e) override { (void)fn_.hipEventDestroy(static_cast<hipEvent_t>(e)); }
  Status event_record(gpu::Event e, gpu::Stream s) override {
    return check(fn_.hipEventRecord(static_cast<hipEvent_t>(e), stream(s)), "hipEventRecord");
  }
  Status event_sync(gpu::Event e) override {
    return check(fn_.hipEventSynchronize(static_cast<hipEvent_t>(e)), "hipEventSynchronize");
  }
  Status event_elapsed_ms(gpu::Event a, gpu::Event b, float* out) override {
    return check(fn_.hipEventElapsedTime(out, static_cast<hipEvent_t>(a), static_cast<hipEvent_t>(b)),
                 "hipEventElapsedTime");
  }

  Status load_kernels() override {
    std::vector<hipModule_t>& mods = modules_[cur_];
    if (!mods.empty()) return Status::ok();
    for (const gpu::KernelImage& img : gpu::hip_kernel_images()) {
      hipModule_t m = nullptr;
      const hipError_t r = fn_.hipModuleLoadData(&m, img.data);
      if (r == hipErrorNoBinaryForGpu || r == hipErrorInvalidImage)
        return make_error(
            TSR_ERR_UNSUPPORTED,
            "[device_open] kernels/gpu/{}.cu has no code object for this GPU ({}); rebuild with "
            "its target in TESSERA_HIP_ARCHITECTURES",
            img.name, fn_.hipGetErrorName(r));
      TSR_RETURN_IF_ERROR(check(r, "hipModuleLoadData"));
      mods.push_back(m);
    }
    return Status::ok();
  }
  Status function(const char* name, gpu::Function* out) override {
    for (hipModule_t m : modules_[cur_]) {
      hipFunction_t f = nullptr;
      if (fn_.hipModuleGetFunction(&f, m, name) == hipSuccess) {
        *out = f;
        return Status::ok();
      }
    }
    return make_error(TSR_ERR_INTERNAL, "[prepare] kernel {} is in no HIP module of this build", name);
  }
  Status launch(gpu::Function f, gpu::Dim3 g, uint32_t block, const gpu::KArgs& args,
                gpu::Stream s) override {
    // The argument block is passed as the kernel's argument buffer: its one
    // by-value parameter is exactly this struct.
    size_t size = sizeof(gpu::KArgs);
    void* extra[] = {HIP_LAUNCH_PARAM_BUFFER_POINTER, const_cast<gpu::KArgs*>(&args),
                     HIP_LAUNCH_PARAM_BUFFER_SIZE, &size, HIP_LAUNCH_PARAM_END};
    return check(fn_.hipModuleLaunchKernel(static_cast<hipFunction_t>(f), g.x, g.y, g.z, block, 1, 1, 0,
                                           stream(s), nullptr, extra),
                 "hipModuleLaunchKernel");
  }

  bool has_graphs() const override { return true; }
  Status capture_begin(gpu::Stream s) override {
    return check(fn_.hipStreamBeginCapture(stream(s), hipStreamCaptureModeThreadLocal),
                 "hipStreamBeginCapture");
  }
  Status capture_end(gpu::Stream s, gpu::GraphExec* out) override {
    hipGraph_t graph = nullptr;
    TSR_RETURN_IF_ERROR(check(fn_.hipStreamEndCapture(stream(s), &graph), "hipStreamEndCapture"));
    hipGraphExec_t exec = nullptr;
    const Status st =
        check(fn_.hipGraphInstantiate(&exec, graph, nullptr, nullptr, 0), "hipGraphInstantiate");
    (void)fn_.hipGraphDestroy(graph);
    TSR_RETURN_IF_ERROR(st);
    *out = exec;
    return Status::ok();
  }
  Status graph_launch(gpu::GraphExec g, gpu::Stream s) override {
    return check(fn_.hipGraphLaunch(static_cast<hipGraphExec_t>(g), stream(s)), "hipGraphLaunch");
  }
  void graph_destroy(gpu::GraphExec g) override {
    (void)fn_.hipGraphExecDestroy(static_cast<hipGraphExec_t>(g));
  }

 private:
  static hipStream_t stream(gpu::Stream s) { return static_cast<hipStream_t>(s); }
  static void* ptr(gpu::DevPtr p) { return reinterpret_cast<void*>(p); }
  Status check(hipError_t r, const char* what) const {
    if (r == hipSuccess) return Status::ok();
    return make_error(r == hipErrorOutOfMemory ? TSR_ERR_OUT_OF_MEMORY : TSR_ERR_DEVICE,
                      "[hip] {} failed: {} ({})", what, fn_.hipGetErrorName(r), fn_.hipGetErrorString(r));
  }

  void* lib_;
  RuntimeFns fn_;
  int count_;
  int cur_ = 0;
  std::map<int, std::vector<hipModule_t>> modules_;  // per device
};

}  // namespace

std::unique_ptr<gpu::Driver> load(std::string* note) {
  const char* off = std::getenv("TESSERA_HIP_DISABLE");
  if (off && *off && std::strcmp(off, "0") != 0) {
    *note = "disabled by TESSERA_HIP_DISABLE";
    return nullptr;
  }
  void* lib = nullptr;
  RuntimeFns fn;
  if (!load_runtime(&lib, &fn, note)) return nullptr;
  const hipError_t r = fn.hipInit(0);
  int count = 0;
  if (r == hipSuccess) (void)fn.hipGetDeviceCount(&count);
  if (r != hipSuccess || count == 0) {
    *note = r != hipSuccess ? fmt::format("no usable AMD GPU: hipInit failed: {} ({})", fn.hipGetErrorName(r),
                                          fn.hipGetErrorString(r))
                            : std::string("the HIP runtime found no device");
    return nullptr;
  }
  return std::make_unique<HipDriver>(lib, fn, count);
}

}  // namespace tsr::hip
