/* Tessera communicator ABI — collectives between the ranks of one job.
 *
 * Tensor parallelism needs all-reduce and all-gather between processes (and
 * machines); Tessera never moves those bytes itself but calls an existing
 * collective library (MPI, NCCL, RCCL, a vendor's own) through this table,
 * the way it calls a device through tsr_backend_iface. A communicator is a
 * shared library exporting one symbol:
 *
 *   TSR_COMM_EXPORT tsr_status_code
 *   tsr_comm_entry(uint32_t host_abi_version, const tsr_comm_iface** out_iface,
 *                  tsr_error* err);
 *
 * Versioning follows tessera_backend.h: TSR_COMM_ABI_VERSION changes only
 * when an existing entry changes meaning; entries are appended, struct_size
 * says which a library has, and every appended entry is optional with a
 * documented default.
 *
 * Memory: a host communicator (memory == TSR_COMM_MEMORY_HOST; MPI) reads
 * and writes host memory: core hands it tsr_comm_ref.host and stages a
 * device's tensor through host memory (a CPU tensor is used in place). A
 * device communicator (TSR_COMM_MEMORY_DEVICE; NCCL for the CUDA backend)
 * names the backend whose buffers it reads in `backend`: core hands it that
 * backend's tsr_bk_buffer and offset, and the queue the collective is
 * ordered on. Such a library ships with (or is written against) that
 * backend, which is the only one that knows what its handles hold.
 *
 * Every collective is called by every rank of the communicator in the same
 * order with the same counts (core guarantees it for graphs: all ranks
 * compile the same graph). Collectives finish (or are ordered on the queue
 * for device communicators) before they return. None may wait forever: a
 * rank that stopped answering makes the call fail with TSR_ERR_DEVICE after
 * tsr_comm_config.timeout_seconds, naming the operation and the ranks, so a
 * job whose rank died ends instead of hanging.
 *
 * Errors, ownership and exceptions: as in tessera_backend.h (status codes,
 * a message in err starting with the operation, no C++ exception across,
 * destroy accepts NULL). Threading: core calls one communicator from one
 * thread at a time. */
#ifndef TESSERA_COMM_H
#define TESSERA_COMM_H

#include "tessera_backend.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TSR_COMM_ABI_VERSION 1u
#define TSR_COMM_ENTRY_SYMBOL "tsr_comm_entry"
#define TSR_COMM_EXPORT TSR_BACKEND_EXPORT

typedef struct tsr_cm_comm_s* tsr_cm_comm; /* opaque, library-defined */

typedef enum tsr_comm_memory { TSR_COMM_MEMORY_HOST = 0, TSR_COMM_MEMORY_DEVICE = 1 } tsr_comm_memory;

/* One side of a collective: host memory (host communicators) or a backend
 * buffer at a byte offset (device communicators); the other fields are NULL/0. */
typedef struct tsr_comm_ref {
  void* host;
  tsr_bk_buffer buffer;
  uint64_t offset;
} tsr_comm_ref;

typedef struct tsr_comm_config {
  uint32_t struct_size;
  /* This process's rank and the world size, or -1 and -1: the launcher says
   * (mpirun's environment for MPI). */
  int32_t rank;
  int32_t size;
  /* The longest any collective may wait for the other ranks; <= 0: 60 s. */
  double timeout_seconds;
  /* Device communicators: the device whose buffers this rank reduces, and
   * the job's unique id (unique_id_size bytes from make_unique_id on rank 0,
   * broadcast by core over a host communicator). NULL for host communicators. */
  tsr_bk_device device;
  const void* unique_id;
} tsr_comm_config;

typedef struct tsr_comm_iface {
  uint32_t struct_size; /* sizeof(tsr_comm_iface) the library was built with */
  uint32_t abi_version; /* TSR_COMM_ABI_VERSION it was built with */
  const char* name;     /* "mpi", "nccl" */
  int32_t memory;       /* tsr_comm_memory */
  const char* backend;  /* device communicators: the backend's name ("cuda"); else NULL */
  /* Device communicators that bootstrap from an id (NCCL): its size in
   * bytes and how rank 0 makes one; 0 and NULL otherwise. */
  uint32_t unique_id_size;
  tsr_status_code (*make_unique_id)(void* out_id, tsr_error* err);

  tsr_status_code (*create)(const tsr_comm_config* config, tsr_cm_comm* out_comm, tsr_error* err);
  void (*destroy)(tsr_cm_comm comm);
  int32_t (*rank)(tsr_cm_comm comm);
  int32_t (*size)(tsr_cm_comm comm);
  /* Free text about the library and the job ("Open MPI v4.1.4, 2 ranks on
   * host a, b"); owned by comm; may return NULL. */
  const char* (*describe)(tsr_cm_comm comm);

  /* dtype: TSR_DTYPE_F32, TSR_DTYPE_F16 or TSR_DTYPE_I32 (all_reduce_sum:
   * f32 and i32; a library may refuse others with TSR_ERR_UNSUPPORTED).
   * Every rank ends with the same bits (a library whose reduction order
   * could differ between ranks reduces to one rank and broadcasts), because
   * ranks that sample from different logits would drift apart.
   * send and recv may be the same memory (in place) for all_reduce_sum. */
  tsr_status_code (*all_reduce_sum)(tsr_cm_comm comm, const tsr_comm_ref* send, const tsr_comm_ref* recv,
                                    uint64_t count, int32_t dtype, tsr_bk_queue queue, tsr_error* err);
  /* recv holds size * count elements: rank r's count elements at r * count. */
  tsr_status_code (*all_gather)(tsr_cm_comm comm, const tsr_comm_ref* send, const tsr_comm_ref* recv,
                                uint64_t count, int32_t dtype, tsr_bk_queue queue, tsr_error* err);
  /* bytes from root's buf into every other rank's buf. */
  tsr_status_code (*broadcast)(tsr_cm_comm comm, const tsr_comm_ref* buf, uint64_t bytes, int32_t root,
                               tsr_bk_queue queue, tsr_error* err);
  /* Point to point (pipeline stages across processes): matched in order per
   * (sender, receiver) pair. */
  tsr_status_code (*send)(tsr_cm_comm comm, const tsr_comm_ref* buf, uint64_t bytes, int32_t peer,
                          tsr_bk_queue queue, tsr_error* err);
  tsr_status_code (*recv)(tsr_cm_comm comm, const tsr_comm_ref* buf, uint64_t bytes, int32_t peer,
                          tsr_bk_queue queue, tsr_error* err);

  /* Optional (NULL: core does nothing). Ends every rank of the job now,
   * with exit status `code`, because this rank failed where the others
   * cannot see it (a load error) and would otherwise wait for their
   * timeout. May not return (MPI_Abort ends this process too). */
  void (*abort)(tsr_cm_comm comm, int32_t code);
} tsr_comm_iface;

typedef tsr_status_code (*tsr_comm_entry_fn)(uint32_t host_abi_version, const tsr_comm_iface** out_iface,
                                             tsr_error* err);

#ifdef __cplusplus
}
#endif

#endif /* TESSERA_COMM_H */
