#include "hip_api.h"

#include <dlfcn.h>

#include "gpu_driver.h"

namespace tsr::hip {

namespace {

bool open_once(void** lib, RuntimeFns* fns, std::string* why) {
  void* h = dlopen("libamdhip64.so.5", RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    const char* e = dlerror();
    *why =
        std::string("no ROCm 5 HIP runtime: libamdhip64.so.5 not found (") + (e ? e : "dlopen failed") + ")";
    return false;
  }
  RuntimeFns f;
  std::string missing;
  auto add_missing = [&](const char* name) { missing += std::string(missing.empty() ? "" : ", ") + name; };
#define TSR_HIP_LOAD(fn)                                  \
  f.fn = reinterpret_cast<decltype(f.fn)>(dlsym(h, #fn)); \
  if (!f.fn) add_missing(#fn);
  TSR_HIP_FNS(TSR_HIP_LOAD)
  TSR_HIP_LOAD(hipMalloc)
  TSR_HIP_LOAD(hipHostMalloc)
#undef TSR_HIP_LOAD
  if (!missing.empty()) {
    *why = "libamdhip64.so.5 lacks " + missing;
    dlclose(h);
    return false;
  }
  *lib = h;
  *fns = f;
  return true;
}

}  // namespace

bool load_runtime(void** lib, RuntimeFns* fns, std::string* why) {
  return gpu::load_once(open_once, lib, fns, why);
}

}  // namespace tsr::hip
