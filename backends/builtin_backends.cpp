#include "backends/builtin_backends.h"

#include "backends/cpu/cpu_backend.h"
#include "backends/null/null_backend.h"

namespace tsr {

std::vector<const tsr_backend_iface*> builtin_backends() {
  return {
      tsr_cpu_backend_iface(),
      tsr_null_backend_iface(),
  };
}

}  // namespace tsr
