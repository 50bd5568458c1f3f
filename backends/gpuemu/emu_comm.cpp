// A device communicator for the emulator, for tests: the emulator's device
// memory is host memory, so its collectives forward to a host communicator
// library (TESSERA_GPUEMU_COMM: the path of libtessera-comm-mpi.so). With it,
// core's device-collective path (the ranks agreeing on a library, rank 0's
// unique id broadcast, create statuses gathered, collectives in place on the
// device's queue) runs in CI between real processes, where NCCL cannot.
// Without the variable the emulator offers none, like a GPU without NCCL.
#include <dlfcn.h>

#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "gpu_internal.h"
#include "tessera/kit/abi_guard.h"
#include "tessera/kit/comm_glue.h"
#include "tessera/tessera_comm.h"

namespace tsr::gpu::emu_comm {
namespace {

constexpr uint32_t kIdBytes = 16;

// The host communicator everything forwards to (opened once, never closed).
const tsr_comm_iface* host_iface() {
  static const tsr_comm_iface* iface = []() -> const tsr_comm_iface* {
    const char* path = std::getenv("TESSERA_GPUEMU_COMM");
    if (!path || !*path) return nullptr;
    void* lib = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    auto entry = lib ? reinterpret_cast<tsr_comm_entry_fn>(dlsym(lib, TSR_COMM_ENTRY_SYMBOL)) : nullptr;
    const tsr_comm_iface* out = nullptr;
    tsr_error err{};
    return entry && entry(TSR_COMM_ABI_VERSION, &out, &err) == TSR_OK ? out : nullptr;
  }();
  return iface;
}

struct EmuComm {
  tsr_cm_comm inner = nullptr;
  int rank = 0, size = 1;
  std::string about;
};
EmuComm* of(tsr_cm_comm c) { return reinterpret_cast<EmuComm*>(c); }

// The emulator's device addresses are host addresses.
tsr_comm_ref host_ref(const tsr_comm_ref* r) {
  if (!r || !r->buffer) return {};
  return {reinterpret_cast<void*>(static_cast<uintptr_t>(impl(r->buffer)->ptr + r->offset)), nullptr, 0};
}

tsr_status_code make_unique_id(void* out, tsr_error*) {
  std::random_device rd;
  for (uint32_t i = 0; i < kIdBytes; ++i)
    static_cast<unsigned char*>(out)[i] = static_cast<unsigned char>(rd());
  return TSR_OK;
}

tsr_status_code create(const tsr_comm_config* cfg, tsr_cm_comm* out, tsr_error* err) {
  return guarded("comm_create", err, [&]() -> Status {
    const tsr_comm_iface* h = host_iface();
    if (!h || !cfg || !cfg->unique_id || !cfg->device)
      return invalid_arg("[comm_create] emu-mpi: bad config");
    auto c = std::make_unique<EmuComm>();
    const tsr_comm_config hc{sizeof(tsr_comm_config), cfg->rank, cfg->size,
                             cfg->timeout_seconds,    nullptr,   nullptr};
    tsr_error e{};
    if (h->create(&hc, &c->inner, &e) != TSR_OK) return make_error(TSR_ERR_DEVICE, "{}", e.message);
    c->rank = cfg->rank;
    c->size = cfg->size;
    // Every rank must hold rank 0's id: what core's broadcast promised.
    std::vector<unsigned char> ids(static_cast<size_t>(kIdBytes) * c->size);
    tsr_comm_ref mine{const_cast<void*>(cfg->unique_id), nullptr, 0}, all{ids.data(), nullptr, 0};
    if (h->all_gather(c->inner, &mine, &all, kIdBytes / 4, TSR_DTYPE_I32, nullptr, &e) != TSR_OK) {
      h->destroy(c->inner);
      return make_error(TSR_ERR_DEVICE, "{}", e.message);
    }
    for (int r = 1; r < c->size; ++r)
      if (std::memcmp(ids.data(), ids.data() + r * kIdBytes, kIdBytes) != 0) {
        h->destroy(c->inner);
        return make_error(TSR_ERR_DEVICE,
                          "[comm_create] emu-mpi: rank {} holds another unique id than rank 0", r);
      }
    c->about = fmt::format("emu-mpi; rank {} of {}", c->rank, c->size);
    *out = reinterpret_cast<tsr_cm_comm>(c.release());
    return Status::ok();
  });
}

void destroy(tsr_cm_comm c) {
  if (!c) return;
  host_iface()->destroy(of(c)->inner);
  delete of(c);
}
int32_t rank(tsr_cm_comm c) { return of(c)->rank; }
int32_t size(tsr_cm_comm c) { return of(c)->size; }
const char* describe(tsr_cm_comm c) { return of(c)->about.c_str(); }

// The emulator runs kernels as they are queued: the queue has no work left.
tsr_status_code all_reduce_sum(tsr_cm_comm c, const tsr_comm_ref* send, const tsr_comm_ref* recv,
                               uint64_t count, int32_t dtype, tsr_bk_queue, tsr_error* err) {
  const tsr_comm_ref s = host_ref(send), r = host_ref(recv);
  return host_iface()->all_reduce_sum(of(c)->inner, &s, &r, count, dtype, nullptr, err);
}
tsr_status_code all_gather(tsr_cm_comm c, const tsr_comm_ref* send, const tsr_comm_ref* recv, uint64_t count,
                           int32_t dtype, tsr_bk_queue, tsr_error* err) {
  const tsr_comm_ref s = host_ref(send), r = host_ref(recv);
  return host_iface()->all_gather(of(c)->inner, &s, &r, count, dtype, nullptr, err);
}
tsr_status_code broadcast(tsr_cm_comm c, const tsr_comm_ref* buf, uint64_t bytes, int32_t root, tsr_bk_queue,
                          tsr_error* err) {
  const tsr_comm_ref b = host_ref(buf);
  return host_iface()->broadcast(of(c)->inner, &b, bytes, root, nullptr, err);
}
tsr_status_code send(tsr_cm_comm c, const tsr_comm_ref* buf, uint64_t bytes, int32_t peer, tsr_bk_queue,
                     tsr_error* err) {
  const tsr_comm_ref b = host_ref(buf);
  return host_iface()->send(of(c)->inner, &b, bytes, peer, nullptr, err);
}
tsr_status_code recv(tsr_cm_comm c, const tsr_comm_ref* buf, uint64_t bytes, int32_t peer, tsr_bk_queue,
                     tsr_error* err) {
  const tsr_comm_ref b = host_ref(buf);
  return host_iface()->recv(of(c)->inner, &b, bytes, peer, nullptr, err);
}

const tsr_comm_iface kTable = TSR_KIT_COMM_IFACE("emu-mpi", TSR_COMM_MEMORY_DEVICE, "gpuemu", kIdBytes,
                                                 make_unique_id, create, nullptr);

}  // namespace

const tsr_comm_iface* device_comm(tsr_bk_instance) { return host_iface() ? &kTable : nullptr; }

}  // namespace tsr::gpu::emu_comm
