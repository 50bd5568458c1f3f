// The HIP backend (AMD GPUs, Hygon DCUs): kernels/gpu compiled by hipcc, run
// through the HIP runtime opened at run time. Lists no device (with a note)
// where there is no ROCm runtime or GPU.
#pragma once

#include "tessera/tessera_backend.h"

const tsr_backend_iface* tsr_hip_backend_iface();
