/* Tessera public C API.
 *
 * Build a graph of tensor ops, compile it for an ordered list of devices,
 * execute it many times. Usage:
 *
 *   tsr_context* ctx;
 *   if (tsr_context_create(NULL, &ctx) != TSR_OK) { puts(tsr_last_error()); ... }
 *   tsr_graph* g;
 *   tsr_graph_create(ctx, &g);
 *   int64_t xs[2] = {64, 4};
 *   tsr_tensor x, y;
 *   tsr_graph_input(g, "x", TSR_DTYPE_F32, 2, xs, &x);
 *   tsr_graph_op(g, TSR_OP_SILU, &x, 1, NULL, &y);       // f32 [64, 4]
 *   tsr_graph_output(g, y);
 *   const char* devices[] = {"cpu"};
 *   tsr_compile_options co = {sizeof(co), devices, 1, 0};
 *   tsr_model* m;
 *   tsr_compile(ctx, g, &co, &m);
 *   tsr_model_set_input(m, x, data, sizeof(data));
 *   tsr_model_execute(m, NULL, 0);
 *   tsr_model_get_output(m, y, out, sizeof(out));
 *   tsr_model_destroy(m); tsr_graph_destroy(g); tsr_context_destroy(ctx);
 *
 * Errors: every function returning tsr_status_code returns TSR_OK (0) on
 * success; otherwise tsr_last_error() gives a message for the calling thread
 * that starts with the operation and names the values involved. Output
 * parameters (out_*) are written only on success. Nothing aborts or throws on
 * bad input.
 *
 * Threading: distinct objects may be used from different threads at once,
 * including two models (or LLM sessions, batches) of one context: each call
 * that starts a backend, touches device memory or runs a model holds its
 * context's lock, so the calls of one context's objects run one at a time
 * (the backends see the serialised calls tessera_backend.h promises them);
 * two contexts never wait for each other. One object (a graph, a model, a
 * session) must not be used from two threads at once: set_input, execute
 * and get_output are a sequence only its owner can order. Destroy a context
 * after every call on its objects has returned. Tested under ThreadSanitizer
 * (tests/api/threads_test.cpp).
 */
#ifndef TESSERA_H
#define TESSERA_H

#include "tessera_backend.h"
#include "tessera_types.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define TSR_API __declspec(dllexport)
#else
#define TSR_API __attribute__((visibility("default")))
#endif

#define TSR_VERSION_MAJOR 0
#define TSR_VERSION_MINOR 1
#define TSR_VERSION_PATCH 0

typedef struct tsr_context_s tsr_context;
typedef struct tsr_graph_s tsr_graph;
typedef struct tsr_model_s tsr_model;
/* A tensor of one graph, by id. Valid only with the graph that made it and
 * the models compiled from that graph. */
typedef int32_t tsr_tensor;

/* "0.1.0" */
TSR_API const char* tsr_version(void);
/* Message of the last failed call on this thread; "" after a call that
 * returned TSR_OK (and before any call). Owned by the library, valid until
 * the next call on this thread. */
TSR_API const char* tsr_last_error(void);
/* "invalid argument", ... */
TSR_API const char* tsr_status_name(tsr_status_code code);
/* "f32", "q4_1", ... or NULL for unknown ids. */
TSR_API const char* tsr_dtype_name(int32_t dtype);
/* "matmul", ... or NULL for unknown ids. */
TSR_API const char* tsr_op_name(int32_t op);

/* ---- Context: backends and devices ------------------------------------ */

typedef struct tsr_context_options {
  uint32_t struct_size;            /* sizeof(tsr_context_options) */
  int32_t n_threads;               /* CPU worker threads; 0 = all cores */
  const char* const* plugin_paths; /* backend plugins to load; may be NULL */
  int32_t n_plugins;
} tsr_context_options;

/* options may be NULL (defaults). Registers the in-tree backends, then loads
 * each plugin; a plugin that fails to load fails the call with its message. */
