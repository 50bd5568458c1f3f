// The test emulator's driver: host memory for device memory, copies as
// memcpy, launches run on the CPU through kernels/gpu/emu, and stream
// capture records launches for replay, so the GPU glue's graph path runs
// here too. Every stream operation completes before the call returns.
// TESSERA_GPUEMU_WARP=64 emulates wave64 (AMD CDNA); the default is 32.
// TESSERA_GPUEMU_SCHEDULE=reverse runs threads and blocks last to first
// (kernels/gpu/emu/emu_runtime.h: it exposes missing barriers).
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <vector>

#include "gpu/emu/emu_runtime.h"
#include "gpu/kernel_args.h"
#include "gpu_driver.h"

namespace tsr::gpu::emu_driver {
namespace {

struct Recorded {
  emu::KernelFn fn;
  uint32_t grid[3];
  uint32_t block;
  KArgs args;
};

struct EmuStream {
  bool capturing = false;
  std::vector<Recorded> captured;
};

struct EmuEvent {
  std::chrono::steady_clock::time_point t;
};

struct EmuGraph {
  std::vector<Recorded> launches;
};

class EmuDriver final : public Driver {
 public:
  EmuDriver(uint32_t warp, bool reverse) : warp_(warp), reverse_(reverse) {}
  int device_count() const override { return 1; }

  Status device_info(int, DeviceInfo* out) override {
    out->name = fmt::format("Tessera kernel emulator (warp {}{})", warp_, reverse_ ? ", reverse order" : "");
    out->arch = "emulated";
    out->driver = "kernels/gpu/emu";
    out->warp_size = static_cast<int>(warp_);
    out->compute_units = 1;
    out->details = "emulator: kernels/gpu sources run on the CPU for testing, not for speed\n";
    return Status::ok();
  }
  Status bind(int) override { return Status::ok(); }

  Status mem_alloc(uint64_t size, DevPtr* out) override {
    void* p = std::aligned_alloc(256, (size + 255) / 256 * 256);
    if (!p) return make_error(TSR_ERR_OUT_OF_MEMORY, "[gpuemu] out of host memory for {} bytes", size);
    std::memset(p, 0xcd, size);  // garbage, as device memory is, so unwritten reads show
    *out = reinterpret_cast<DevPtr>(p);
    return Status::ok();
  }
  void mem_free(DevPtr p) override { std::free(reinterpret_cast<void*>(p)); }
  Status host_alloc(uint64_t size, void** out) override {
    *out = std::malloc(size);
    return *out ? Status::ok() : make_error(TSR_ERR_OUT_OF_MEMORY, "[gpuemu] host_alloc {} bytes", size);
  }
  void host_free(void* p) override { std::free(p); }

  Status sync() override { return Status::ok(); }  // every operation completed in its call

  Status stream_create(Stream* out) override {
    *out = new EmuStream;
    return Status::ok();
  }
  void stream_destroy(Stream s) override { delete static_cast<EmuStream*>(s); }
  Status stream_sync(Stream) override { return Status::ok(); }
  Status copy_h2d(DevPtr dst, const void* src, uint64_t n, Stream s) override {
    TSR_RETURN_IF_ERROR(not_capturing(s, "copy_h2d"));
    std::memcpy(reinterpret_cast<void*>(dst), src, n);
    return Status::ok();
  }
  Status copy_d2h(void* dst, DevPtr src, uint64_t n, Stream s) override {
    TSR_RETURN_IF_ERROR(not_capturing(s, "copy_d2h"));
    std::memcpy(dst, reinterpret_cast<const void*>(src), n);
    return Status::ok();
  }
  Status copy_d2d(DevPtr dst, DevPtr src, uint64_t n, Stream s) override {
    TSR_RETURN_IF_ERROR(not_capturing(s, "copy_d2d"));
    std::memmove(reinterpret_cast<void*>(dst), reinterpret_cast<const void*>(src), n);
    return Status::ok();
  }

