/* Tessera backend ABI — the one contract between core and every backend.
 *
 * A backend is a table of C function pointers (tsr_backend_iface). In-tree
 * backends (cpu, null, ...) and out-of-tree plugins implement exactly this
 * table. A plugin is a shared library exporting one symbol:
 *
 *   TSR_BACKEND_EXPORT tsr_status_code
 *   tsr_backend_entry(uint32_t host_abi_version,
 *                     const tsr_backend_iface** out_iface, tsr_error* err);
 *
 * Versioning: TSR_BACKEND_ABI_VERSION changes only when an existing entry
 * changes meaning or signature; core refuses a table whose abi_version differs.
 * New entries are appended at the end of a struct; struct_size tells core
 * which entries a plugin has, and every appended entry is optional with a
 * documented default. The same rule applies to every struct here that starts
 * with struct_size.
 *
 * Errors: every call that can fail returns tsr_status_code and, on failure,
 * writes a NUL-terminated message to err->message (starting with the
 * operation, e.g. "[buffer_alloc] 4294967296 bytes exceed device memory").
 * Output parameters (out_*) are written only on success. No C++ exception may
 * cross this interface.
 *
 * Threading: core serialises calls on one instance (each context has its
 * own instance and a lock its calls take); a backend need not lock its
 * instance's state. Two contexts may call their two instances from two
 * threads at once: state shared between instances needs a lock of its own.
 * Ownership: every handle returned by a create/alloc/open call is released by
 * the matching destroy/free/close call, which accepts NULL.
 */
#ifndef TESSERA_BACKEND_H
#define TESSERA_BACKEND_H

#include "tessera_types.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TSR_BACKEND_ABI_VERSION 1u
#define TSR_BACKEND_ENTRY_SYMBOL "tsr_backend_entry"

#if defined(_WIN32)
#define TSR_BACKEND_EXPORT __declspec(dllexport)
#else
#define TSR_BACKEND_EXPORT __attribute__((visibility("default")))
#endif

typedef struct tsr_error {
  char message[512];
} tsr_error;

/* Opaque, backend-defined handles. */
typedef struct tsr_bk_instance_s* tsr_bk_instance;
typedef struct tsr_bk_device_s* tsr_bk_device;
typedef struct tsr_bk_buffer_s* tsr_bk_buffer;
typedef struct tsr_bk_queue_s* tsr_bk_queue;
typedef struct tsr_bk_event_s* tsr_bk_event;
typedef struct tsr_bk_prepared_s* tsr_bk_prepared;

typedef enum tsr_device_type {
  TSR_DEVICE_TYPE_CPU = 0,
  TSR_DEVICE_TYPE_GPU_DISCRETE = 1,
  TSR_DEVICE_TYPE_GPU_INTEGRATED = 2,
  TSR_DEVICE_TYPE_ACCELERATOR = 3,
  TSR_DEVICE_TYPE_OTHER = 4,
  /* A device that exists to test the runtime (the null backend): it runs
   * nothing a user wants timed or served. Listings (tessera-info, tessera-bench)
   * leave it out unless asked for, and no tool picks it automatically; naming
   * it still opens it. Appended in ABI 1: an older core shows it as other. */
  TSR_DEVICE_TYPE_TEST = 5
} tsr_device_type;

typedef struct tsr_device_props {
  uint32_t struct_size; /* set by core to sizeof(tsr_device_props) */
  char name[128];
  char vendor[64];
  char driver[64];
  int32_t type;          /* tsr_device_type */
  uint64_t memory_bytes; /* 0 = unknown */
  double peak_flops;     /* f32 FLOP/s; 0 = unknown (benchmarks then probe) */
  double peak_bandwidth; /* bytes/s; 0 = unknown */
  int32_t host_visible;  /* 1: buffer_host_ptr returns usable pointers */
  /* Appended: backend-specific facts as "key: value" lines (memory heaps,
   * subgroup size, feature support), NUL-terminated, may be empty. Written
   * only when struct_size covers it. */
  char details[1024];
} tsr_device_props;

typedef struct tsr_backend_options {
  uint32_t struct_size;
  int32_t n_threads; /* CPU-side worker threads; 0 = backend default */
} tsr_backend_options;

/* buffer_alloc flags */
enum {
  TSR_BUFFER_WEIGHTS = 1u << 0,     /* read-mostly, uploaded once */
  TSR_BUFFER_KV = 1u << 1,          /* persistent state across executions */
  TSR_BUFFER_ACTIVATIONS = 1u << 2, /* scratch planned by core */
  TSR_BUFFER_HOST_VISIBLE = 1u << 3 /* caller wants buffer_host_ptr to work */
};