TSR_API tsr_status_code tsr_context_create(const tsr_context_options* options, tsr_context** out_ctx);
/* Accepts NULL. Destroy models and graphs first. */
TSR_API void tsr_context_destroy(tsr_context* ctx);
/* Loads an out-of-tree backend (see tessera_backend.h). Refuses a file that
 * is not a Tessera plugin or was built for another ABI version. */
TSR_API tsr_status_code tsr_context_load_plugin(tsr_context* ctx, const char* path);

typedef struct tsr_device_info {
  uint32_t struct_size; /* set by the caller: sizeof(tsr_device_info) */
  char name[64];        /* "cpu:0" */
  char backend[32];     /* "cpu" */
  tsr_device_props props;
} tsr_device_info;

/* Backends start lazily: the context opens a built-in backend's driver only
 * when one of its devices is named (tsr_device_find, a compile's device
 * list) or the devices are listed (tsr_device_count, tsr_device_get_info,
 * the notes), so a CPU-only program never loads Vulkan, CUDA or HIP. Plugins
 * start when loaded. Indices follow the order in which backends started and
 * never change once given; after tsr_device_count every device is listed. */
TSR_API int32_t tsr_device_count(const tsr_context* ctx);
TSR_API tsr_status_code tsr_device_get_info(const tsr_context* ctx, int32_t index, tsr_device_info* out_info);
/* Lines about backends that list no devices, or devices that failed to
 * open, each with the reason ("vulkan: no devices (no Vulkan loader: ...)").
 * The string is owned by the context; NULL when index is out of range. */
TSR_API int32_t tsr_context_note_count(const tsr_context* ctx);
TSR_API const char* tsr_context_note(const tsr_context* ctx, int32_t index);
/* Index of a device by name ("cpu:0", or "cpu" for the backend's first device). */
TSR_API tsr_status_code tsr_device_find(const tsr_context* ctx, const char* name, int32_t* out_index);

/* ---- Communicator: the ranks of a tensor-parallel job ------------------ */

typedef struct tsr_comm_options {
  uint32_t struct_size; /* sizeof(tsr_comm_options) */
  /* "mpi" (Tessera's MPI communicator, libtessera-comm-mpi.so, looked up in
   * $TESSERA_COMM_PATH, next to libtessera and in its install directory) or
   * the path of a communicator library (tessera_comm.h). NULL: "mpi". */
  const char* name;
  /* The longest a collective waits for the other ranks before failing
   * (a rank died or runs something else); <= 0: 60 s. */
  double timeout_seconds;
} tsr_comm_options;

/* Joins this process to its job's ranks (for MPI: as mpirun started it), so
 * graphs with TSR_OP_ALL_REDUCE / TSR_OP_ALL_GATHER for that many ranks
 * compile and run. Once per context (a second call fails); every rank must
 * then compile and execute the same graphs in the same order. Errors: the
 * library not found or not a communicator (naming where it was looked for),
 * the MPI runtime failing to start. */
TSR_API tsr_status_code tsr_context_open_comm(tsr_context* ctx, const tsr_comm_options* options);
/* This process's rank and the world size: 0 and 1 without a communicator. */
TSR_API int32_t tsr_context_comm_rank(const tsr_context* ctx);
TSR_API int32_t tsr_context_comm_size(const tsr_context* ctx);
/* "Open MPI v4.1.4; rank 0 of 2 on host", or "" without a communicator. Owned
 * by the context. */
TSR_API const char* tsr_context_comm_describe(const tsr_context* ctx);
/* Host-memory collectives for what engines agree on between ranks (a
 * sampled token, a fingerprint of the model): recv gets every rank's
 * bytes_per_rank bytes in rank order; broadcast copies root's bytes to every
 * rank. Without a communicator they act on a world of one. */
TSR_API tsr_status_code tsr_context_all_gather(tsr_context* ctx, const void* send, void* recv,
                                               uint64_t bytes_per_rank);
