#include "backends/builtin_backends.h"

#include "backends/cpu/cpu_backend.h"
#include "backends/null/null_backend.h"
#if defined(TESSERA_WITH_VULKAN)
#include "backends/vulkan/vk_backend.h"
#endif
#if defined(TESSERA_WITH_OPENCL)
#include "backends/opencl/cl_backend.h"
#endif
#if defined(TESSERA_WITH_CUDA)
#include "backends/cuda/cuda_backend.h"
#endif
#if defined(TESSERA_WITH_HIP)
#include "backends/hip/hip_backend.h"
#endif

namespace tsr {

std::vector<const tsr_backend_iface*> builtin_backends() {
  return {
    tsr_cpu_backend_iface(), tsr_null_backend_iface(),
#if defined(TESSERA_WITH_VULKAN)
        tsr_vulkan_backend_iface(),
#endif
#if defined(TESSERA_WITH_OPENCL)
        tsr_opencl_backend_iface(),
#endif
#if defined(TESSERA_WITH_CUDA)
        tsr_cuda_backend_iface(),
#endif
#if defined(TESSERA_WITH_HIP)
        tsr_hip_backend_iface(),
#endif
  };
}

}  // namespace tsr
