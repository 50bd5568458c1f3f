// The OpenCL backend: tsr_backend_iface over every OpenCL 1.2+ device of
// every platform, with compute kernels in kernels/opencl (OpenCL C, embedded
// as source and built per device at prepare). Core registers it in-tree by
// calling tsr_opencl_backend_iface(). The ICD loader is opened at run time:
// without it the backend lists no devices and says why.
//
// Environment:
//   TESSERA_OPENCL_DISABLE=1     list no devices
//   TESSERA_OPENCL_LOADER        ICD loader to open (default libOpenCL.so.1)
//   TESSERA_OPENCL_CACHE         directory of the program binary cache, or
//                                "off" (default: ~/.cache/tessera/opencl)
//   TESSERA_OPENCL_BUILD_OPTIONS extra options for every program build
//                                (e.g. -cl-opt-disable to bisect a driver bug)
//   TESSERA_OPENCL_PROFILE=1     time every kernel with queue profiling and
//                                print per-kernel totals when a prepared
//                                graph is released
#pragma once

#include "tessera/tessera_backend.h"

#ifdef __cplusplus
extern "C" {
#endif

// The backend table; static storage, never null.
const tsr_backend_iface* tsr_opencl_backend_iface(void);

#ifdef __cplusplus
}
#endif
