// What a GPU vendor backend (backends/cuda, backends/hip, the emulator)
// builds its tsr_backend_iface from: everything but loading the vendor's
// driver is shared.
#pragma once

#include "gpu_driver.h"
#include "tessera/tessera_backend.h"

namespace tsr::gpu {

// An instance over the driver that load() returns; with none, an instance
// that lists no device and says why (instance_note).
tsr_status_code create_instance(const char* backend, DriverLoader load, tsr_bk_instance* out_instance,
                                tsr_error* err);

// The backend table named `name` whose create is `create` (which calls
// create_instance with the vendor's loader).
tsr_backend_iface make_iface(const char* name, tsr_status_code (*create)(const tsr_backend_options*,
                                                                         tsr_bk_instance*, tsr_error*));

}  // namespace tsr::gpu
