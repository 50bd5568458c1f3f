// The backends compiled into this build, in registration order. Adding a
// backend to the tree adds one line here and one CMake option.
#pragma once

#include <vector>

#include "tessera/tessera_backend.h"

namespace tsr {
std::vector<const tsr_backend_iface*> builtin_backends();
}
