// Loading a communicator library and the host collectives on top of it.
#include "core/communicator.h"

#include <dlfcn.h>

#include <cctype>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "core/registry.h"

namespace tsr {
namespace {

// Directories a communicator named by its short name is looked for in.
std::vector<std::string> search_dirs() {
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("TESSERA_COMM_PATH"); env && *env) {
    std::string s = env;
    for (size_t start = 0; start <= s.size();) {
      const size_t end = s.find(':', start);
      const std::string d = s.substr(start, end == std::string::npos ? std::string::npos : end - start);
      if (!d.empty()) dirs.push_back(d);
      if (end == std::string::npos) break;
      start = end + 1;
    }
  }
  // Next to the module holding core (libtessera.so, or a statically linked
  // tool), then the install and build trees this copy was configured for.
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&search_dirs), &info) && info.dli_fname) {
    std::string self = info.dli_fname;
    const size_t slash = self.rfind('/');
    if (slash != std::string::npos) {
      dirs.push_back(self.substr(0, slash) + "/tessera");
      dirs.push_back(self.substr(0, slash));
    }
  }
#ifdef TESSERA_COMM_INSTALL_DIR
  dirs.push_back(TESSERA_COMM_INSTALL_DIR);
#endif
#ifdef TESSERA_COMM_BUILD_DIR
  dirs.push_back(TESSERA_COMM_BUILD_DIR);
#endif
  return dirs;
}

Result<void*> open_library(const std::string& name) {
  if (name.find('/') != std::string::npos) {
    void* h = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    if (!h) {
      const char* e = dlerror();
      return make_error(TSR_ERR_IO, "[comm] cannot load '{}': {}", name, e ? e : "dlopen failed");
    }
    return h;
  }
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'))
      return invalid_arg("[comm] '{}' is not a communicator name (letters, digits, '-', '_') or a path",
                         name);
  const std::string file = "libtessera-comm-" + name + ".so";
  std::string tried, errors;
  for (const std::string& d : search_dirs()) {
    const std::string path = d + "/" + file;
    tried += (tried.empty() ? "" : ", ") + d;
    if (FILE* f = std::fopen(path.c_str(), "rb")) {
      std::fclose(f);
    } else {
      continue;
    }
    // NODELETE: an MPI library finalizes from atexit, so its code must stay.
    if (void* h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE)) return h;
    const char* e = dlerror();
    errors += fmt::format("; {}: {}", path, e ? e : "dlopen failed");
  }
  return make_error(
      TSR_ERR_NOT_FOUND,
      "[comm] communicator '{}' ({}) not found or not loadable; looked in {} (set TESSERA_COMM_PATH "
      "or build with the {} library present){}",
      name, file, tried.empty() ? "no directory" : tried, name, errors);
}

}  // namespace

