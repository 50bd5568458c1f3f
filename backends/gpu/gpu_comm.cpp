// NCCL / RCCL behind tessera_comm.h for the GPU backends' buffers and
// queues. RCCL is AMD's port of NCCL with the same C API, so one body serves
// both; only the library's name differs. The few types and constants used
// are NCCL's documented ABI (nccl.h), declared here so the backend builds
// without NCCL's headers and runs without its library.
//
// No call may wait forever (tessera_comm.h): each collective is enqueued on
// the node's stream, then the stream is polled together with the
// communicator's asynchronous error until the deadline; a collective still
// running then aborts the communicator (ncclCommAbort) and fails. Waiting
// per collective costs the overlap of a collective with the next kernels,
// which prepared subgraphs do not have across segments anyway. Not covered
// by the timeout: ncclCommInitRank and the connection setup NCCL does in
// the first collective block until every rank joins (a job under mpirun is
// ended by the launcher when a rank dies; non-blocking init is future work).
#include "gpu_comm.h"

#include <dlfcn.h>
#include <sched.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>

#include "gpu_internal.h"
#include "tessera/kit/abi_guard.h"
#include "tessera/kit/comm_glue.h"
#include "tessera/tessera_comm.h"

namespace tsr::gpu {
namespace {

// From nccl.h (NCCL 2.x; RCCL keeps them).
using NcclResult = int;  // ncclResult_t: 0 ncclSuccess, 7 ncclInProgress
using NcclComm = void*;  // ncclComm_t
struct NcclUniqueId {
  char internal[128];  // NCCL_UNIQUE_ID_BYTES
};
enum : int { kNcclInt32 = 2, kNcclFloat16 = 6, kNcclFloat32 = 7, kNcclSum = 0, kNcclInProgress = 7 };

struct NcclFns {
  NcclResult (*GetUniqueId)(NcclUniqueId*) = nullptr;
  NcclResult (*CommInitRank)(NcclComm*, int, NcclUniqueId, int) = nullptr;
  NcclResult (*CommDestroy)(NcclComm) = nullptr;
  NcclResult (*CommAbort)(NcclComm) = nullptr;
  NcclResult (*CommGetAsyncError)(NcclComm, NcclResult*) = nullptr;
  NcclResult (*AllReduce)(const void*, void*, size_t, int, int, NcclComm, void*) = nullptr;
  NcclResult (*AllGather)(const void*, void*, size_t, int, NcclComm, void*) = nullptr;
  NcclResult (*Broadcast)(const void*, void*, size_t, int, int, NcclComm, void*) = nullptr;
  NcclResult (*Send)(const void*, size_t, int, int, NcclComm, void*) = nullptr;
  NcclResult (*Recv)(void*, size_t, int, int, NcclComm, void*) = nullptr;
  const char* (*GetErrorString)(NcclResult) = nullptr;
};

// One vendor's library: its name and the backend it serves.
struct Vendor {
  const char* comm_name;  // "nccl"
  const char* backend;    // "cuda"
  const char* files[2];   // tried in order
};
constexpr Vendor kVendors[] = {{"nccl", "cuda", {"libnccl.so.2", "libnccl.so"}},
                               {"rccl", "hip", {"librccl.so.1", "librccl.so"}}};

template <int V>
bool open_library(void** lib, NcclFns* f, std::string* why) {
  const Vendor& v = kVendors[V];
  for (const char* file : v.files)
    if ((*lib = dlopen(file, RTLD_NOW | RTLD_LOCAL))) break;
  if (!*lib) {
    *why = std::string(v.files[0]) + " not found";
    return false;
  }
  // RCCL must use the HIP runtime the HIP backend opened (libamdhip64.so.5):
  // a library built for another ROCm would bring a second runtime whose
  // streams and pointers are not the backend's.
  if (std::string(v.backend) == "hip") {
    void* ours = dlopen("libamdhip64.so.5", RTLD_NOW | RTLD_NOLOAD);
    void* theirs = dlsym(*lib, "hipStreamQuery");
    if (!ours || theirs != dlsym(ours, "hipStreamQuery")) {
      *why = std::string(v.files[0]) + " uses another HIP runtime than libamdhip64.so.5";
      return false;
    }
  }
  // NCCL and RCCL both export the nccl* names.
  auto sym = [&](auto& fn, const char* name) {
    fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(*lib, name));
    if (!fn) *why = std::string(v.files[0]) + " has no " + name;
    return fn != nullptr;
  };
  return sym(f->GetUniqueId, "ncclGetUniqueId") && sym(f->CommInitRank, "ncclCommInitRank") &&
         sym(f->CommDestroy, "ncclCommDestroy") && sym(f->CommAbort, "ncclCommAbort") &&
         sym(f->CommGetAsyncError, "ncclCommGetAsyncError") && sym(f->AllReduce, "ncclAllReduce") &&
         sym(f->AllGather, "ncclAllGather") && sym(f->Broadcast, "ncclBroadcast") &&
         sym(f->Send, "ncclSend") && sym(f->Recv, "ncclRecv") && sym(f->GetErrorString, "ncclGetErrorString");
}

// Opened once per process per vendor and never closed (as the drivers:
// gpu_driver.h, load_once); null when the library is missing.
template <int V>
const NcclFns* library() {
  static NcclFns fns;
  static const bool ok = [] {
    void* lib = nullptr;
    std::string why;
    return open_library<V>(&lib, &fns, &why);
  }();
  return ok ? &fns : nullptr;
}

}  // namespace
}  // namespace tsr::gpu

