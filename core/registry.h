// Backend registry: the loaded backends (in-tree and plugins), their
// instances and the devices they expose, named "<backend>:<index>".
// Core talks to every backend through tsr_backend_iface only.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/kit/status.h"
#include "tessera/tessera_backend.h"

namespace tsr {

// "[where] message" from a backend's error struct, never empty.
std::string backend_error(const tsr_error& err, std::string_view where);

class Backend {
 public:
  // Validates the table (ABI version, size, required entries, name) and
  // creates an instance. origin is "built-in" or the plugin path; dl_handle
  // (may be null) is closed when the backend is destroyed.
  static Result<std::unique_ptr<Backend>> create(const tsr_backend_iface* iface, std::string origin,
                                                 void* dl_handle, const tsr_backend_options& options);
  ~Backend();
  Backend(const Backend&) = delete;
  Backend& operator=(const Backend&) = delete;

  const tsr_backend_iface& iface() const { return *iface_; }
  tsr_bk_instance instance() const { return instance_; }
  const std::string& name() const { return name_; }
  const std::string& origin() const { return origin_; }
  // Optional entries appended after ABI v1's first table; nullptr when the
  // backend's table predates them or leaves them empty.
  decltype(tsr_backend_iface::buffer_wrap_host) buffer_wrap_host() const;
  // Optional entry, nullptr when the table predates it or leaves it unset.
  decltype(tsr_backend_iface::instance_note) instance_note() const;

 private:
  Backend() = default;
  const tsr_backend_iface* iface_ = nullptr;
  tsr_bk_instance instance_ = nullptr;
  void* dl_handle_ = nullptr;
  std::string name_, origin_;
};

struct Device {
  std::string name;  // "cpu:0"
  Backend* backend = nullptr;
  int32_t index = 0;
  tsr_bk_device handle = nullptr;
  tsr_device_props props{};
};

class Registry {
 public:
  explicit Registry(const tsr_backend_options& options);
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Registers a backend and opens all its devices. A backend reporting zero
  // devices is kept (listed in notes()) and contributes none.
  Status add_backend(const tsr_backend_iface* iface, std::string origin, void* dl_handle = nullptr);
  // dlopen()s path, checks it exports TSR_BACKEND_ENTRY_SYMBOL and was built
  // for this ABI version, then registers it. Nothing is kept on failure.
  Status load_plugin(const std::string& path);

  const std::vector<Device>& devices() const { return devices_; }
  const std::vector<std::unique_ptr<Backend>>& backends() const { return backends_; }
  // Human-readable lines about backends without devices or devices that failed to open.
  const std::vector<std::string>& notes() const { return notes_; }
  // "cpu:0" or a bare backend name ("cpu": its first device). NOT_FOUND names
  // the devices that exist.
  Result<int32_t> find_device(std::string_view name) const;
  // Index of the first CPU-type device, or -1.
  int32_t cpu_device() const;

 private:
  tsr_backend_options options_;
  std::vector<std::unique_ptr<Backend>> backends_;
  std::vector<Device> devices_;
  std::vector<std::string> notes_;
};

}  // namespace tsr
