// The HIP runtime functions the HIP backend calls, resolved with dlsym from
// libamdhip64.so.5 at run time, so libtessera neither links nor needs ROCm
// where there is no AMD GPU. Types come from the HIP headers the backend is
// built against (Debian's ROCm 5 libamdhip64-dev), hence the .so.5: the
// device properties struct changed layout in ROCm 6. Internal to backends/hip.
#pragma once

#include <hip/hip_runtime_api.h>

#include <string>

namespace tsr::hip {

#define TSR_HIP_FNS(X)        \
  X(hipInit)                  \
  X(hipDriverGetVersion)      \
  X(hipGetDeviceCount)        \
  X(hipSetDevice)             \
  X(hipDeviceSynchronize)     \
  X(hipDeviceGetName)         \
  X(hipDeviceGetAttribute)    \
  X(hipDeviceTotalMem)        \
  X(hipGetDeviceProperties)   \
  X(hipFree)                  \
  X(hipHostFree)              \
  X(hipMemcpyHtoDAsync)       \
  X(hipMemcpyDtoHAsync)       \
  X(hipMemcpyDtoDAsync)       \
  X(hipStreamCreateWithFlags) \
  X(hipStreamDestroy)         \
  X(hipStreamSynchronize)     \
  X(hipStreamQuery)           \
  X(hipEventCreate)           \
  X(hipEventDestroy)          \
  X(hipEventRecord)           \
  X(hipEventSynchronize)      \
  X(hipEventElapsedTime)      \
  X(hipModuleLoadData)        \
  X(hipModuleUnload)          \
  X(hipModuleGetFunction)     \
  X(hipModuleLaunchKernel)    \
  X(hipStreamBeginCapture)    \
  X(hipStreamEndCapture)      \
  X(hipGraphInstantiate)      \
  X(hipGraphLaunch)           \
  X(hipGraphExecDestroy)      \
  X(hipGraphDestroy)          \
  X(hipGetErrorName)          \
  X(hipGetErrorString)

struct RuntimeFns {
#define TSR_HIP_MEMBER(fn) decltype(&::fn) fn = nullptr;
  TSR_HIP_FNS(TSR_HIP_MEMBER)
#undef TSR_HIP_MEMBER
  // Overloaded in C++ by templates in the header: typed explicitly.
  hipError_t (*hipMalloc)(void**, size_t) = nullptr;
  hipError_t (*hipHostMalloc)(void**, size_t, unsigned int) = nullptr;
};

// Opens libamdhip64.so.5 (once per process; it stays loaded) and resolves
// every entry; false with *why.
bool load_runtime(void** lib, RuntimeFns* fns, std::string* why);

}  // namespace tsr::hip
