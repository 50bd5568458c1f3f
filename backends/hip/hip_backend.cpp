#include "hip_backend.h"

#include <string>

#include "gpu_backend.h"

namespace tsr::hip {
std::unique_ptr<gpu::Driver> load(std::string* note);  // hip_driver.cpp

namespace {

tsr_status_code create(const tsr_backend_options*, tsr_bk_instance* out_instance, tsr_error* err) {
  return gpu::create_instance("hip", load, out_instance, err);
}

}  // namespace
}  // namespace tsr::hip

const tsr_backend_iface* tsr_hip_backend_iface() {
  static const tsr_backend_iface iface = tsr::gpu::make_iface("hip", tsr::hip::create);
  return &iface;
}