TSR_API tsr_status_code tsr_context_broadcast(tsr_context* ctx, void* buf, uint64_t bytes, int32_t root);
/* Ends the job on every rank now, with exit status code: for an error on
 * this rank that the others cannot see (a failed load), so they stop at
 * once instead of after their timeout. With MPI it does not return
 * (MPI_Abort ends this process too). Without a communicator, or with one
 * that cannot abort, it does nothing and returns. */
TSR_API void tsr_context_comm_abort(tsr_context* ctx, int32_t code);

/* ---- Graph -------------------------------------------------------------- */
/* dtype and op arguments are int32_t holding a tsr_dtype / tsr_op value, so
 * an out-of-range value from a caller is an error, not undefined behaviour. */

TSR_API tsr_status_code tsr_graph_create(tsr_context* ctx, tsr_graph** out_graph);
TSR_API void tsr_graph_destroy(tsr_graph* graph); /* accepts NULL */

/* Leaves. ne lists rank dims, innermost first. Names are copied. */
TSR_API tsr_status_code tsr_graph_input(tsr_graph* g, const char* name, int32_t dtype, int32_t rank,
                                        const int64_t* ne, tsr_tensor* out_tensor);
/* data (size bytes, the tensor's contiguous GGUF layout) is borrowed: it must
 * stay valid and unchanged while the graph or any model compiled from it
 * exists. Devices that can address host memory use it in place. */
TSR_API tsr_status_code tsr_graph_weight(tsr_graph* g, const char* name, int32_t dtype, int32_t rank,
                                         const int64_t* ne, const void* data, uint64_t size,
                                         tsr_tensor* out_tensor);
/* Persistent state (a KV cache): zero-initialised at compile, kept across
 * executions, written with TSR_OP_SET_ROWS. */
TSR_API tsr_status_code tsr_graph_state(tsr_graph* g, const char* name, int32_t dtype, int32_t rank,
                                        const int64_t* ne, tsr_tensor* out_tensor);
/* A state kept by the context under name: every model compiled in this
 * context from a graph declaring the same name (same dtype and shape, on the
 * same device) uses the same memory, zeroed when first created. This is how a
 * prefill graph and a decode graph share one KV cache. A name may be declared
 * once per graph. */
TSR_API tsr_status_code tsr_graph_shared_state(tsr_graph* g, const char* name, int32_t dtype, int32_t rank,
                                               const int64_t* ne, tsr_tensor* out_tensor);
/* Zeroes the shared state called name, or all of them when name is NULL. */
TSR_API tsr_status_code tsr_context_reset_shared_state(tsr_context* ctx, const char* name);
/* Copies bytes [offset, offset + size) of the shared state called name (its
 * contiguous layout, as declared) to dst, or from src into it; finished on
 * return. A state exists once a model declaring it was compiled: otherwise
 * TSR_ERR_NOT_FOUND; a range past its end fails naming both sizes. This is
 * how a KV cache is saved, restored or copied to another sequence. */
TSR_API tsr_status_code tsr_context_read_shared_state(tsr_context* ctx, const char* name, uint64_t offset,
                                                      void* dst, uint64_t size);
TSR_API tsr_status_code tsr_context_write_shared_state(tsr_context* ctx, const char* name, uint64_t offset,
                                                       const void* src, uint64_t size);
/* Adds a node; params may be NULL (all zero). Shape and dtype are inferred at
 * once; a bad node fails here with the op and shapes in the message. */
TSR_API tsr_status_code tsr_graph_op(tsr_graph* g, int32_t op, const tsr_tensor* inputs, int32_t n_inputs,
                                     const tsr_op_params* params, tsr_tensor* out_tensor);
/* Marks a tensor to be readable after execution. */
TSR_API tsr_status_code tsr_graph_output(tsr_graph* g, tsr_tensor t);
/* Places the nodes added after this call on `device` (a name as
 * tsr_device_find takes it: "vulkan:0", "cpu"), ahead of the compile's
 * preference list; NULL or "" returns to that list. A node its device cannot
 * run falls back to the CPU like any other (an error under
 * TSR_COMPILE_STRICT). A name no device has fails the compile, naming it.
 * This is how a model is split across devices layer by layer. */