Result<std::unique_ptr<Communicator>> Communicator::open(const std::string& name, double timeout_seconds) {
  auto lib = open_library(name);
  if (!lib.is_ok()) return lib.status();
  std::unique_ptr<Communicator> c(new Communicator());
  c->dl_ = lib.value();
  c->name_ = name;
  auto entry = reinterpret_cast<tsr_comm_entry_fn>(dlsym(c->dl_, TSR_COMM_ENTRY_SYMBOL));
  if (!entry)
    return make_error(TSR_ERR_NOT_FOUND, "[comm] '{}' is not a Tessera communicator: it does not export {}",
                      name, TSR_COMM_ENTRY_SYMBOL);
  tsr_error err{};
  const tsr_comm_iface* iface = nullptr;
  if (const tsr_status_code rc = entry(TSR_COMM_ABI_VERSION, &iface, &err); rc != TSR_OK)
    return make_error(rc == TSR_ERR_ABI_MISMATCH ? TSR_ERR_ABI_MISMATCH : TSR_ERR_DEVICE, "[comm] '{}': {}",
                      name, backend_error(err, TSR_COMM_ENTRY_SYMBOL));
  // Version 1's entries up to recv are all required: a table too short for
  // them, or with any missing, is refused here rather than crashing in a
  // collective. Appended entries (abort) are optional.
  if (!iface || iface->struct_size < offsetof(tsr_comm_iface, abort) ||
      iface->abi_version != TSR_COMM_ABI_VERSION)
    return make_error(TSR_ERR_ABI_MISMATCH,
                      "[comm] '{}': table of {} bytes for ABI {}, core needs {} bytes, ABI {}", name,
                      iface ? iface->struct_size : 0, iface ? iface->abi_version : 0,
                      offsetof(tsr_comm_iface, abort), TSR_COMM_ABI_VERSION);
  if (!iface->create || !iface->destroy || !iface->rank || !iface->size || !iface->all_reduce_sum ||
      !iface->all_gather || !iface->broadcast || !iface->send || !iface->recv)
    return make_error(TSR_ERR_ABI_MISMATCH, "[comm] '{}' leaves a required entry NULL", name);
  if (iface->memory != TSR_COMM_MEMORY_HOST)
    return make_error(
        TSR_ERR_UNSUPPORTED,
        "[comm] '{}' is a device communicator (for backend '{}'); a context opens a host communicator "
        "first, device ones are opened per device by it",
        name, iface->backend ? iface->backend : "?");
  c->iface_ = iface;
  c->timeout_ = timeout_seconds;
  tsr_comm_config cfg{sizeof(tsr_comm_config), -1, -1, timeout_seconds, nullptr, nullptr};
  if (const tsr_status_code rc = iface->create(&cfg, &c->comm_, &err); rc != TSR_OK)
    return make_error(rc, "[comm] '{}': {}", name, backend_error(err, "create"));
  c->rank_ = iface->rank(c->comm_);
  c->size_ = iface->size(c->comm_);
  if (c->size_ < 1 || c->rank_ < 0 || c->rank_ >= c->size_)
    return make_error(TSR_ERR_DEVICE, "[comm] '{}' reports rank {} of {}", name, c->rank_, c->size_);
  return c;
}

namespace {

// The device collective library a backend offers for dev, or null when it
// offers none core can use.
const tsr_comm_iface* usable_device_comm(const Device& dev) {
  const auto entry = dev.backend->device_comm();
  const tsr_comm_iface* ci = entry ? entry(dev.backend->instance()) : nullptr;
  if (!ci || ci->struct_size < offsetof(tsr_comm_iface, abort) || ci->abi_version != TSR_COMM_ABI_VERSION ||
      ci->memory != TSR_COMM_MEMORY_DEVICE || !ci->backend || dev.backend->name() != ci->backend ||
      !ci->name || !ci->create || !ci->destroy || !ci->all_reduce_sum || !ci->all_gather ||
      (ci->unique_id_size > 0 && !ci->make_unique_id) || ci->unique_id_size > 4096)
    return nullptr;
  return ci;
}

int32_t name_hash(const char* a, const char* b) {
  uint32_t h = 2166136261u;
  for (const char* s : {a, "/", b})
    for (; *s; ++s) h = (h ^ static_cast<unsigned char>(*s)) * 16777619u;
  return static_cast<int32_t>(h & 0x7fffffff);
}

}  // namespace

