// Glue for a communicator library (tessera_comm.h): its table from the
// functions of the entries' names in scope, as TSR_KIT_BACKEND_IFACE does
// for a backend.
//
//   namespace {
//   tsr_status_code create(const tsr_comm_config*, tsr_cm_comm*, tsr_error*);
//   void destroy(tsr_cm_comm);  // rank, size, describe, all_reduce_sum, all_gather,
//   ...                         // broadcast, send, recv likewise
//   const tsr_comm_iface kTable =
//       TSR_KIT_COMM_IFACE("mpi", TSR_COMM_MEMORY_HOST, nullptr, 0, nullptr, create, abort_job);
//   }
#pragma once

#include "tessera/tessera_comm.h"

// name, memory and backend as tsr_comm_iface documents them; id_size and
// make_id: the bootstrap id (0 and nullptr when none); create_fn and
// abort_fn (may be nullptr) by name, the other entries by their own names.
#define TSR_KIT_COMM_IFACE(comm_name, mem, backend_name, id_size, make_id, create_fn, abort_fn)       \
  tsr_comm_iface {                                                                                    \
    .struct_size = sizeof(tsr_comm_iface), .abi_version = TSR_COMM_ABI_VERSION, .name = comm_name,    \
    .memory = mem, .backend = backend_name, .unique_id_size = id_size, .make_unique_id = make_id,     \
    .create = create_fn, .destroy = destroy, .rank = rank, .size = size, .describe = describe,        \
    .all_reduce_sum = all_reduce_sum, .all_gather = all_gather, .broadcast = broadcast, .send = send, \
    .recv = recv, .abort = abort_fn,                                                                  \
  }
