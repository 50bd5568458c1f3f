#include "cuda_backend.h"

#include <string>

#include "gpu_backend.h"

namespace tsr::cuda {
std::unique_ptr<gpu::Driver> load(std::string* note);  // cuda_driver.cpp

namespace {

tsr_status_code create(const tsr_backend_options*, tsr_bk_instance* out_instance, tsr_error* err) {
  return gpu::create_instance("cuda", load, out_instance, err);
}

}  // namespace
}  // namespace tsr::cuda

const tsr_backend_iface* tsr_cuda_backend_iface() {
  static const tsr_backend_iface iface = tsr::gpu::make_iface("cuda", tsr::cuda::create);
  return &iface;
}
