// Device collectives for the GPU backends (tessera_comm.h, device memory):
// NCCL for CUDA and RCCL for HIP, one API, opened at run time like the
// drivers. Internal to backends/gpu.
#pragma once

#include "tessera/tessera_backend.h"

namespace tsr::gpu {

// tsr_backend_iface::device_comm of the GPU backends: the table for the
// instance's vendor, or null when its library is missing (or the emulator,
// or TESSERA_GPU_COLLECTIVES=0).
const tsr_comm_iface* device_comm(tsr_bk_instance instance);

}  // namespace tsr::gpu
