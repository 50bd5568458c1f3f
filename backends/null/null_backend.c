/* The null backend, written in plain C against tessera_backend.h only, as a
 * vendor's backend would be. Copy this folder to start a backend:
 *   1. rename the backend (TSR_NULL_BACKEND_NAME) and the tsr_null_ prefix;
 *   2. replace the device list with your hardware's;
 *   3. implement buffers on your device memory and queues on your streams;
 *   4. answer supports_op honestly and implement prepare/execute;
 *   5. run `tessera-conformance --plugin libyours.so` until every cell passes.
 * Built in-tree it registers as "null"; built as a plugin (TSR_NULL_PLUGIN)
 * it exports tsr_backend_entry and registers as "null_plugin", so both can
 * be loaded into one process. */
#include "null_backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef TSR_NULL_BACKEND_NAME
#define TSR_NULL_BACKEND_NAME "null"
#endif

/* Handles are pointers to these structs, which stay private to the backend. */
struct tsr_bk_instance_s {
  int32_t n_devices;
};
struct tsr_bk_device_s {
  int32_t index;
};
struct tsr_bk_buffer_s {
  void* data;
  uint64_t size;
  int owned; /* 0 for wrapped host memory */
};
struct tsr_bk_queue_s {
  int unused;
};
struct tsr_bk_event_s {
  int unused;
};
struct tsr_bk_prepared_s {
  int unused;
};

static tsr_status_code fail(tsr_error* err, tsr_status_code code, const char* msg) {
  if (err) snprintf(err->message, sizeof(err->message), "%s", msg);
  return code;
}

static tsr_status_code null_create(const tsr_backend_options* options, tsr_bk_instance* out, tsr_error* err) {
  struct tsr_bk_instance_s* inst = calloc(1, sizeof(*inst));
  if (!inst) return fail(err, TSR_ERR_OUT_OF_MEMORY, "[null] out of host memory");
  inst->n_devices = 1;
  *out = inst;
  return TSR_OK;
}

static void null_destroy(tsr_bk_instance inst) { free(inst); }

static int32_t null_device_count(tsr_bk_instance inst) { return inst ? inst->n_devices : 0; }

static tsr_status_code null_device_open(tsr_bk_instance inst, int32_t index, tsr_bk_device* out,
                                        tsr_error* err) {
  if (index < 0 || index >= inst->n_devices) {
    char msg[128];
    snprintf(msg, sizeof(msg), "[device_open] null device index %d out of range [0, %d)", index,
             inst->n_devices);
    return fail(err, TSR_ERR_NOT_FOUND, msg);
  }
  struct tsr_bk_device_s* d = calloc(1, sizeof(*d));
  if (!d) return fail(err, TSR_ERR_OUT_OF_MEMORY, "[device_open] out of host memory");
  d->index = index;
  *out = d;
  return TSR_OK;
}

static void null_device_close(tsr_bk_device d) { free(d); }

static tsr_status_code null_device_props(tsr_bk_device d, tsr_device_props* p, tsr_error* err) {
  /* Write only the fields the caller's struct has room for. */
  tsr_device_props props;
  memset(&props, 0, sizeof(props));
  props.struct_size = sizeof(props);
  snprintf(props.name, sizeof(props.name), "Null device %d", d->index);
  snprintf(props.vendor, sizeof(props.vendor), "Tessera");
  snprintf(props.driver, sizeof(props.driver), "null backend (ABI %u)", TSR_BACKEND_ABI_VERSION);
  props.type = TSR_DEVICE_TYPE_TEST;
  props.host_visible = 1;
  const uint32_t n = p->struct_size < sizeof(props) ? p->struct_size : (uint32_t)sizeof(props);
  memcpy(p, &props, n);
  p->struct_size = n;
  return TSR_OK;
}

/* Buffers live in host memory so core's copies work; nothing computes on them. */
static tsr_status_code null_buffer_alloc(tsr_bk_device d, uint64_t size, uint32_t flags, tsr_bk_buffer* out,
                                         tsr_error* err) {
  struct tsr_bk_buffer_s* b = calloc(1, sizeof(*b));
  if (!b) return fail(err, TSR_ERR_OUT_OF_MEMORY, "[buffer_alloc] out of host memory");
  b->data = size ? calloc(1, (size_t)size) : NULL;
  if (size && !b->data) {
    free(b);
    char msg[128];
    snprintf(msg, sizeof(msg), "[buffer_alloc] cannot allocate %llu bytes", (unsigned long long)size);
    return fail(err, TSR_ERR_OUT_OF_MEMORY, msg);
  }
  b->size = size;
  b->owned = 1;
  *out = b;
  return TSR_OK;
}

static void null_buffer_free(tsr_bk_buffer b) {
  if (!b) return;
  if (b->owned) free(b->data);
  free(b);
}

static void* null_buffer_host_ptr(tsr_bk_buffer b) { return b->data; }

static tsr_status_code check_range(tsr_bk_buffer b, uint64_t off, uint64_t size, const char* op,
                                   tsr_error* err) {
  if (off > b->size || size > b->size - off) {
    char msg[160];
    snprintf(msg, sizeof(msg), "[%s] range [%llu, +%llu) outside buffer of %llu bytes", op,
             (unsigned long long)off, (unsigned long long)size, (unsigned long long)b->size);
    return fail(err, TSR_ERR_INVALID_ARGUMENT, msg);
  }
  return TSR_OK;
}

