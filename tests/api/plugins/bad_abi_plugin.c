/* A plugin built for another backend ABI version: core must refuse it. */
#include "tessera/tessera_backend.h"

static const tsr_backend_iface kIface = {
    .struct_size = sizeof(tsr_backend_iface),
    .abi_version = 999,
    .name = "future",
};

TSR_BACKEND_EXPORT tsr_status_code tsr_backend_entry(uint32_t host_abi_version, const tsr_backend_iface** out,
                                                     tsr_error* err) {
  *out = &kIface;
  return TSR_OK;
}
