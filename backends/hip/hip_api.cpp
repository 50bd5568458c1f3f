#include "backends/hip/hip_api.h"

#include <dlfcn.h>

namespace tsr::hip {

namespace {

// The runtime is opened once per process and never closed: ROCm's runtime
// keeps process-wide state (and threads) that do not survive being unloaded
// and loaded again, and reloading it per context leaked its allocations.
bool open_once(void** lib, RuntimeFns* fns, std::string* why);

}  // namespace

bool load_runtime(void** lib, RuntimeFns* fns, std::string* why) {
  static void* s_lib = nullptr;
  static RuntimeFns s_fns;
  static std::string s_why;
  static const bool s_ok = open_once(&s_lib, &s_fns, &s_why);
  if (!s_ok) {
    *why = s_why;
    return false;
  }
  *lib = s_lib;
  *fns = s_fns;
  return true;
}

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
}  // namespace tsr::hip