static tsr_status_code null_buffer_write(tsr_bk_queue q, tsr_bk_buffer b, uint64_t off, const void* src,
                                         uint64_t size, tsr_error* err) {
  tsr_status_code rc = check_range(b, off, size, "buffer_write", err);
  if (rc == TSR_OK && size) memcpy((char*)b->data + off, src, (size_t)size);
  return rc;
}

static tsr_status_code null_buffer_read(tsr_bk_queue q, tsr_bk_buffer b, uint64_t off, void* dst,
                                        uint64_t size, tsr_error* err) {
  tsr_status_code rc = check_range(b, off, size, "buffer_read", err);
  if (rc == TSR_OK && size) memcpy(dst, (const char*)b->data + off, (size_t)size);
  return rc;
}

static tsr_status_code null_buffer_wrap_host(tsr_bk_device d, void* host, uint64_t size, tsr_bk_buffer* out,
                                             tsr_error* err) {
  struct tsr_bk_buffer_s* b = calloc(1, sizeof(*b));
  if (!b) return fail(err, TSR_ERR_OUT_OF_MEMORY, "[buffer_wrap_host] out of host memory");
  b->data = host;
  b->size = size;
  b->owned = 0;
  *out = b;
  return TSR_OK;
}

/* Work is synchronous, so queues and events have nothing to wait for. */
static tsr_status_code null_queue_create(tsr_bk_device d, tsr_bk_queue* out, tsr_error* err) {
  struct tsr_bk_queue_s* q = calloc(1, sizeof(*q));
  if (!q) return fail(err, TSR_ERR_OUT_OF_MEMORY, "[queue_create] out of host memory");
  *out = q;
  return TSR_OK;
}
static void null_queue_destroy(tsr_bk_queue q) { free(q); }
static tsr_status_code null_queue_finish(tsr_bk_queue q, tsr_error* err) { return TSR_OK; }
static tsr_status_code null_event_create(tsr_bk_device d, tsr_bk_event* out, tsr_error* err) {
  struct tsr_bk_event_s* e = calloc(1, sizeof(*e));
  if (!e) return fail(err, TSR_ERR_OUT_OF_MEMORY, "[event_create] out of host memory");
  *out = e;
  return TSR_OK;
}
static void null_event_destroy(tsr_bk_event e) { free(e); }
static tsr_status_code null_event_record(tsr_bk_queue q, tsr_bk_event e, tsr_error* err) { return TSR_OK; }
static tsr_status_code null_event_wait(tsr_bk_event e, tsr_error* err) { return TSR_OK; }

static int32_t null_supports_op(tsr_bk_device d, const tsr_node_desc* node, char* reason, size_t reason_len) {
  if (reason && reason_len) snprintf(reason, reason_len, "the null backend runs no ops");
  return 0;
}

static tsr_status_code null_prepare(tsr_bk_device d, const tsr_subgraph* g, tsr_bk_prepared* out,
                                    tsr_error* err) {
  if (g->n_nodes > 0) return fail(err, TSR_ERR_UNSUPPORTED, "[prepare] the null backend runs no ops");
  struct tsr_bk_prepared_s* p = calloc(1, sizeof(*p));
  if (!p) return fail(err, TSR_ERR_OUT_OF_MEMORY, "[prepare] out of host memory");
  *out = p;
  return TSR_OK;
}

static tsr_status_code null_execute(tsr_bk_prepared p, tsr_bk_queue q, const tsr_step_params* params,
                                    tsr_error* err) {
  return TSR_OK;
}

static void null_release_prepared(tsr_bk_prepared p) { free(p); }

static const tsr_backend_iface kNullIface = {
    .struct_size = sizeof(tsr_backend_iface),
    .abi_version = TSR_BACKEND_ABI_VERSION,
    .name = TSR_NULL_BACKEND_NAME,
    .create = null_create,
    .destroy = null_destroy,
    .device_count = null_device_count,
    .device_open = null_device_open,
    .device_close = null_device_close,
    .device_props = null_device_props,
    .buffer_alloc = null_buffer_alloc,
    .buffer_free = null_buffer_free,
    .buffer_host_ptr = null_buffer_host_ptr,
    .buffer_write = null_buffer_write,
    .buffer_read = null_buffer_read,
    .queue_create = null_queue_create,
    .queue_destroy = null_queue_destroy,
    .queue_finish = null_queue_finish,
    .event_create = null_event_create,
    .event_destroy = null_event_destroy,
    .event_record = null_event_record,
    .event_wait = null_event_wait,
    .supports_op = null_supports_op,
    .prepare = null_prepare,
    .execute = null_execute,
    .release_prepared = null_release_prepared,
    .buffer_wrap_host = null_buffer_wrap_host,
    .instance_note = NULL, /* optional; a backend without devices says why here */
    .device_comm = NULL,   /* optional; a backend with its own collective library (NCCL) returns it */
};

#ifdef TSR_NULL_PLUGIN
TSR_BACKEND_EXPORT tsr_status_code tsr_backend_entry(uint32_t host_abi_version, const tsr_backend_iface** out,
                                                     tsr_error* err) {
  if (host_abi_version != TSR_BACKEND_ABI_VERSION) {
    char msg[160];
    snprintf(msg, sizeof(msg), "plugin built for backend ABI version %u, host has version %u",
             TSR_BACKEND_ABI_VERSION, host_abi_version);
    return fail(err, TSR_ERR_ABI_MISMATCH, msg);
  }
  *out = &kNullIface;
  return TSR_OK;
}
#else
const tsr_backend_iface* tsr_null_backend_iface(void) { return &kNullIface; }
#endif
