// The CPU backend: tsr_backend_iface over host memory, with kernels in
// kernels/cpu (oneDNN for f32 GEMM when built with it). Core registers it
// in-tree by calling tsr_cpu_backend_iface(); nothing else here is public.
//
//   const tsr_backend_iface* cpu = tsr_cpu_backend_iface();
//   tsr_bk_instance inst; tsr_error err;
//   if (cpu->create(nullptr, &inst, &err) != TSR_OK) { /* err.message */ }
#pragma once

#include "tessera/tessera_backend.h"

#ifdef __cplusplus
extern "C" {
#endif

// The backend table; static storage, never null.
const tsr_backend_iface* tsr_cpu_backend_iface(void);

#ifdef __cplusplus
}
#endif
