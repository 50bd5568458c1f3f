/* A plugin of the right ABI version whose table leaves its required entries
 * null: core must refuse it naming the first missing entry. */
#include "tessera/tessera_backend.h"

static const tsr_backend_iface kIface = {
    .struct_size = sizeof(tsr_backend_iface),
    .abi_version = TSR_BACKEND_ABI_VERSION,
    .name = "holey",
};

TSR_BACKEND_EXPORT tsr_status_code tsr_backend_entry(uint32_t host_abi_version, const tsr_backend_iface** out,
                                                     tsr_error* err) {
  (void)host_abi_version;
  (void)err;
  *out = &kIface;
  return TSR_OK;
}
