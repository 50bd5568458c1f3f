// Backend registry: the loaded backends (in-tree and plugins), their
// instances and the devices they expose, named "<backend>:<index>".
// Core talks to every backend through tsr_backend_iface only.
#pragma once

#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/plugin_guard.h"
#include "tessera/kit/status.h"
#include "tessera/tessera_backend.h"

namespace tsr {

// "[where] message" from a backend's error struct, never empty.
std::string backend_error(const tsr_error& err, std::string_view where);

class Backend {
 public:
  // Validates the table (ABI version, size, required entries, name); creates
  // no instance (see start). origin is "built-in" or the plugin path;
  // dl_handle (may be null) is closed when the backend is destroyed. A
  // plugin (dl_handle not null) is called through a PluginGuard.
  static Result<std::unique_ptr<Backend>> create(const tsr_backend_iface* iface, std::string origin,
                                                 void* dl_handle);
  // Creates the instance (opens the driver) on the first call; later calls
  // return the first call's status.
  Status start(const tsr_backend_options& options);
  bool started() const { return started_; }
  ~Backend();
  Backend(const Backend&) = delete;
  Backend& operator=(const Backend&) = delete;

  const tsr_backend_iface& iface() const { return *iface_; }
  tsr_bk_instance instance() const { return instance_; }
  const std::string& name() const { return name_; }
  const std::string& origin() const { return origin_; }
  // Breakages of a plugin that had no status to report them, each once.
  std::vector<std::string> take_guard_notes() {
    return guard_ ? guard_->take_notes() : std::vector<std::string>{};
  }
  // Optional entries appended after ABI v1's first table; nullptr when the
  // backend's table predates them or leaves them empty.
  decltype(tsr_backend_iface::buffer_wrap_host) buffer_wrap_host() const;
  // Optional entry, nullptr when the table predates it or leaves it unset.
  decltype(tsr_backend_iface::instance_note) instance_note() const;
  decltype(tsr_backend_iface::device_comm) device_comm() const;  // optional entries: null when absent

 private:
  Backend() = default;
  const tsr_backend_iface* iface_ = nullptr;
  std::unique_ptr<PluginGuard> guard_;  // plugins only; iface_ is its table
  tsr_bk_instance instance_ = nullptr;
  void* dl_handle_ = nullptr;
  std::string name_, origin_;
  bool started_ = false;
  Status start_status_;
};

struct Device {
  std::string name;  // "cpu:0"
  Backend* backend = nullptr;
  int32_t index = 0;
  tsr_bk_device handle = nullptr;
  tsr_device_props props{};
};

// Backends start lazily: a registered built-in backend opens its driver
// (creates its instance and opens its devices) only when one of its devices
// is named (find_device), the CPU is asked for (cpu_device), or the devices
// are listed (start_all): a CPU-only run never loads Vulkan, CUDA or HIP.
// Plugins start when loaded, so a broken plugin fails its load. Devices are
// appended as backends start: an index, once returned, stays valid.
//
// Thread safety: none; the C API serialises every use of a context's
// registry under the context's lock.
class Registry {
 public:
  explicit Registry(const tsr_backend_options& options);
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Registers a backend (a plugin, dl_handle not null, is started and its
  // devices opened at once). A backend reporting zero devices is kept
  // (listed in notes()) and contributes none.
  Status add_backend(const tsr_backend_iface* iface, std::string origin, void* dl_handle = nullptr);
  // dlopen()s path, checks it exports TSR_BACKEND_ENTRY_SYMBOL and was built
  // for this ABI version, then registers it. Nothing is kept on failure.
  Status load_plugin(const std::string& path);

  // The devices of the started backends (start_all() first to list all).
  const std::deque<Device>& devices() const { return devices_; }
  const std::vector<std::unique_ptr<Backend>>& backends() const { return backends_; }
  // Human-readable lines about started backends without devices, or that
  // failed to start, and devices that failed to open.
  // Plugins' breakages without a status (PluginGuard) are added as they come.
  const std::vector<std::string>& notes() const;
  // Starts every backend not yet started (device listings, "auto").
  void start_all() const;
  // "cpu:0" or a bare backend name ("cpu": its first device), starting that
  // backend. NOT_FOUND names the devices that exist (starting all).
  Result<int32_t> find_device(std::string_view name) const;
  // Index of the cpu backend's first CPU-type device, or -1.
  int32_t cpu_device() const;

 private:
  void start(Backend& b) const;
  void open_devices(Backend& b) const;

  tsr_backend_options options_;
  std::vector<std::unique_ptr<Backend>> backends_;
  // Lazily filled by the const accessors above (logically const: starting a
  // backend changes no answer already given).
  mutable std::deque<Device> devices_;
  mutable std::vector<std::string> notes_;
};

}  // namespace tsr
