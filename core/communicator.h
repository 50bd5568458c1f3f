// A context's communicator (tessera_comm.h): the collective library a
// tensor-parallel job runs on, loaded at run time, plus the host-memory
// collectives core and the LLM layer call between ranks.
//
//   auto c = tsr::Communicator::open("mpi", 60.0);   // libtessera-comm-mpi.so
//   if (!c.is_ok()) return c.status();              // "[comm] ... not found: ..."
//   float x[4] = {...};
//   TSR_RETURN_IF_ERROR(c.value()->all_reduce_sum_host(x, x, 4, TSR_DTYPE_F32));
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "tessera/kit/status.h"
#include "tessera/tessera_comm.h"

namespace tsr {

struct Device;

// A backend's own collectives on one of its devices (NCCL on a CUDA device).
struct DeviceComm {
  const tsr_comm_iface* iface = nullptr;
  tsr_cm_comm comm = nullptr;
};

class Communicator {
 public:
  // name: "mpi" (the library tessera-comm-mpi, looked up in
  // $TESSERA_COMM_PATH, next to libtessera, in its install and build
  // directories) or a path to a communicator library. timeout_seconds <= 0:
  // 60 s. Errors name what was looked for and where.
  static Result<std::unique_ptr<Communicator>> open(const std::string& name, double timeout_seconds);
  ~Communicator();
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;

  const tsr_comm_iface& iface() const { return *iface_; }
  tsr_cm_comm handle() const { return comm_; }
  int32_t rank() const { return rank_; }
  int32_t size() const { return size_; }
  const std::string& name() const { return name_; }
  std::string describe() const;

  // Host memory; only for host communicators (memory == TSR_COMM_MEMORY_HOST).
  Status all_reduce_sum_host(const void* send, void* recv, uint64_t count, int32_t dtype);
  Status all_gather_host(const void* send, void* recv, uint64_t count, int32_t dtype);
  Status broadcast_host(void* buf, uint64_t bytes, int32_t root);
  // Ends the job on every rank (tsr_comm_iface::abort); nothing when the
  // library has no abort.
  void abort(int32_t code);

  // The device communicator for a compile whose collectives run on
  // registry device `index` on this rank (its backend's
  // tsr_backend_iface::device_comm), or null: collectives then stage
  // through the host. A collective call, once per compile of a graph with
  // collectives on every rank (all ranks compile the same graphs in the same
  // order): the ranks exchange what they have, and a device communicator is
  // used only when every rank's collectives run on one device each with the
  // same library and every rank agrees on whether it is already open. It is
  // opened on first use (rank 0's unique id broadcast, then every rank's
  // create status gathered: one failure leaves all on the host path) and
  // kept until this object goes. index < 0: this rank's collectives span
  // several devices (host path).
  Result<const DeviceComm*> device_comm(int32_t index, const Device* dev);

 private:
  Communicator() = default;
  void* dl_ = nullptr;
  const tsr_comm_iface* iface_ = nullptr;
  tsr_cm_comm comm_ = nullptr;
  int32_t rank_ = 0, size_ = 1;
  double timeout_ = 0;
  std::string name_;
  std::map<int32_t, std::unique_ptr<DeviceComm>> device_comms_;  // null: not available on every rank
};

}  // namespace tsr