// The communicator behind tsr_cm_comm: one NCCL communicator on one device.
struct tsr_cm_comm_s {
  const tsr::gpu::NcclFns* f = nullptr;
  tsr::gpu::NcclComm comm = nullptr;
  tsr::gpu::DeviceState* dev = nullptr;
  int rank = 0, size = 1;
  double timeout = 60.0;
  bool aborted = false;
  bool failed = false;  // an error was seen: destroy aborts instead (NCCL's advice for a failed comm)
  std::string about;
};

namespace tsr::gpu {
namespace {

Status nccl_check(tsr_cm_comm c, const NcclFns* f, NcclResult r, const char* call) {
  if (r == 0) return Status::ok();
  return make_error(TSR_ERR_DEVICE, "[{}] rank {} of {}: {}", call, c ? c->rank : -1, c ? c->size : 0,
                    f->GetErrorString ? f->GetErrorString(r) : std::to_string(r));
}

Result<int> nccl_type(int32_t dtype) {
  switch (dtype) {
    case TSR_DTYPE_F32:
      return static_cast<int>(kNcclFloat32);
    case TSR_DTYPE_F16:
      return static_cast<int>(kNcclFloat16);
    case TSR_DTYPE_I32:
      return static_cast<int>(kNcclInt32);
    default:
      return make_error(TSR_ERR_UNSUPPORTED, "[collective] dtype {} is not f32, f16 or i32", dtype);
  }
}

// Waits for queue q (where the collective was enqueued) until the deadline,
// watching the communicator for an asynchronous error (a peer gone).
Status finish(tsr_cm_comm c, tsr_bk_queue q, const char* op, uint64_t bytes) {
  Queue* queue = impl(q);
  const auto start = std::chrono::steady_clock::now();
  for (int spins = 0;;) {
    bool done = false;
    TSR_RETURN_IF_ERROR(c->dev->drv->stream_done(queue->s, &done));
    if (done) return Status::ok();
    NcclResult async = 0;
    TSR_RETURN_IF_ERROR(
        nccl_check(c, c->f, c->f->CommGetAsyncError(c->comm, &async), "ncclCommGetAsyncError"));
    const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if ((async != 0 && async != kNcclInProgress) || waited > c->timeout) {
      c->f->CommAbort(c->comm);  // unblocks the stream; the communicator is gone
      c->aborted = true;
      return make_error(TSR_ERR_DEVICE, "[{}] rank {} of {}, {} bytes: {}", op, c->rank, c->size, bytes,
                        async != 0 && async != kNcclInProgress
                            ? std::string(c->f->GetErrorString(async))
                            : fmt::format("the other ranks did not answer within {} s", c->timeout));
    }
    if (spins < 1000) {
      ++spins;
    } else {
      sched_yield();
    }
  }
}

uint64_t elt_bytes(int32_t dtype) { return dtype == TSR_DTYPE_F16 ? 2 : 4; }

Result<const void*> device_ptr(const tsr_comm_ref* r, const char* op) {
  if (!r || !r->buffer)
    return invalid_arg("[{}] the device communicator needs a buffer (tsr_comm_ref.buffer)", op);
  return reinterpret_cast<const void*>(static_cast<uintptr_t>(impl(r->buffer)->ptr + r->offset));
}

// Runs a collective: arguments checked, the device bound, `enqueue` called,
// then waited for (finish).
template <typename F>
tsr_status_code run(const char* op, tsr_cm_comm c, tsr_bk_queue q, uint64_t bytes, tsr_error* err,
                    F&& enqueue) {
  return guarded(op, err, [&]() -> Status {
    if (!c || !q) return invalid_arg("[{}] null communicator or queue", op);
    if (c->aborted)
      return make_error(TSR_ERR_DEVICE, "[{}] the communicator was aborted after a failure", op);
    Status s = c->dev->bind();
    if (s.is_ok()) s = enqueue(impl(q)->s);
    if (s.is_ok()) s = finish(c, q, op, bytes);
    if (!s.is_ok()) c->failed = true;
    return s;
  });
}

template <int V>
tsr_status_code make_unique_id(void* out, tsr_error* err) {
  return guarded("make_unique_id", err, [&]() -> Status {
    const NcclFns* f = library<V>();
    if (!f) return make_error(TSR_ERR_NOT_FOUND, "[make_unique_id] {} not found", kVendors[V].files[0]);
    NcclUniqueId id{};
    TSR_RETURN_IF_ERROR(nccl_check(nullptr, f, f->GetUniqueId(&id), "ncclGetUniqueId"));
    std::memcpy(out, &id, sizeof id);
    return Status::ok();
  });
}

template <int V>
tsr_status_code create(const tsr_comm_config* cfg, tsr_cm_comm* out, tsr_error* err) {
  return guarded("comm_create", err, [&]() -> Status {
    const NcclFns* f = library<V>();
    if (!f) return make_error(TSR_ERR_NOT_FOUND, "[comm_create] {} not found", kVendors[V].files[0]);
    if (!cfg || !out || !cfg->device || !cfg->unique_id || cfg->size < 1 || cfg->rank < 0 ||
        cfg->rank >= cfg->size)
      return invalid_arg("[comm_create] {} needs a device, a unique id and a rank in [0, size)",
                         kVendors[V].comm_name);
    auto c = std::make_unique<tsr_cm_comm_s>();
    c->f = f;
    c->dev = impl(cfg->device)->d.get();
    c->rank = cfg->rank;
    c->size = cfg->size;
    if (cfg->timeout_seconds > 0) c->timeout = cfg->timeout_seconds;
    NcclUniqueId id;
    std::memcpy(&id, cfg->unique_id, sizeof id);
    TSR_RETURN_IF_ERROR(c->dev->bind());
    TSR_RETURN_IF_ERROR(
        nccl_check(c.get(), f, f->CommInitRank(&c->comm, c->size, id, c->rank), "ncclCommInitRank"));
    c->about =
        fmt::format("{}; rank {} of {} on {}", kVendors[V].comm_name, c->rank, c->size, c->dev->info.name);
    *out = c.release();
    return Status::ok();
  });
}

void destroy(tsr_cm_comm c) {
  if (!c) return;
  if (c->comm && !c->aborted && c->dev->bind().is_ok()) {
    if (c->failed) {
      c->f->CommAbort(c->comm);
    } else {
      c->f->CommDestroy(c->comm);
    }
  }
  delete c;
}

int32_t rank(tsr_cm_comm c) { return c ? c->rank : -1; }
int32_t size(tsr_cm_comm c) { return c ? c->size : 0; }
const char* describe(tsr_cm_comm c) { return c ? c->about.c_str() : nullptr; }

tsr_status_code all_reduce_sum(tsr_cm_comm c, const tsr_comm_ref* send, const tsr_comm_ref* recv,
                               uint64_t count, int32_t dtype, tsr_bk_queue q, tsr_error* err) {
  return run("all_reduce_sum", c, q, count * elt_bytes(dtype), err, [&](Stream s) -> Status {
    auto t = nccl_type(dtype);
    auto a = device_ptr(send, "all_reduce_sum");
    auto b = device_ptr(recv, "all_reduce_sum");
    if (!t.is_ok()) return t.status();
    if (!a.is_ok()) return a.status();
    if (!b.is_ok()) return b.status();
    return nccl_check(
        c, c->f,
        c->f->AllReduce(a.value(), const_cast<void*>(b.value()), count, t.value(), kNcclSum, c->comm, s),
        "ncclAllReduce");
  });
}

tsr_status_code all_gather(tsr_cm_comm c, const tsr_comm_ref* send, const tsr_comm_ref* recv, uint64_t count,
                           int32_t dtype, tsr_bk_queue q, tsr_error* err) {
  return run("all_gather", c, q, count * elt_bytes(dtype) * (c ? c->size : 1), err, [&](Stream s) -> Status {
    auto t = nccl_type(dtype);
    auto a = device_ptr(send, "all_gather");
    auto b = device_ptr(recv, "all_gather");
    if (!t.is_ok()) return t.status();
    if (!a.is_ok()) return a.status();
    if (!b.is_ok()) return b.status();
    return nccl_check(c, c->f,
                      c->f->AllGather(a.value(), const_cast<void*>(b.value()), count, t.value(), c->comm, s),
                      "ncclAllGather");
  });
}

// Bytes move as int8 (ncclInt8 = 0): counts in bytes.
tsr_status_code broadcast(tsr_cm_comm c, const tsr_comm_ref* buf, uint64_t bytes, int32_t root,
                          tsr_bk_queue q, tsr_error* err) {
  return run("broadcast", c, q, bytes, err, [&](Stream s) -> Status {
    auto p = device_ptr(buf, "broadcast");
    if (!p.is_ok()) return p.status();
    if (root < 0 || root >= c->size)
      return invalid_arg("[broadcast] root {} is not a rank of {}", root, c->size);
    void* d = const_cast<void*>(p.value());
    return nccl_check(c, c->f, c->f->Broadcast(d, d, bytes, 0, root, c->comm, s), "ncclBroadcast");
  });
}

tsr_status_code send(tsr_cm_comm c, const tsr_comm_ref* buf, uint64_t bytes, int32_t peer, tsr_bk_queue q,
                     tsr_error* err) {
  return run("send", c, q, bytes, err, [&](Stream s) -> Status {
    auto p = device_ptr(buf, "send");
    if (!p.is_ok()) return p.status();
    return nccl_check(c, c->f, c->f->Send(p.value(), bytes, 0, peer, c->comm, s), "ncclSend");
  });
}

tsr_status_code recv(tsr_cm_comm c, const tsr_comm_ref* buf, uint64_t bytes, int32_t peer, tsr_bk_queue q,
                     tsr_error* err) {
  return run("recv", c, q, bytes, err, [&](Stream s) -> Status {
    auto p = device_ptr(buf, "recv");
    if (!p.is_ok()) return p.status();
    return nccl_check(c, c->f, c->f->Recv(const_cast<void*>(p.value()), bytes, 0, peer, c->comm, s),
                      "ncclRecv");
  });
}

template <int V>
constexpr tsr_comm_iface make_table() {
  // abort: none, the job is ended through the host communicator.
  return TSR_KIT_COMM_IFACE(kVendors[V].comm_name, TSR_COMM_MEMORY_DEVICE, kVendors[V].backend,
                            sizeof(NcclUniqueId), make_unique_id<V>, create<V>, nullptr);
}

constexpr tsr_comm_iface kTables[] = {make_table<0>(), make_table<1>()};

template <int V>
bool available() {
  return library<V>() != nullptr;
}

}  // namespace

const tsr_comm_iface* device_comm(tsr_bk_instance instance) {
  const Instance* inst = impl(instance);
  if (!inst) return nullptr;
  if (const char* e = std::getenv("TESSERA_GPU_COLLECTIVES"); e && std::string(e) == "0") return nullptr;
  if (inst->backend == kVendors[0].backend) return available<0>() ? &kTables[0] : nullptr;
  if (inst->backend == kVendors[1].backend) return available<1>() ? &kTables[1] : nullptr;
  return nullptr;  // the emulator: no collective library
}

}  // namespace tsr::gpu