/* A tensor inside a buffer: byte offset plus layout (strides may describe a
 * view: transposed, sliced, broadcast).
 *
 * Layout rules for every input AND output of a node:
 * - Alignment: offset and every nb[] are multiples of the dtype's element
 *   size (f32/i32: 4 bytes, f16/bf16: 2, i8: 1) and, for block formats, of
 *   2 bytes (blocks are read as 16-bit words). That is the only promise:
 *   views (a column slice, one head of a fused projection, a KV-cache row)
 *   put tensors at any such offset. Buffers themselves are 64-byte aligned
 *   and core's planner places activations at 256-byte offsets, but a kernel
 *   may not assume either for a tensor. The conformance suite runs tensors
 *   one element past a 64-byte boundary (its min_align_* cases).
 * - Outputs may be strided: an output's nb[] can leave gaps (padded rows, a
 *   slice of a larger tensor) and its bytes outside the described elements
 *   must stay untouched. Core's planner binds contiguous outputs today; a
 *   backend that cannot honour an output's strides refuses the node in
 *   supports_op, which sees them (conformance: strided_out_* cases). */
typedef struct tsr_tensor_ref {
  tsr_bk_buffer buffer;
  uint64_t offset;
  tsr_tensor_desc desc;
} tsr_tensor_ref;

/* A full node description: what supports_op is asked about. */
typedef struct tsr_node_desc {
  uint32_t struct_size;
  int32_t op; /* tsr_op */
  int32_t n_inputs;
  tsr_tensor_desc inputs[TSR_MAX_INPUTS];
  tsr_tensor_desc output;
  tsr_op_params params;
} tsr_node_desc;

typedef struct tsr_subgraph_node {
  tsr_node_desc desc;
  tsr_tensor_ref inputs[TSR_MAX_INPUTS];
  tsr_tensor_ref output;
} tsr_subgraph_node;

/* Aliasing: for the element-wise ops (add, sub, mul, div, scale, silu, gelu,
 * swiglu) core may bind the output to exactly the memory and layout of input
 * 0 (in-place reuse planned by the memory planner); backends must handle it.
 * No other aliasing between a node's inputs and its output is ever planned,
 * except set_rows, whose output is input 0 by definition. Inputs may overlap
 * each other (two views of one fused projection). Conformance: inplace_*. */

/* Nodes in execution order. Buffers referenced stay alive and at the same
 * addresses until release_prepared. The tsr_subgraph and its nodes array
 * belong to core and are valid only during the prepare call: a backend copies
 * what it needs (the conformance suite zeroes the array right after prepare).
 * A prepared subgraph is executed many times; between executions core
 * rewrites input data and step values, so nothing computed from them may be
 * cached across executions. */
typedef struct tsr_subgraph {
  uint32_t struct_size;
  int32_t n_nodes;
  const tsr_subgraph_node* nodes;
} tsr_subgraph;

/* Values that change between executions of one prepared subgraph (kv length,
 * token count, ...). Ops refer to them by index (see TSR_OP_ATTENTION).
 *
 * should_abort (present when struct_size covers it; may be NULL) is the
 * caller's request to stop a long run: a backend may call
 * should_abort(abort_user) between the nodes it executes and, when it
 * returns non-zero, return TSR_ERR_ABORTED at once; the subgraph's outputs
 * are then undefined. It is called on the thread that called execute. Core
 * asks it between subgraphs too, so a backend that never calls it is still
 * correct, only slower to stop. */
typedef struct tsr_step_params {
  uint32_t struct_size;
  int32_t n_values;
  const int64_t* values;
  int32_t (*should_abort)(void* abort_user);
  void* abort_user;
} tsr_step_params;

struct tsr_comm_iface; /* tessera_comm.h */

