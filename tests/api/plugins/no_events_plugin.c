/* The null backend's table with its event entries left null (or, built with
 * TSR_HALF_EVENTS, only two of them): events are optional as a group, so the
 * first must load and the second be refused naming the event entries. */
#define TSR_NULL_BACKEND_NAME TSR_TEST_BACKEND_NAME
#include "../../../backends/null/null_backend.c"

TSR_BACKEND_EXPORT tsr_status_code tsr_backend_entry(uint32_t host_abi_version, const tsr_backend_iface** out,
                                                     tsr_error* err) {
  (void)host_abi_version;
  (void)err;
  static tsr_backend_iface iface;
  iface = kNullIface;
  iface.event_create = NULL;
  iface.event_destroy = NULL;
#ifndef TSR_HALF_EVENTS
  iface.event_record = NULL;
  iface.event_wait = NULL;
#endif
  *out = &iface;
  return TSR_OK;
}
