// The MPI communicator: tessera_comm.h over any MPI-3 library (Open MPI,
// MPICH), built as its own shared library so libtessera never links MPI and
// a job without mpirun never loads it. Host memory only: core stages device
// tensors through the host and hands CPU tensors in place.
//
// No call may wait forever (tessera_comm.h): every collective is started
// non-blocking and polled against the configured deadline, so a rank whose
// peer died or went astray returns an error naming the operation, instead
// of sitting in MPI_Allreduce until a human kills the job.
#include <mpi.h>
#include <sched.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>

#include "tessera/kit/abi_guard.h"
#include "tessera/kit/comm_glue.h"
#include "tessera/tessera_comm.h"

struct tsr_cm_comm_s {
  MPI_Comm comm = MPI_COMM_NULL;  // a duplicate of MPI_COMM_WORLD with errors returned, not fatal
  int rank = 0, size = 1;
  double timeout = 60.0;
  std::string about;
};

namespace {

using tsr::Result;
using tsr::Status;

// MPI may be initialised once per process: the first communicator does it,
// and it stays initialised until exit (MPI_Finalize from atexit), because
// MPI cannot be initialised again after MPI_Finalize.
std::mutex g_init_mu;
// Set when a collective timed out: its request can never complete, and
// MPI_Finalize would wait for the silent rank forever. The process then
// aborts the job at exit instead, which ends every rank (the launcher kills
// the silent one), so a job with a dead or stopped rank always ends.
std::atomic<bool> g_broken{false};

void finalize_at_exit() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized) return;
  if (g_broken.load()) {
    std::fprintf(stderr,
                 "tessera MPI communicator: a collective timed out; ending the MPI job (MPI_Abort)\n");
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  MPI_Finalize();
}

std::string mpi_error(int code) {
  char text[MPI_MAX_ERROR_STRING] = {0};
  int len = 0;
  if (MPI_Error_string(code, text, &len) != MPI_SUCCESS) return "MPI error " + std::to_string(code);
  return std::string(text, static_cast<size_t>(len));
}

Status init_mpi() {
  std::lock_guard<std::mutex> lock(g_init_mu);
  int inited = 0, finalized = 0;
  MPI_Initialized(&inited);
  MPI_Finalized(&finalized);
  if (finalized) return tsr::make_error(TSR_ERR_DEVICE, "[comm_create] MPI was finalized in this process");
  if (inited) return Status::ok();
  // Core calls a communicator from one thread at a time, but not always the
  // same one (a server's worker threads): serialized, not funneled.
  int provided = 0;
  if (const int rc = MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided); rc != MPI_SUCCESS)
    return tsr::make_error(TSR_ERR_DEVICE, "[comm_create] MPI_Init_thread: {}", mpi_error(rc));
  if (provided < MPI_THREAD_SERIALIZED)
    return tsr::make_error(
        TSR_ERR_UNSUPPORTED,
        "[comm_create] this MPI gives thread level {}; Tessera needs MPI_THREAD_SERIALIZED ({})", provided,
        static_cast<int>(MPI_THREAD_SERIALIZED));
  std::atexit(finalize_at_exit);
  return Status::ok();
}

Result<MPI_Datatype> mpi_type(const char* op, int32_t dtype) {
  switch (dtype) {
    case TSR_DTYPE_F32:
      return MPI_FLOAT;
    case TSR_DTYPE_I32:
      return MPI_INT32_T;
    case TSR_DTYPE_F16:
    case TSR_DTYPE_BF16:
      return MPI_UINT16_T;  // moved, never reduced (see all_reduce_sum)
    default:
      return tsr::make_error(TSR_ERR_UNSUPPORTED, "[{}] dtype {} is not supported by the MPI communicator",
                             op, dtype);
  }
}

// Waits for req until the communicator's deadline. Spins first (collectives
// of a decode step take microseconds), then yields the core to the other
// ranks, which may share it (mpirun --oversubscribe).
Status wait(tsr_cm_comm c, MPI_Request* req, const char* op, const std::string& what) {
  const auto start = std::chrono::steady_clock::now();
  for (int spins = 0;; ++spins) {
    int done = 0;
    if (const int rc = MPI_Test(req, &done, MPI_STATUS_IGNORE); rc != MPI_SUCCESS)
      return tsr::make_error(TSR_ERR_DEVICE, "[{}] rank {} of {}, {}: {}", op, c->rank, c->size, what,
                             mpi_error(rc));
    if (done) return Status::ok();
    if (spins < 2000) continue;
    sched_yield();
    if ((spins & 255) != 0) continue;
    const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (waited > c->timeout) {
      // The request cannot complete; cancelling a collective is not allowed,
      // so it is left behind: the communicator is unusable from here on and
      // the caller ends the job (see finalize_at_exit).
      g_broken = true;
      return tsr::make_error(
          TSR_ERR_DEVICE,
          "[{}] rank {} of {}, {}: the other ranks did not answer within {} s (a rank died, "
          "stopped, or runs a different model or step)",
          op, c->rank, c->size, what, c->timeout);
    }
  }
}