typedef struct tsr_backend_iface {
  uint32_t struct_size; /* sizeof(tsr_backend_iface) the backend was built with */
  uint32_t abi_version; /* TSR_BACKEND_ABI_VERSION it was built with */
  const char* name;     /* short lowercase name used in device names: "cpu" */

  /* Instance lifetime. One instance per Tessera context. */
  tsr_status_code (*create)(const tsr_backend_options* options, tsr_bk_instance* out_instance,
                            tsr_error* err);
  void (*destroy)(tsr_bk_instance instance);

  /* Devices. device_count never fails; 0 when no hardware/driver is present. */
  int32_t (*device_count)(tsr_bk_instance instance);
  tsr_status_code (*device_open)(tsr_bk_instance instance, int32_t index, tsr_bk_device* out_device,
                                 tsr_error* err);
  void (*device_close)(tsr_bk_device device);
  tsr_status_code (*device_props)(tsr_bk_device device, tsr_device_props* out_props, tsr_error* err);

  /* Buffers. Sizes in bytes; alignment at least 64 bytes. */
  tsr_status_code (*buffer_alloc)(tsr_bk_device device, uint64_t size, uint32_t flags,
                                  tsr_bk_buffer* out_buffer, tsr_error* err);
  void (*buffer_free)(tsr_bk_buffer buffer);
  /* Host pointer to the buffer's memory, or NULL when not host-visible. */
  void* (*buffer_host_ptr)(tsr_bk_buffer buffer);
  /* Copies between host memory and a buffer, ordered on queue. The host memory
   * must stay valid until the queue is finished (or an event recorded after
   * the copy has completed). */
  tsr_status_code (*buffer_write)(tsr_bk_queue queue, tsr_bk_buffer buffer, uint64_t offset, const void* src,
                                  uint64_t size, tsr_error* err);
  tsr_status_code (*buffer_read)(tsr_bk_queue queue, tsr_bk_buffer buffer, uint64_t offset, void* dst,
                                 uint64_t size, tsr_error* err);

  /* Queues and events. */
  tsr_status_code (*queue_create)(tsr_bk_device device, tsr_bk_queue* out_queue, tsr_error* err);
  void (*queue_destroy)(tsr_bk_queue queue);
  tsr_status_code (*queue_finish)(tsr_bk_queue queue, tsr_error* err); /* host waits */
  /* Optional, all four NULL or all four set (core refuses a table with some
   * of them). Core does not call them: it orders work between queues and
   * devices by queue_finish, so a backend without events behaves exactly as
   * one with them. They are kept for asynchronous transfers between devices. */
  tsr_status_code (*event_create)(tsr_bk_device device, tsr_bk_event* out_event, tsr_error* err);
  void (*event_destroy)(tsr_bk_event event);
  tsr_status_code (*event_record)(tsr_bk_queue queue, tsr_bk_event event, tsr_error* err);
  tsr_status_code (*event_wait)(tsr_bk_event event, tsr_error* err); /* host waits */

  /* 1 if the device runs this node exactly as documented on tsr_op; else 0
   * and, when reason is not NULL, a short reason ("q4_1 weights") in it. */
  int32_t (*supports_op)(tsr_bk_device device, const tsr_node_desc* node, char* reason, size_t reason_len);

  /* Compile a subgraph once (kernel selection, command recording); run it
   * many times with per-step parameters. */
  tsr_status_code (*prepare)(tsr_bk_device device, const tsr_subgraph* graph, tsr_bk_prepared* out_prepared,
                             tsr_error* err);
  tsr_status_code (*execute)(tsr_bk_prepared prepared, tsr_bk_queue queue, const tsr_step_params* params,
                             tsr_error* err);
  void (*release_prepared)(tsr_bk_prepared prepared);

  /* Optional (NULL: core allocates a buffer and copies). Wrap caller-owned
   * host memory as a buffer without copying, so weights are used in place.
   * The memory outlives the buffer; buffer_free does not free it. */
  tsr_status_code (*buffer_wrap_host)(tsr_bk_device device, void* host, uint64_t size,
                                      tsr_bk_buffer* out_buffer, tsr_error* err);

  /* Optional (NULL: nothing to say). Why this instance lists no devices, or
   * fewer than the machine has ("no Vulkan loader: ..."): a NUL-terminated
   * string owned by the instance, or NULL. Core shows it with the backend's
   * entry in device listings, so a missing driver is a message, not an error. */
  const char* (*instance_note)(tsr_bk_instance instance);

  /* Optional (NULL, or returning NULL: collectives on this backend's
   * devices stage through host memory and the context's communicator).
   * A device communicator (tessera_comm.h, memory TSR_COMM_MEMORY_DEVICE)
   * that reduces this backend's buffers in place on its queues: NCCL for
   * CUDA, RCCL for HIP. The table is static; NULL when the library is
   * missing. Core opens one per device it runs collectives on, when every
   * rank has one, bootstrapping it over the context's communicator. */
  const struct tsr_comm_iface* (*device_comm)(tsr_bk_instance instance);
} tsr_backend_iface;

typedef tsr_status_code (*tsr_backend_entry_fn)(uint32_t host_abi_version,
                                                const tsr_backend_iface** out_iface, tsr_error* err);

#ifdef __cplusplus
}
#endif

#endif /* TESSERA_BACKEND_H */
