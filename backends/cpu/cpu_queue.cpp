// Queues are synchronous: every call has finished when it returns, so finish,
// record and wait have nothing to wait for.
#include "cpu_internal.h"

namespace tsr::cpu {

tsr_status_code queue_create(tsr_bk_device device, tsr_bk_queue* out_queue, tsr_error* err) {
  return guarded("queue_create", err, [&]() -> Status {
    if (!device || !out_queue) return invalid_arg("[queue_create] null argument");
    *out_queue = new tsr_bk_queue_s{device};
    return Status::ok();
  });
}

void queue_destroy(tsr_bk_queue queue) { delete queue; }

tsr_status_code queue_finish(tsr_bk_queue queue, tsr_error* err) {
  if (!queue) {
    set_error(err, "[queue_finish] null queue");
    return TSR_ERR_INVALID_ARGUMENT;
  }
  return TSR_OK;
}

tsr_status_code event_create(tsr_bk_device device, tsr_bk_event* out_event, tsr_error* err) {
  return guarded("event_create", err, [&]() -> Status {
    if (!device || !out_event) return invalid_arg("[event_create] null argument");
    *out_event = new tsr_bk_event_s{device};
    return Status::ok();
  });
}

void event_destroy(tsr_bk_event event) { delete event; }

tsr_status_code event_record(tsr_bk_queue queue, tsr_bk_event event, tsr_error* err) {
  if (!queue || !event) {
    set_error(err, "[event_record] null argument");
    return TSR_ERR_INVALID_ARGUMENT;
  }
  return TSR_OK;
}

tsr_status_code event_wait(tsr_bk_event event, tsr_error* err) {
  if (!event) {
    set_error(err, "[event_wait] null event");
    return TSR_ERR_INVALID_ARGUMENT;
  }
  return TSR_OK;
}

}  // namespace tsr::cpu