Status started(tsr_cm_comm c, int rc, const char* op, const std::string& what) {
  if (rc == MPI_SUCCESS) return Status::ok();
  return tsr::make_error(TSR_ERR_DEVICE, "[{}] rank {} of {}, {}: {}", op, c->rank, c->size, what,
                         mpi_error(rc));
}

Result<int> checked_count(const char* op, uint64_t count) {
  if (count > static_cast<uint64_t>(INT32_MAX))
    return tsr::make_error(TSR_ERR_INVALID_ARGUMENT, "[{}] {} elements exceed MPI's int count", op, count);
  return static_cast<int>(count);
}

Status host_refs(const char* op, const tsr_comm_ref* a, const tsr_comm_ref* b) {
  if (!a || !a->host || (b && !b->host))
    return tsr::make_error(TSR_ERR_INVALID_ARGUMENT,
                           "[{}] the MPI communicator needs host memory (tsr_comm_ref.host)", op);
  return Status::ok();
}

tsr_status_code create(const tsr_comm_config* cfg, tsr_cm_comm* out, tsr_error* err) {
  return tsr::guarded("comm_create", err, [&]() -> Status {
    if (!cfg || !out) return tsr::invalid_arg("[comm_create] null config or out_comm");
    TSR_RETURN_IF_ERROR(init_mpi());
    auto c = std::make_unique<tsr_cm_comm_s>();
    if (cfg->timeout_seconds > 0) c->timeout = cfg->timeout_seconds;
    if (const int rc = MPI_Comm_dup(MPI_COMM_WORLD, &c->comm); rc != MPI_SUCCESS)
      return tsr::make_error(TSR_ERR_DEVICE, "[comm_create] MPI_Comm_dup: {}", mpi_error(rc));
    MPI_Comm_set_errhandler(c->comm, MPI_ERRORS_RETURN);
    MPI_Comm_rank(c->comm, &c->rank);
    MPI_Comm_size(c->comm, &c->size);
    if ((cfg->rank >= 0 && cfg->rank != c->rank) || (cfg->size >= 0 && cfg->size != c->size)) {
      const std::string msg = fmt::format(
          "[comm_create] asked for rank {} of {}, but the MPI launcher started this process as rank {} of {}",
          cfg->rank, cfg->size, c->rank, c->size);
      MPI_Comm_free(&c->comm);
      return tsr::make_error(TSR_ERR_INVALID_ARGUMENT, "{}", msg);
    }
    char version[MPI_MAX_LIBRARY_VERSION_STRING] = {0};
    int len = 0;
    MPI_Get_library_version(version, &len);
    std::string lib(version, static_cast<size_t>(len));
    if (const size_t nl = lib.find_first_of(",\n"); nl != std::string::npos) lib.resize(nl);
    char host[MPI_MAX_PROCESSOR_NAME] = {0};
    MPI_Get_processor_name(host, &len);
    c->about = fmt::format("{}; rank {} of {} on {}", lib, c->rank, c->size, std::string(host, len));
    *out = c.release();
    return Status::ok();
  });
}

void destroy(tsr_cm_comm c) {
  if (!c) return;
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized && c->comm != MPI_COMM_NULL) MPI_Comm_free(&c->comm);
  delete c;
}

int32_t rank(tsr_cm_comm c) { return c ? c->rank : -1; }
int32_t size(tsr_cm_comm c) { return c ? c->size : 0; }
const char* describe(tsr_cm_comm c) { return c ? c->about.c_str() : nullptr; }

// One MPI_Iallreduce. Every rank must end with the same bits
// (tessera_comm.h): the MPI standard asks implementations to give every
// process the same result, and Open MPI's and MPICH's algorithms (recursive
// doubling, ring: each chunk reduced once, then distributed) do.
tsr_status_code all_reduce_sum(tsr_cm_comm c, const tsr_comm_ref* send, const tsr_comm_ref* recv,
                               uint64_t count, int32_t dtype, tsr_bk_queue, tsr_error* err) {
  return tsr::guarded("all_reduce_sum", err, [&]() -> Status {
    TSR_RETURN_IF_ERROR(host_refs("all_reduce_sum", send, recv));
    if (dtype != TSR_DTYPE_F32 && dtype != TSR_DTYPE_I32)
      return tsr::make_error(TSR_ERR_UNSUPPORTED, "[all_reduce_sum] dtype {}: f32 and i32 only", dtype);
    auto t = mpi_type("all_reduce_sum", dtype);
    auto n = checked_count("all_reduce_sum", count);
    if (!t.is_ok()) return t.status();
    if (!n.is_ok()) return n.status();
    const std::string what = fmt::format("{} elements", count);
    MPI_Request req;
    const void* src = send->host == recv->host ? MPI_IN_PLACE : send->host;
    TSR_RETURN_IF_ERROR(started(c,
                                MPI_Iallreduce(src, recv->host, n.value(), t.value(), MPI_SUM, c->comm, &req),
                                "all_reduce_sum", what));
    return wait(c, &req, "all_reduce_sum", what);
  });
}