Result<const DeviceComm*> Communicator::device_comm(int32_t index, const Device* dev) {
  const tsr_comm_iface* ci = index >= 0 && dev ? usable_device_comm(*dev) : nullptr;
  auto cached = index >= 0 ? device_comms_.find(index) : device_comms_.end();
  // What this rank has: a library (its identity and id size), and whether
  // its communicator for this device is open already.
  const int32_t mine[4] = {ci ? 1 : 0, ci ? name_hash(ci->name, ci->backend) : 0,
                           ci ? static_cast<int32_t>(ci->unique_id_size) : 0,
                           cached != device_comms_.end() ? 1 : 0};
  std::vector<int32_t> all(4 * static_cast<size_t>(size_));
  TSR_RETURN_IF_ERROR(all_gather_host(mine, all.data(), 4, TSR_DTYPE_I32));
  for (int32_t r = 0; r < size_; ++r)
    if (all[4 * r] != 1 || all[4 * r + 1] != mine[1] || all[4 * r + 2] != mine[2] ||
        all[4 * r + 3] != mine[3])
      return static_cast<const DeviceComm*>(nullptr);
  if (cached != device_comms_.end()) return static_cast<const DeviceComm*>(cached->second.get());

  // Open it: rank 0's id (with its status, so a failure there fails every
  // rank alike), then every rank's create status.
  std::vector<unsigned char> msg(4 + ci->unique_id_size, 0);
  tsr_error err{};
  std::string why;
  if (rank_ == 0 && ci->unique_id_size > 0 && ci->make_unique_id(msg.data() + 4, &err) != TSR_OK) {
    msg[0] = 1;
    why = backend_error(err, "make_unique_id");
  }
  TSR_RETURN_IF_ERROR(broadcast_host(msg.data(), msg.size(), 0));
  auto dc = std::make_unique<DeviceComm>();
  dc->iface = ci;
  int32_t failed = msg[0];
  if (!failed) {
    const tsr_comm_config cfg{sizeof(tsr_comm_config), rank_, size_, timeout_, dev->handle, msg.data() + 4};
    if (ci->create(&cfg, &dc->comm, &err) != TSR_OK) {
      failed = 1;
      why = backend_error(err, "create");
    }
  }
  std::vector<int32_t> statuses(static_cast<size_t>(size_));
  TSR_RETURN_IF_ERROR(all_gather_host(&failed, statuses.data(), 1, TSR_DTYPE_I32));
  int32_t first_failed = -1;
  for (int32_t r = 0; r < size_ && first_failed < 0; ++r)
    if (statuses[r]) first_failed = r;
  if (first_failed >= 0) {
    if (dc->comm) ci->destroy(dc->comm);
    // Every rank saw the same statuses: all fall back to the host path
    // (cached, so later compiles agree too) rather than fail one rank.
    device_comms_[index] = nullptr;
    if (!why.empty())
      std::fprintf(stderr, "tessera: %s on %s: %s; collectives stage through the host\n", ci->name,
                   dev->name.c_str(), why.c_str());
    return static_cast<const DeviceComm*>(nullptr);
  }
  const DeviceComm* out = dc.get();
  device_comms_[index] = std::move(dc);
  return out;
}

Communicator::~Communicator() {
  for (auto& [index, dc] : device_comms_)
    if (dc && dc->comm) dc->iface->destroy(dc->comm);
  if (iface_ && comm_) iface_->destroy(comm_);
  // dl_ stays loaded (RTLD_NODELETE): see open_library.
}

void Communicator::abort(int32_t code) {
  constexpr size_t end = offsetof(tsr_comm_iface, abort) + sizeof(iface_->abort);
  if (iface_->struct_size >= end && iface_->abort) iface_->abort(comm_, code);
}

std::string Communicator::describe() const {
  const char* d = iface_->describe ? iface_->describe(comm_) : nullptr;
  return d ? std::string(d) : fmt::format("{}: rank {} of {}", name_, rank_, size_);
}

Status Communicator::all_reduce_sum_host(const void* send, void* recv, uint64_t count, int32_t dtype) {
  tsr_comm_ref s{const_cast<void*>(send), nullptr, 0}, r{recv, nullptr, 0};
  tsr_error err{};
  if (const tsr_status_code rc = iface_->all_reduce_sum(comm_, &s, &r, count, dtype, nullptr, &err);
      rc != TSR_OK)
    return make_error(rc, "{}", backend_error(err, "all_reduce_sum"));
  return Status::ok();
}

Status Communicator::all_gather_host(const void* send, void* recv, uint64_t count, int32_t dtype) {
  tsr_comm_ref s{const_cast<void*>(send), nullptr, 0}, r{recv, nullptr, 0};
  tsr_error err{};
  if (const tsr_status_code rc = iface_->all_gather(comm_, &s, &r, count, dtype, nullptr, &err); rc != TSR_OK)
    return make_error(rc, "{}", backend_error(err, "all_gather"));
  return Status::ok();
}

Status Communicator::broadcast_host(void* buf, uint64_t bytes, int32_t root) {
  tsr_comm_ref b{buf, nullptr, 0};
  tsr_error err{};
  if (const tsr_status_code rc = iface_->broadcast(comm_, &b, bytes, root, nullptr, &err); rc != TSR_OK)
    return make_error(rc, "{}", backend_error(err, "broadcast"));
  return Status::ok();
}

}  // namespace tsr
