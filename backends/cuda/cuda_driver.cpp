// The CUDA backend's driver: gpu::Driver over the CUDA driver API (one
// primary context per device, non-blocking streams, fatbin modules of
// kernels/gpu, stream capture into CUDA graphs) plus cuBLAS for dense GEMMs.
// TESSERA_CUDA_DISABLE=1 hides every CUDA device; TESSERA_CUDA_CUBLAS=0
// leaves cuBLAS out.
#include <dlfcn.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <vector>

#include "cuda_api.h"
#include "cuda_blas.h"
#include "gpu/kernel_args.h"
#include "gpu_driver.h"
#include "gpu_images.h"

namespace tsr::gpu {
std::span<const KernelImage> cuda_kernel_images();  // generated: cmake/EmbedBinary.cmake
}

namespace tsr::cuda {
namespace {

// FP32 lanes per SM by compute capability, for the peak FLOP/s estimate.
int fp32_lanes_per_sm(int major, int minor) {
  if (major == 8 && minor == 0) return 64;  // A100
  if (major >= 8) return 128;               // Ampere consumer, Ada, Hopper, Blackwell
  return 64;                                // Volta, Turing
}

class CudaDriver final : public gpu::Driver {
 public:
  CudaDriver(void* lib, const DriverFns& fn, int count) : lib_(lib), fn_(fn), count_(count) {}
  ~CudaDriver() override {
    for (auto& [index, d] : devs_) {
      fn_.cuCtxSetCurrent(d.ctx);
      d.blas.reset();
      for (CUmodule m : d.modules) fn_.cuModuleUnload(m);
      fn_.cuDevicePrimaryCtxRelease(d.dev);
    }
  }

  int device_count() const override { return count_; }

