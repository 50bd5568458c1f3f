// The kernel emulator as a backend plugin ("gpuemu"), loaded by tests and by
// `tessera-conformance --plugin libtessera_gpuemu.so --device gpuemu`, so
// the CUDA/HIP kernel sources and the shared GPU glue run in CI.
#include <string>

#include "gpu_backend.h"
#include "tessera/kit/abi_guard.h"

namespace tsr::gpu::emu_driver {
std::unique_ptr<Driver> load(std::string* note);
}
namespace tsr::gpu::emu_comm {
const tsr_comm_iface* device_comm(tsr_bk_instance instance);  // emu_comm.cpp
}

namespace {

tsr_status_code create(const tsr_backend_options*, tsr_bk_instance* out_instance, tsr_error* err) {
  return tsr::gpu::create_instance("gpuemu", tsr::gpu::emu_driver::load, out_instance, err);
}

}  // namespace

extern "C" TSR_BACKEND_EXPORT tsr_status_code tsr_backend_entry(uint32_t host_abi_version,
                                                                const tsr_backend_iface** out_iface,
                                                                tsr_error* err) {
  static const tsr_backend_iface iface = [] {
    tsr_backend_iface t = tsr::gpu::make_iface("gpuemu", create);
    t.device_comm = tsr::gpu::emu_comm::device_comm;  // tests only: see emu_comm.cpp
    return t;
  }();
  if (host_abi_version != TSR_BACKEND_ABI_VERSION) {
    if (err)
      tsr::set_error(err, "[tsr_backend_entry] gpuemu was built for backend ABI " +
                              std::to_string(TSR_BACKEND_ABI_VERSION) + ", host has " +
                              std::to_string(host_abi_version));
    return TSR_ERR_ABI_MISMATCH;
  }
  *out_iface = &iface;
  return TSR_OK;
}
