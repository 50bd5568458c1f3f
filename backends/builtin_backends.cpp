#include "backends/builtin_backends.h"

#include "backends/cpu/cpu_backend.h"
#include "backends/null/null_backend.h"
#if defined(TESSERA_WITH_VULKAN)
#include "backends/vulkan/vk_backend.h"
#endif

namespace tsr {

std::vector<const tsr_backend_iface*> builtin_backends() {
  return {
    tsr_cpu_backend_iface(), tsr_null_backend_iface(),
#if defined(TESSERA_WITH_VULKAN)
        tsr_vulkan_backend_iface(),
#endif
  };
}

}  // namespace tsr
