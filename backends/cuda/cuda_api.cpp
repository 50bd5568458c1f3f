#include "cuda_api.h"

#include <dlfcn.h>

#include "gpu_driver.h"

namespace tsr::cuda {

#define TSR_STR2(x) #x
#define TSR_STR(x) TSR_STR2(x)  // expands cuMemAlloc to "cuMemAlloc_v2" first

namespace {

bool open_once(void** lib, DriverFns* fns, std::string* why) {
  void* h = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    const char* e = dlerror();
    *why = std::string("no NVIDIA driver: libcuda.so.1 not found (") + (e ? e : "dlopen failed") + ")";
    return false;
  }
  DriverFns f;
  std::string missing;
#define TSR_CUDA_LOAD(fn)                                         \
  f.fn = reinterpret_cast<decltype(f.fn)>(dlsym(h, TSR_STR(fn))); \
  if (!f.fn) missing += std::string(missing.empty() ? "" : ", ") + TSR_STR(fn);
  TSR_CUDA_DRIVER_FNS(TSR_CUDA_LOAD)
#undef TSR_CUDA_LOAD
  f.cuEventElapsedTime = reinterpret_cast<decltype(f.cuEventElapsedTime)>(dlsym(h, "cuEventElapsedTime_v2"));
  if (!f.cuEventElapsedTime)
    f.cuEventElapsedTime = reinterpret_cast<decltype(f.cuEventElapsedTime)>(dlsym(h, "cuEventElapsedTime"));
  if (!f.cuEventElapsedTime) missing += std::string(missing.empty() ? "" : ", ") + "cuEventElapsedTime";
  if (!missing.empty()) {
    *why = "the NVIDIA driver's libcuda.so.1 lacks " + missing + " (driver older than CUDA 11.4?)";
    dlclose(h);
    return false;
  }
  *lib = h;
  *fns = f;
  return true;
}

}  // namespace

bool load_driver(void** lib, DriverFns* fns, std::string* why) {
  return gpu::load_once(open_once, lib, fns, why);
}

}  // namespace tsr::cuda