  Status device_info(int index, gpu::DeviceInfo* out) override {
    CUdevice dev = 0;
    TSR_RETURN_IF_ERROR(check(fn_.cuDeviceGet(&dev, index), "cuDeviceGet"));
    char name[256] = {};
    TSR_RETURN_IF_ERROR(check(fn_.cuDeviceGetName(name, sizeof name, dev), "cuDeviceGetName"));
    size_t mem = 0;
    TSR_RETURN_IF_ERROR(check(fn_.cuDeviceTotalMem(&mem, dev), "cuDeviceTotalMem"));
    auto attr = [&](CUdevice_attribute a) {
      int v = 0;
      return fn_.cuDeviceGetAttribute(&v, a, dev) == CUDA_SUCCESS ? v : 0;
    };
    const int major = attr(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
    const int minor = attr(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
    const int sms = attr(CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
    const double clock_khz = attr(CU_DEVICE_ATTRIBUTE_CLOCK_RATE);
    const double mem_khz = attr(CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE);
    const double bus_bits = attr(CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH);
    int version = 0;
    fn_.cuDriverGetVersion(&version);
    out->name = name;
    out->arch = fmt::format("sm_{}{}", major, minor);
    out->driver = fmt::format("CUDA driver {}.{}", version / 1000, version % 1000 / 10);
    out->memory_bytes = mem;
    out->compute_units = sms;
    out->warp_size = attr(CU_DEVICE_ATTRIBUTE_WARP_SIZE);
    out->max_threads_per_block = attr(CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK);
    out->shared_bytes_per_block = attr(CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK);
    // Estimates from clocks, as vendors quote peaks: 2 FLOP per FMA lane per
    // cycle; double data rate memory.
    out->peak_flops = 2.0 * sms * fp32_lanes_per_sm(major, minor) * clock_khz * 1e3;
    out->peak_bandwidth = 2.0 * mem_khz * 1e3 * bus_bits / 8.0;
    out->details =
        fmt::format("compute capability: {}.{}\nSM clock: {} MHz\nmemory clock: {} MHz\nbus width: {} bits\n",
                    major, minor, clock_khz / 1e3, mem_khz / 1e3, bus_bits);
    return Status::ok();
  }

  Status bind(int index) override {
    auto it = devs_.find(index);
    if (it == devs_.end()) {
      PerDevice d;
      TSR_RETURN_IF_ERROR(check(fn_.cuDeviceGet(&d.dev, index), "cuDeviceGet"));
      TSR_RETURN_IF_ERROR(check(fn_.cuDevicePrimaryCtxRetain(&d.ctx, d.dev), "cuDevicePrimaryCtxRetain"));
      it = devs_.emplace(index, std::move(d)).first;
    }
    cur_ = &it->second;
    return check(fn_.cuCtxSetCurrent(cur_->ctx), "cuCtxSetCurrent");
  }

  Status mem_alloc(uint64_t size, gpu::DevPtr* out) override {
    CUdeviceptr p = 0;
    TSR_RETURN_IF_ERROR(check(fn_.cuMemAlloc(&p, size), "cuMemAlloc"));
    *out = p;
    return Status::ok();
  }
  void mem_free(gpu::DevPtr p) override { fn_.cuMemFree(p); }
  Status host_alloc(uint64_t size, void** out) override {
    return check(fn_.cuMemAllocHost(out, size), "cuMemAllocHost");
  }
  void host_free(void* p) override { fn_.cuMemFreeHost(p); }

  Status sync() override { return check(fn_.cuCtxSynchronize(), "cuCtxSynchronize"); }

  Status stream_create(gpu::Stream* out) override {
    CUstream s = nullptr;
    TSR_RETURN_IF_ERROR(check(fn_.cuStreamCreate(&s, CU_STREAM_NON_BLOCKING), "cuStreamCreate"));
    *out = s;
    return Status::ok();
  }
  void stream_destroy(gpu::Stream s) override { fn_.cuStreamDestroy(stream(s)); }
  Status stream_sync(gpu::Stream s) override {
    return check(fn_.cuStreamSynchronize(stream(s)), "cuStreamSynchronize");
  }
  Status stream_done(gpu::Stream s, bool* done) override {
    const CUresult r = fn_.cuStreamQuery(stream(s));
    *done = r == CUDA_SUCCESS;
    return r == CUDA_ERROR_NOT_READY ? Status::ok() : check(r, "cuStreamQuery");
  }
  Status copy_h2d(gpu::DevPtr dst, const void* src, uint64_t n, gpu::Stream s) override {
    return check(fn_.cuMemcpyHtoDAsync(dst, src, n, stream(s)), "cuMemcpyHtoDAsync");
  }
  Status copy_d2h(void* dst, gpu::DevPtr src, uint64_t n, gpu::Stream s) override {
    return check(fn_.cuMemcpyDtoHAsync(dst, src, n, stream(s)), "cuMemcpyDtoHAsync");
  }
  Status copy_d2d(gpu::DevPtr dst, gpu::DevPtr src, uint64_t n, gpu::Stream s) override {
    return check(fn_.cuMemcpyDtoDAsync(dst, src, n, stream(s)), "cuMemcpyDtoDAsync");
  }

  Status event_create(gpu::Event* out) override {
    CUevent e = nullptr;
    TSR_RETURN_IF_ERROR(check(fn_.cuEventCreate(&e, CU_EVENT_DEFAULT), "cuEventCreate"));
    *out = e;
    return Status::ok();
  }
  void event_destroy(gpu::Event e) override { fn_.cuEventDestroy(static_cast<CUevent>(e)); }
  Status event_record(gpu::Event e, gpu::Stream s) override {
    return check(fn_.cuEventRecord(static_cast<CUevent>(e), stream(s)), "cuEventRecord");
  }
  Status event_sync(gpu::Event e) override {
    return check(fn_.cuEventSynchronize(static_cast<CUevent>(e)), "cuEventSynchronize");
  }
  Status event_elapsed_ms(gpu::Event a, gpu::Event b, float* out) override {
    return check(fn_.cuEventElapsedTime(out, static_cast<CUevent>(a), static_cast<CUevent>(b)),
                 "cuEventElapsedTime");
  }

  Status load_kernels() override {
    if (!cur_->modules.empty()) return Status::ok();
    for (const gpu::KernelImage& img : gpu::cuda_kernel_images()) {
      CUmodule m = nullptr;
      const CUresult r = fn_.cuModuleLoadData(&m, img.data);
      if (r == CUDA_ERROR_NO_BINARY_FOR_GPU || r == CUDA_ERROR_UNSUPPORTED_PTX_VERSION)
        return make_error(TSR_ERR_UNSUPPORTED,
                          "[device_open] kernels/gpu/{}.cu has no code for this GPU ({}); rebuild with its "
                          "architecture in TESSERA_CUDA_ARCHITECTURES",
                          img.name, error_name(r));
      TSR_RETURN_IF_ERROR(check(r, "cuModuleLoadData"));
      cur_->modules.push_back(m);
    }
    // Without cuBLAS (or with TESSERA_CUDA_CUBLAS=0, to time Tessera's own
    // GEMM kernels against it), matmul runs on the own kernels.
    const char* use = std::getenv("TESSERA_CUDA_CUBLAS");
    std::string why;
    if (!use || std::strcmp(use, "0") != 0) cur_->blas = Blas::open(&why);
    return Status::ok();
  }
  Status function(const char* name, gpu::Function* out) override {
    for (CUmodule m : cur_->modules) {
      CUfunction f = nullptr;
      if (fn_.cuModuleGetFunction(&f, m, name) == CUDA_SUCCESS) {
        *out = f;
        return Status::ok();
      }
    }
    return make_error(TSR_ERR_INTERNAL, "[prepare] kernel {} is in no CUDA module of this build", name);
  }
  Status launch(gpu::Function f, gpu::Dim3 g, uint32_t block, const gpu::KArgs& args,
                gpu::Stream s) override {
    void* params[] = {const_cast<gpu::KArgs*>(&args)};
    return check(fn_.cuLaunchKernel(static_cast<CUfunction>(f), g.x, g.y, g.z, block, 1, 1, 0, stream(s),
                                    params, nullptr),
                 "cuLaunchKernel");
  }

  bool has_graphs() const override { return true; }
  Status capture_begin(gpu::Stream s) override {
    return check(fn_.cuStreamBeginCapture(stream(s), CU_STREAM_CAPTURE_MODE_THREAD_LOCAL),
                 "cuStreamBeginCapture");
  }
  Status capture_end(gpu::Stream s, gpu::GraphExec* out) override {
    CUgraph graph = nullptr;
    TSR_RETURN_IF_ERROR(check(fn_.cuStreamEndCapture(stream(s), &graph), "cuStreamEndCapture"));
    CUgraphExec exec = nullptr;
    const Status st = check(fn_.cuGraphInstantiateWithFlags(&exec, graph, 0), "cuGraphInstantiateWithFlags");
    fn_.cuGraphDestroy(graph);
    TSR_RETURN_IF_ERROR(st);
    *out = exec;
    return Status::ok();
  }
  Status graph_launch(gpu::GraphExec g, gpu::Stream s) override {
    return check(fn_.cuGraphLaunch(static_cast<CUgraphExec>(g), stream(s)), "cuGraphLaunch");
  }
  void graph_destroy(gpu::GraphExec g) override { fn_.cuGraphExecDestroy(static_cast<CUgraphExec>(g)); }

  bool has_gemm() const override { return cur_ && cur_->blas != nullptr; }
  Status gemm(const gpu::GemmDesc& g, gpu::Stream s) override {
    if (!has_gemm()) return gpu::Driver::gemm(g, s);
    return cur_->blas->gemm(g, stream(s));
  }

 private:
  static CUstream stream(gpu::Stream s) { return static_cast<CUstream>(s); }
  const char* error_name(CUresult r) const {
    const char* n = nullptr;
    return fn_.cuGetErrorName(r, &n) == CUDA_SUCCESS && n ? n : "CUDA_ERROR_UNKNOWN";
  }
  Status check(CUresult r, const char* what) const {
    if (r == CUDA_SUCCESS) return Status::ok();
    const char* msg = nullptr;
    fn_.cuGetErrorString(r, &msg);
    return make_error(r == CUDA_ERROR_OUT_OF_MEMORY ? TSR_ERR_OUT_OF_MEMORY : TSR_ERR_DEVICE,
                      "[cuda] {} failed: {} ({})", what, error_name(r), msg ? msg : "no description");
  }

  // What lives in one device's primary context.
  struct PerDevice {
    CUdevice dev = 0;
    CUcontext ctx = nullptr;
    std::vector<CUmodule> modules;
    std::unique_ptr<Blas> blas;
  };

  void* lib_;
  DriverFns fn_;
  int count_;
  std::map<int, PerDevice> devs_;
  PerDevice* cur_ = nullptr;  // the device of the last bind()
};

}  // namespace

std::unique_ptr<gpu::Driver> load(std::string* note) {
  const char* off = std::getenv("TESSERA_CUDA_DISABLE");
  if (off && *off && std::strcmp(off, "0") != 0) {
    *note = "disabled by TESSERA_CUDA_DISABLE";
    return nullptr;
  }
  void* lib = nullptr;
  DriverFns fn;
  if (!load_driver(&lib, &fn, note)) return nullptr;
  const CUresult r = fn.cuInit(0);
  if (r != CUDA_SUCCESS) {
    const char* name = nullptr;
    const char* msg = nullptr;
    fn.cuGetErrorName(r, &name);
    fn.cuGetErrorString(r, &msg);
    *note = fmt::format("no usable NVIDIA GPU: cuInit failed: {} ({})", name ? name : "error",
                        msg ? msg : "no description");
    return nullptr;
  }
  int count = 0;
  fn.cuDeviceGetCount(&count);
  if (count == 0) {
    *note = "the CUDA driver found no device";
    return nullptr;
  }
  return std::make_unique<CudaDriver>(lib, fn, count);
}

}  // namespace tsr::cuda