TSR_API tsr_status_code tsr_graph_set_device(tsr_graph* g, const char* device);
TSR_API tsr_status_code tsr_graph_tensor_desc(const tsr_graph* g, tsr_tensor t, tsr_tensor_desc* out_desc);
TSR_API int32_t tsr_graph_node_count(const tsr_graph* g);

/* ---- Compile and execute ------------------------------------------------ */

enum {
  TSR_COMPILE_STRICT = 1u << 0, /* refuse to fall back to the CPU */
  /* Place every node on the first preferred device that supports it, even
   * where the copies around a short run cost more than the run saves (by
   * default such runs stay on the CPU; the placement report says why). */
  TSR_COMPILE_NO_TRANSFER_COST = 1u << 1
};

typedef struct tsr_compile_options {
  uint32_t struct_size;       /* sizeof(tsr_compile_options) */
  const char* const* devices; /* preference order; NULL/0 = {"cpu"} */
  int32_t n_devices;
  uint32_t flags; /* TSR_COMPILE_* */
} tsr_compile_options;

/* Places every node on the first preferred device supporting it (falling
 * back to the CPU unless strict; keeping short runs on the CPU where copies
 * would cost more, unless TSR_COMPILE_NO_TRANSFER_COST or strict), plans
 * memory, uploads weights and prepares each device's subgraphs. The model
 * keeps its own copy of the graph; tsr_model_placement explains the choices. */
TSR_API tsr_status_code tsr_compile(tsr_context* ctx, const tsr_graph* g, const tsr_compile_options* options,
                                    tsr_model** out_model);
TSR_API void tsr_model_destroy(tsr_model* m); /* accepts NULL */

/* Copies size bytes (the tensor's contiguous layout) into an input. Inputs
 * keep their value across executions until set again. */
TSR_API tsr_status_code tsr_model_set_input(tsr_model* m, tsr_tensor t, const void* data, uint64_t size);
/* Runs the graph. step_params are the per-step values ops refer to by index
 * (e.g. the KV length for attention); may be NULL when n is 0. */
TSR_API tsr_status_code tsr_model_execute(tsr_model* m, const int64_t* step_params, int32_t n_step_params);
/* should_abort(user) is called on the thread running tsr_model_execute,
 * between device segments and, by backends that support it (the CPU backend
 * does), between nodes; when it returns non-zero, execute stops and returns
 * TSR_ERR_ABORTED, leaving the outputs and states the run was writing
 * undefined. To stop a run from another thread, have should_abort read a
 * flag that thread sets. NULL removes it. */
TSR_API tsr_status_code tsr_model_set_abort_callback(tsr_model* m, int32_t (*should_abort)(void* user),
                                                     void* user);
/* Copies an output (or a state) in its contiguous layout into dst. */
TSR_API tsr_status_code tsr_model_get_output(tsr_model* m, tsr_tensor t, void* dst, uint64_t size);

/* Where every node runs, one line each, then a summary. Owned by the model. */
TSR_API const char* tsr_model_placement(const tsr_model* m);

typedef struct tsr_model_stats {
  uint32_t struct_size;            /* set by the caller */
  int32_t n_nodes;                 /* compute nodes after dead-node elimination */
  int32_t n_fallbacks;             /* nodes placed on the CPU against the preference */
  int32_t n_copies;                /* device-boundary copies per execution */
  uint64_t activation_peak_bytes;  /* planned activation arena, all devices */
  uint64_t activation_total_bytes; /* sum of all activation sizes, no reuse */
  uint64_t weight_bytes;
  uint64_t state_bytes;
  double last_execute_seconds;
} tsr_model_stats;

TSR_API tsr_status_code tsr_model_get_stats(const tsr_model* m, tsr_model_stats* out_stats);

#ifdef __cplusplus
}
#endif

#endif /* TESSERA_H */