  Status event_create(Event* out) override {
    *out = new EmuEvent;
    return Status::ok();
  }
  void event_destroy(Event e) override { delete static_cast<EmuEvent*>(e); }
  Status event_record(Event e, Stream) override {
    static_cast<EmuEvent*>(e)->t = std::chrono::steady_clock::now();
    return Status::ok();
  }
  Status event_sync(Event) override { return Status::ok(); }
  Status event_elapsed_ms(Event a, Event b, float* out) override {
    *out =
        std::chrono::duration<float, std::milli>(static_cast<EmuEvent*>(b)->t - static_cast<EmuEvent*>(a)->t)
            .count();
    return Status::ok();
  }

  Status load_kernels() override { return Status::ok(); }
  Status function(const char* name, Function* out) override {
    emu::KernelFn fn = emu::find_kernel(name);
    if (!fn)
      return make_error(TSR_ERR_INTERNAL, "[gpuemu] kernel {} is not compiled into the emulator", name);
    *out = reinterpret_cast<Function>(fn);
    return Status::ok();
  }
  Status launch(Function f, Dim3 grid, uint32_t block, const KArgs& args, Stream s) override {
    Recorded r{reinterpret_cast<emu::KernelFn>(f), {grid.x, grid.y, grid.z}, block, args};
    auto* st = static_cast<EmuStream*>(s);
    if (st->capturing) {
      st->captured.push_back(r);
      return Status::ok();
    }
    return run(r);
  }

  bool has_graphs() const override { return true; }
  Status capture_begin(Stream s) override {
    auto* st = static_cast<EmuStream*>(s);
    st->capturing = true;
    st->captured.clear();
    return Status::ok();
  }
  Status capture_end(Stream s, GraphExec* out) override {
    auto* st = static_cast<EmuStream*>(s);
    st->capturing = false;
    *out = new EmuGraph{std::move(st->captured)};
    st->captured.clear();
    return Status::ok();
  }
  Status graph_launch(GraphExec g, Stream s) override {
    TSR_RETURN_IF_ERROR(not_capturing(s, "graph_launch"));
    for (const Recorded& r : static_cast<EmuGraph*>(g)->launches) TSR_RETURN_IF_ERROR(run(r));
    return Status::ok();
  }
  void graph_destroy(GraphExec g) override { delete static_cast<EmuGraph*>(g); }

 private:
  // Only launches may be captured (as on CUDA, where a synchronous copy
  // breaks a capture): the glue must keep copies out of graphs.
  static Status not_capturing(Stream s, const char* what) {
    if (s && static_cast<EmuStream*>(s)->capturing)
      return make_error(TSR_ERR_INTERNAL, "[gpuemu] {} issued on a stream being captured", what);
    return Status::ok();
  }
  Status run(const Recorded& r) const {
    std::string error;
    if (!emu::launch(r.fn, r.grid, r.block, warp_, r.args, &error, reverse_))
      return make_error(TSR_ERR_DEVICE, "[gpuemu] {}", error);
    return Status::ok();
  }
  uint32_t warp_;
  bool reverse_;
};

}  // namespace

std::unique_ptr<Driver> load(std::string* note) {
  const char* w = std::getenv("TESSERA_GPUEMU_WARP");
  const uint32_t warp = w && std::strcmp(w, "64") == 0 ? 64 : 32;
  if (w && std::strcmp(w, "64") != 0 && std::strcmp(w, "32") != 0) {
    *note = std::string("TESSERA_GPUEMU_WARP must be 32 or 64, not ") + w;
    return nullptr;
  }
  const char* order = std::getenv("TESSERA_GPUEMU_SCHEDULE");
  const bool reverse = order && std::strcmp(order, "reverse") == 0;
  if (order && !reverse && std::strcmp(order, "forward") != 0) {
    *note = std::string("TESSERA_GPUEMU_SCHEDULE must be forward or reverse, not ") + order;
    return nullptr;
  }
  return std::make_unique<EmuDriver>(warp, reverse);
}

}  // namespace tsr::gpu::emu_driver
