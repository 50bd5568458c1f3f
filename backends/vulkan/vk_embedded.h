// SPIR-V kernels embedded at build time (kernels/vulkan, cmake/EmbedSpirv.cmake).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace tsr::vk {

struct EmbeddedKernel {
  const char* name;
  const uint32_t* words;
  size_t bytes;
};

std::span<const EmbeddedKernel> embedded_kernels();

}  // namespace tsr::vk
