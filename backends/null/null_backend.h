/* The null backend: one device that supports no op. It is the template a
 * vendor copies to start a backend, and the CI guard that catches core
 * changes breaking the backend ABI. */
#ifndef TESSERA_NULL_BACKEND_H
#define TESSERA_NULL_BACKEND_H

#include "tessera/tessera_backend.h"

#ifdef __cplusplus
extern "C" {
#endif

/* In-tree registration. The plugin build exports tsr_backend_entry instead. */
const tsr_backend_iface* tsr_null_backend_iface(void);

#ifdef __cplusplus
}
#endif

#endif
