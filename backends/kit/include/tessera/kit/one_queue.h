// The queue and event entries of a backend whose device runs everything on
// one in-order queue (Vulkan and OpenCL here): a queue and an event are only
// the device, recording an event is free, and finishing a queue or waiting
// for an event both wait for everything submitted so far.
//
// The backend's types, in the namespace where the macro stands:
//   struct Device { std::unique_ptr<State> d; };
//   struct Queue { State* dev = nullptr; };
//   struct Event { State* dev = nullptr; };
//   Status wait_all(State& s);  // everything submitted on s has finished
#pragma once

#include "tessera/kit/abi_guard.h"
#include "tessera/kit/status.h"

#define TSR_KIT_ONE_QUEUE_ENTRIES()                                                             \
  tsr_status_code queue_create(tsr_bk_device device, tsr_bk_queue* out_queue, tsr_error* err) { \
    return ::tsr::guarded("queue_create", err, [&]() -> ::tsr::Status {                         \
      if (!device || !out_queue) return ::tsr::invalid_arg("[queue_create] null argument");     \
      *out_queue = handle(new Queue{impl(device)->d.get()});                                    \
      return ::tsr::Status::ok();                                                               \
    });                                                                                         \
  }                                                                                             \
  void queue_destroy(tsr_bk_queue queue) { delete impl(queue); }                                \
  tsr_status_code queue_finish(tsr_bk_queue queue, tsr_error* err) {                            \
    return ::tsr::guarded("queue_finish", err, [&]() -> ::tsr::Status {                         \
      if (!queue) return ::tsr::invalid_arg("[queue_finish] null queue");                       \
      return wait_all(*impl(queue)->dev);                                                       \
    });                                                                                         \
  }                                                                                             \
  tsr_status_code event_create(tsr_bk_device device, tsr_bk_event* out_event, tsr_error* err) { \
    return ::tsr::guarded("event_create", err, [&]() -> ::tsr::Status {                         \
      if (!device || !out_event) return ::tsr::invalid_arg("[event_create] null argument");     \
      *out_event = handle(new Event{impl(device)->d.get()});                                    \
      return ::tsr::Status::ok();                                                               \
    });                                                                                         \
  }                                                                                             \
  void event_destroy(tsr_bk_event event) { delete impl(event); }                                \
  tsr_status_code event_record(tsr_bk_queue queue, tsr_bk_event event, tsr_error* err) {        \
    return ::tsr::guarded("event_record", err, [&]() -> ::tsr::Status {                         \
      if (!queue || !event) return ::tsr::invalid_arg("[event_record] null argument");          \
      return ::tsr::Status::ok();                                                               \
    });                                                                                         \
  }                                                                                             \
  tsr_status_code event_wait(tsr_bk_event event, tsr_error* err) {                              \
    return ::tsr::guarded("event_wait", err, [&]() -> ::tsr::Status {                           \
      if (!event) return ::tsr::invalid_arg("[event_wait] null event");                         \
      return wait_all(*impl(event)->dev);                                                       \
    });                                                                                         \
  }
