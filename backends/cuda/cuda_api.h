// The CUDA driver API functions the CUDA backend calls, resolved with dlsym
// from libcuda.so.1 at run time, so libtessera neither links nor needs the
// driver where there is no NVIDIA GPU. Types and versioned names (cuMemAlloc
// is cuMemAlloc_v2) come from the toolkit's cuda.h. Internal to backends/cuda.
#pragma once

#include <cuda.h>

#include <string>

namespace tsr::cuda {

// X(function): every entry the backend needs.
#define TSR_CUDA_DRIVER_FNS(X)   \
  X(cuInit)                      \
  X(cuDriverGetVersion)          \
  X(cuDeviceGetCount)            \
  X(cuDeviceGet)                 \
  X(cuDeviceGetName)             \
  X(cuDeviceGetAttribute)        \
  X(cuDeviceTotalMem)            \
  X(cuDevicePrimaryCtxRetain)    \
  X(cuDevicePrimaryCtxRelease)   \
  X(cuCtxSetCurrent)             \
  X(cuCtxSynchronize)            \
  X(cuMemAlloc)                  \
  X(cuMemFree)                   \
  X(cuMemAllocHost)              \
  X(cuMemFreeHost)               \
  X(cuMemcpyHtoDAsync)           \
  X(cuMemcpyDtoHAsync)           \
  X(cuMemcpyDtoDAsync)           \
  X(cuStreamCreate)              \
  X(cuStreamDestroy)             \
  X(cuStreamSynchronize)         \
  X(cuStreamQuery)               \
  X(cuEventCreate)               \
  X(cuEventDestroy)              \
  X(cuEventRecord)               \
  X(cuEventSynchronize)          \
  X(cuModuleLoadData)            \
  X(cuModuleUnload)              \
  X(cuModuleGetFunction)         \
  X(cuLaunchKernel)              \
  X(cuStreamBeginCapture)        \
  X(cuStreamEndCapture)          \
  X(cuGraphInstantiateWithFlags) \
  X(cuGraphLaunch)               \
  X(cuGraphExecDestroy)          \
  X(cuGraphDestroy)              \
  X(cuGetErrorName)              \
  X(cuGetErrorString)

struct DriverFns {
#define TSR_CUDA_MEMBER(fn) decltype(&::fn) fn = nullptr;
  TSR_CUDA_DRIVER_FNS(TSR_CUDA_MEMBER)
#undef TSR_CUDA_MEMBER
  // cuEventElapsedTime became cuEventElapsedTime_v2 in CUDA 12.8 with the
  // same signature; either is taken.
  CUresult (*cuEventElapsedTime)(float*, CUevent, CUevent) = nullptr;
};

// Opens libcuda.so.1 (once per process; it stays loaded) and resolves every
// entry. False with *why when the library or an entry is missing.
bool load_driver(void** lib, DriverFns* fns, std::string* why);

}  // namespace tsr::cuda
