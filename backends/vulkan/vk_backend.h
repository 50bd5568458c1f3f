// The Vulkan backend: tsr_backend_iface over every Vulkan 1.1 physical device,
// with compute kernels in kernels/vulkan (GLSL compiled to embedded SPIR-V).
// Core registers it in-tree by calling tsr_vulkan_backend_iface(). The
// loader is opened at run time: without it the backend lists no devices.
//
// Environment:
//   TESSERA_VULKAN_VALIDATION=1   enable the Khronos validation layers; any
//                                 validation error fails the call that caused it
//   TESSERA_VULKAN_PROFILE=1      time every dispatch with timestamps and print
//                                 per-kernel totals when a prepared graph is released
//   TESSERA_VULKAN_PIPELINE_CACHE path of the pipeline cache file, or "off"
//                                 (default: ~/.cache/tessera/vulkan/<device>.bin)
//   TESSERA_VULKAN_DISABLE=1      list no devices
//   TESSERA_VULKAN_LOADER         loader library to open (default libvulkan.so.1)
#pragma once

#include "tessera/tessera_backend.h"

#ifdef __cplusplus
extern "C" {
#endif

// The backend table; static storage, never null.
const tsr_backend_iface* tsr_vulkan_backend_iface(void);

#ifdef __cplusplus
}
#endif