tsr_status_code all_gather(tsr_cm_comm c, const tsr_comm_ref* send, const tsr_comm_ref* recv, uint64_t count,
                           int32_t dtype, tsr_bk_queue, tsr_error* err) {
  return tsr::guarded("all_gather", err, [&]() -> Status {
    TSR_RETURN_IF_ERROR(host_refs("all_gather", send, recv));
    auto t = mpi_type("all_gather", dtype);
    auto n = checked_count("all_gather", count);
    if (!t.is_ok()) return t.status();
    if (!n.is_ok()) return n.status();
    const std::string what = fmt::format("{} elements per rank", count);
    MPI_Request req;
    TSR_RETURN_IF_ERROR(started(
        c, MPI_Iallgather(send->host, n.value(), t.value(), recv->host, n.value(), t.value(), c->comm, &req),
        "all_gather", what));
    return wait(c, &req, "all_gather", what);
  });
}

tsr_status_code broadcast(tsr_cm_comm c, const tsr_comm_ref* buf, uint64_t bytes, int32_t root, tsr_bk_queue,
                          tsr_error* err) {
  return tsr::guarded("broadcast", err, [&]() -> Status {
    TSR_RETURN_IF_ERROR(host_refs("broadcast", buf, nullptr));
    if (root < 0 || root >= c->size)
      return tsr::invalid_arg("[broadcast] root {} is not a rank of {}", root, c->size);
    auto n = checked_count("broadcast", bytes);
    if (!n.is_ok()) return n.status();
    const std::string what = fmt::format("{} bytes from rank {}", bytes, root);
    MPI_Request req;
    TSR_RETURN_IF_ERROR(
        started(c, MPI_Ibcast(buf->host, n.value(), MPI_BYTE, root, c->comm, &req), "broadcast", what));
    return wait(c, &req, "broadcast", what);
  });
}

// send and recv: one message of `bytes` to or from `peer`, tag 0, so
// messages between a pair match in order.
tsr_status_code point_to_point(const char* op, bool sending, tsr_cm_comm c, const tsr_comm_ref* buf,
                               uint64_t bytes, int32_t peer, tsr_error* err) {
  return tsr::guarded(op, err, [&]() -> Status {
    TSR_RETURN_IF_ERROR(host_refs(op, buf, nullptr));
    if (peer < 0 || peer >= c->size || peer == c->rank)
      return tsr::invalid_arg("[{}] peer {} is not another rank of {} (this is rank {})", op, peer, c->size,
                              c->rank);
    auto n = checked_count(op, bytes);
    if (!n.is_ok()) return n.status();
    const std::string what = fmt::format("{} bytes {} rank {}", bytes, sending ? "to" : "from", peer);
    MPI_Request req;
    const int rc = sending ? MPI_Isend(buf->host, n.value(), MPI_BYTE, peer, 0, c->comm, &req)
                           : MPI_Irecv(buf->host, n.value(), MPI_BYTE, peer, 0, c->comm, &req);
    TSR_RETURN_IF_ERROR(started(c, rc, op, what));
    return wait(c, &req, op, what);
  });
}

tsr_status_code send(tsr_cm_comm c, const tsr_comm_ref* buf, uint64_t bytes, int32_t peer, tsr_bk_queue,
                     tsr_error* err) {
  return point_to_point("send", true, c, buf, bytes, peer, err);
}

tsr_status_code recv(tsr_cm_comm c, const tsr_comm_ref* buf, uint64_t bytes, int32_t peer, tsr_bk_queue,
                     tsr_error* err) {
  return point_to_point("recv", false, c, buf, bytes, peer, err);
}

void abort_job(tsr_cm_comm c, int32_t code) {
  std::fprintf(stderr, "tessera MPI communicator: rank %d ends the job (MPI_Abort, code %d)\n",
               c ? c->rank : -1, code);
  std::fflush(stderr);
  MPI_Abort(c ? c->comm : MPI_COMM_WORLD, code);
}

// Host memory: no backend, no unique id (mpirun's environment bootstraps).
const tsr_comm_iface kIface =
    TSR_KIT_COMM_IFACE("mpi", TSR_COMM_MEMORY_HOST, nullptr, 0, nullptr, create, abort_job);

}  // namespace

extern "C" TSR_COMM_EXPORT tsr_status_code tsr_comm_entry(uint32_t host_abi_version,
                                                          const tsr_comm_iface** out, tsr_error* err) {
  if (host_abi_version != TSR_COMM_ABI_VERSION) {
    tsr::set_error(err, fmt::format("[comm_entry] built for communicator ABI {}, the host has {}",
                                    TSR_COMM_ABI_VERSION, host_abi_version));
    return TSR_ERR_ABI_MISMATCH;
  }
  if (!out) return TSR_ERR_INVALID_ARGUMENT;
  *out = &kIface;
  return TSR_OK;
}
