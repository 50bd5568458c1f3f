// The CUDA backend: kernels/gpu compiled by nvcc, run through the CUDA driver
// API opened at run time. Lists no device (with a note) where there is no
// NVIDIA driver or GPU.
#pragma once

#include "tessera/tessera_backend.h"

const tsr_backend_iface* tsr_cuda_backend_iface();
