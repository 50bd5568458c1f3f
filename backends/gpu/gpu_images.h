// GPU kernel images embedded at build time (kernels/gpu compiled by nvcc or
// hipcc, cmake/EmbedBinary.cmake): one per kernel source file.
#pragma once

#include <cstddef>
#include <span>

namespace tsr::gpu {

struct KernelImage {
  const char* name;  // the kernel source's stem: "elementwise"
  const unsigned char* data;
  size_t size;
};

}  // namespace tsr::gpu
