// The host side of Tessera's GPU runtime layer: one vendor's driver API
// (CUDA's libcuda, HIP's libamdhip64, or the test emulator) behind one small
// interface, so backends/gpu holds the buffers, queues, graphs and op
// encoders once for every vendor. Vendors load their library at run time,
// so libtessera runs (and lists no such device) where the driver is absent.
// Internal to backends/gpu, backends/cuda, backends/hip and the emulator.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "tessera/kit/status.h"

namespace tsr::gpu {

struct KArgs;

using DevPtr = uint64_t;
using Stream = void*;
using Event = void*;
using Function = void*;
using GraphExec = void*;

struct Dim3 {
  uint32_t x = 1, y = 1, z = 1;
};

// Facts about one device, read once at open.
struct DeviceInfo {
  std::string name;    // "NVIDIA H200"
  std::string arch;    // "sm_90", "gfx90a"
  std::string driver;  // "CUDA driver 12.8"
  uint64_t memory_bytes = 0;
  int compute_units = 0;  // SMs or CUs
  int warp_size = 32;     // 64 on CDNA
  int max_threads_per_block = 1024;
  int shared_bytes_per_block = 48 * 1024;
  double peak_flops = 0;      // f32 FMA peak from clocks and units; 0 = unknown
  double peak_bandwidth = 0;  // bytes/s from memory clock and bus; 0 = unknown
  std::string details;        // "key: value" lines for tsr_device_props
};

// out[m, n] = sum_k w[k, m] * x[k, n] for each of batch matrices (a library
// GEMM such as cuBLAS); w and x have the same float dtype, out is f32, all
// three column-major with the given leading dimensions in elements.
struct GemmDesc {
  int32_t dtype = 0;  // tsr_dtype of w and x: f32, f16 or bf16
  int64_t m = 0, n = 0, k = 0, batch = 1;
  DevPtr w = 0, x = 0, out = 0;
  int64_t ldw = 0, ldx = 0, ldo = 0;
  int64_t stride_w = 0, stride_x = 0, stride_o = 0;  // between batches, in elements
  // Device scratch the library may use, owned by the prepared subgraph: one
  // per subgraph, so graphs running at once on other queues never share it.
  DevPtr workspace = 0;
  uint64_t workspace_bytes = 0;
};

// Every call that can fail returns a status naming the driver call and its
// error. One Driver serves one backend instance; calls come from the thread
// core serialises them on, after bind(device).
class Driver {
 public:
  virtual ~Driver() = default;
  virtual int device_count() const = 0;
  virtual Status device_info(int index, DeviceInfo* out) = 0;
  // Makes device index current for the calls that follow on this thread.
  virtual Status bind(int index) = 0;

  virtual Status mem_alloc(uint64_t size, DevPtr* out) = 0;  // OOM: TSR_ERR_OUT_OF_MEMORY
  virtual void mem_free(DevPtr p) = 0;
  virtual Status host_alloc(uint64_t size, void** out) = 0;  // page-locked
  virtual void host_free(void* p) = 0;

  // Waits for everything queued on the bound device, on every stream.
  virtual Status sync() = 0;

  virtual Status stream_create(Stream* out) = 0;
  virtual void stream_destroy(Stream s) = 0;
  virtual Status stream_sync(Stream s) = 0;
  // Whether everything queued on s has finished, without waiting (a
  // collective polls it against its timeout). Default: waits, then true.
  virtual Status stream_done(Stream s, bool* done) {
    *done = true;
    return stream_sync(s);
  }
  virtual Status copy_h2d(DevPtr dst, const void* src, uint64_t n, Stream s) = 0;
  virtual Status copy_d2h(void* dst, DevPtr src, uint64_t n, Stream s) = 0;
  virtual Status copy_d2d(DevPtr dst, DevPtr src, uint64_t n, Stream s) = 0;

  virtual Status event_create(Event* out) = 0;  // with timing
  virtual void event_destroy(Event e) = 0;
  virtual Status event_record(Event e, Stream s) = 0;
  virtual Status event_sync(Event e) = 0;
  virtual Status event_elapsed_ms(Event start, Event end, float* out) = 0;

  // Loads the backend's kernels (nothing for the emulator); then function()
  // finds one by its TSR_KERNEL name.
  virtual Status load_kernels() = 0;
  virtual Status function(const char* name, Function* out) = 0;
  virtual Status launch(Function f, Dim3 grid, uint32_t block, const KArgs& args, Stream s) = 0;

  // Stream capture into a replayable graph (CUDA graphs, HIP graphs). A
  // driver without it returns false and prepared subgraphs launch kernel by
  // kernel.
  virtual bool has_graphs() const = 0;
  virtual Status capture_begin(Stream s) = 0;
  virtual Status capture_end(Stream s, GraphExec* out) = 0;
  virtual Status graph_launch(GraphExec g, Stream s) = 0;
  virtual void graph_destroy(GraphExec g) = 0;

  // A vendor GEMM library; without one, matmul uses Tessera's own kernels.
  virtual bool has_gemm() const { return false; }
  virtual Status gemm(const GemmDesc& g, Stream s);
};

// Loads a vendor's driver. Returns nullptr with *note saying why there is no
// device (no library, no driver, no GPU): a message, never an error.
using DriverLoader = std::unique_ptr<Driver> (*)(std::string* note);

// Runs open (dlopen a vendor library, resolve its functions) once per
// process and gives every caller that result. The library is never closed:
// GPU drivers and runtimes keep process-wide state (contexts, threads) that
// does not survive being unloaded and loaded again (ROCm leaked on reload).
template <typename Fns>
bool load_once(bool (*open)(void** lib, Fns* fns, std::string* why), void** lib, Fns* fns, std::string* why) {
  struct Loaded {
    void* lib = nullptr;
    Fns fns{};
    std::string why;
    bool ok = false;
  };
  static const Loaded loaded = [open] {
    Loaded l;
    l.ok = open(&l.lib, &l.fns, &l.why);
    return l;
  }();
  if (!loaded.ok) {
    *why = loaded.why;
    return false;
  }
  *lib = loaded.lib;
  *fns = loaded.fns;
  return true;
}

}  // namespace tsr::gpu
