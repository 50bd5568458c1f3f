#include "core/registry.h"

#include <dlfcn.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>

namespace tsr {
namespace {

// Size of the table up to and including the last entry ABI v1 requires.
constexpr size_t kRequiredTableSize =
    offsetof(tsr_backend_iface, release_prepared) + sizeof(tsr_backend_iface::release_prepared);

bool valid_backend_name(const char* n) {
  if (!n || !*n || std::strlen(n) > 31) return false;
  for (const char* p = n; *p; ++p)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_')) return false;
  return true;
}

}  // namespace

std::string backend_error(const tsr_error& err, std::string_view where) {
  const size_t len = strnlen(err.message, sizeof(err.message));
  if (len == 0) return fmt::format("[{}] backend reported an error without a message", where);
  return std::string(err.message, len);
}

Result<std::unique_ptr<Backend>> Backend::create(const tsr_backend_iface* iface, std::string origin,
                                                 void* dl_handle) {
  if (!iface) return invalid_arg("[backend] {}: interface table is null", origin);
  if (iface->abi_version != TSR_BACKEND_ABI_VERSION)
    return make_error(TSR_ERR_ABI_MISMATCH,
                      "[backend] {}: built for backend ABI version {}, this Tessera implements version {}; "
                      "rebuild it against tessera_backend.h of version {}",
                      origin, iface->abi_version, TSR_BACKEND_ABI_VERSION, TSR_BACKEND_ABI_VERSION);
  if (iface->struct_size < kRequiredTableSize)
    return make_error(TSR_ERR_ABI_MISMATCH,
                      "[backend] {}: interface table is {} bytes, ABI version {} needs at least {}", origin,
                      iface->struct_size, TSR_BACKEND_ABI_VERSION, kRequiredTableSize);
  if (!valid_backend_name(iface->name))
    return invalid_arg("[backend] {}: name '{}' must be 1-31 characters of [a-z0-9_]", origin,
                       iface->name ? iface->name : "(null)");
    // Every entry core calls without a default, by name for the message.
#define TSR_REQUIRED(entry) \
  { #entry, reinterpret_cast < const void*>(iface->entry) }
  const struct {
    const char* name;
    const void* fn;
  } required[] = {TSR_REQUIRED(create),        TSR_REQUIRED(destroy),      TSR_REQUIRED(device_count),
                  TSR_REQUIRED(device_open),   TSR_REQUIRED(device_close), TSR_REQUIRED(device_props),
                  TSR_REQUIRED(buffer_alloc),  TSR_REQUIRED(buffer_free),  TSR_REQUIRED(buffer_host_ptr),
                  TSR_REQUIRED(buffer_write),  TSR_REQUIRED(buffer_read),  TSR_REQUIRED(queue_create),
                  TSR_REQUIRED(queue_destroy), TSR_REQUIRED(queue_finish), TSR_REQUIRED(supports_op),
                  TSR_REQUIRED(prepare),       TSR_REQUIRED(execute),      TSR_REQUIRED(release_prepared)};
#undef TSR_REQUIRED
  for (const auto& r : required)
    if (!r.fn)
      return invalid_arg("[backend] {} ({}): required entry '{}' of the interface table is null", origin,
                         iface->name, r.name);
  // Events are optional as a group: core never calls them, and half a set
  // is a table mistake worth naming rather than a backend without events.
  const int n_events = (iface->event_create != nullptr) + (iface->event_destroy != nullptr) +
                       (iface->event_record != nullptr) + (iface->event_wait != nullptr);
  if (n_events != 0 && n_events != 4)
    return invalid_arg(
        "[backend] {} ({}): {} of the four event entries (event_create, event_destroy, event_record, "
        "event_wait) are set; set all four or leave all four null",
        origin, iface->name, n_events);

  std::unique_ptr<Backend> b(new Backend());
  b->iface_ = iface;
  if (dl_handle) {
    auto guard = PluginGuard::create(iface, origin);
    if (!guard.is_ok()) return guard.status();
    b->guard_ = std::move(guard.value());
    b->iface_ = b->guard_->table();
  }
  b->dl_handle_ = dl_handle;
  b->name_ = iface->name;
  b->origin_ = std::move(origin);
  return b;
}

Status Backend::start(const tsr_backend_options& options) {
  if (started_) return start_status_;
  started_ = true;
  tsr_error err{};
  tsr_bk_instance inst = nullptr;
  if (iface_->create(&options, &inst, &err) != TSR_OK)
    start_status_ = make_error(TSR_ERR_DEVICE, "[backend] {} ({}): create failed: {}", origin_, name_,
                               backend_error(err, "create"));
  else
    instance_ = inst;
  return start_status_;
}

Backend::~Backend() {
  if (iface_ && instance_) iface_->destroy(instance_);
  guard_.reset();  // before the library (and the table the guard calls) goes
  if (dl_handle_) dlclose(dl_handle_);
}

decltype(tsr_backend_iface::instance_note) Backend::instance_note() const {
  constexpr size_t end = offsetof(tsr_backend_iface, instance_note) + sizeof(iface_->instance_note);
  return iface_->struct_size >= end ? iface_->instance_note : nullptr;
}

decltype(tsr_backend_iface::device_comm) Backend::device_comm() const {
  constexpr size_t end = offsetof(tsr_backend_iface, device_comm) + sizeof(iface_->device_comm);
  return iface_->struct_size >= end ? iface_->device_comm : nullptr;
}

decltype(tsr_backend_iface::buffer_wrap_host) Backend::buffer_wrap_host() const {
  constexpr size_t end = offsetof(tsr_backend_iface, buffer_wrap_host) + sizeof(iface_->buffer_wrap_host);
  return iface_->struct_size >= end ? iface_->buffer_wrap_host : nullptr;
}

Registry::Registry(const tsr_backend_options& options) : options_(options) {}

Registry::~Registry() {
  for (Device& d : devices_) d.backend->iface().device_close(d.handle);
  devices_.clear();
  backends_.clear();
}

Status Registry::add_backend(const tsr_backend_iface* iface, std::string origin, void* dl_handle) {
  for (const auto& b : backends_) {
    if (iface && iface->name && b->name() == iface->name) {
      // The message is formatted before dlclose: iface and its name live in
      // the library being closed.
      const std::string first = b->origin() == origin ? "the same file (loaded twice)" : b->origin();
      Status clash = invalid_arg("[backend] {}: a backend named '{}' is already registered from {}; {}",
                                 origin, iface->name, first, "each backend needs a name of its own");
      if (dl_handle) dlclose(dl_handle);
      return clash;
    }
  }
  auto created = Backend::create(iface, origin, dl_handle);
  if (!created.is_ok()) {
    if (dl_handle) dlclose(dl_handle);
    return created.status();
  }
  backends_.push_back(std::move(created.value()));
  // A plugin was asked for by name: start it now, so a broken one fails the
  // load that named it. Built-in backends wait until they are needed.
  if (!dl_handle) return {};
  if (Status s = backends_.back()->start(options_); !s.is_ok()) {
    backends_.pop_back();  // closes the library; s was formatted before
    return s;
  }
  open_devices(*backends_.back());
  return {};
}

void Registry::open_devices(Backend& b) const {
  int32_t n = b.iface().device_count(b.instance());
  // A count no machine has is a broken backend, not 2^31 devices to open.
  constexpr int32_t kMaxDevices = 1024;
  if (n > kMaxDevices) {
    notes_.push_back(
        fmt::format("{}: device_count returned {}, more than the {} a backend may have; none used", b.name(),
                    n, kMaxDevices));
    return;
  }
  const auto note_fn = b.instance_note();
  const char* note = note_fn ? note_fn(b.instance()) : nullptr;
  if (n <= 0)
    notes_.push_back(note && *note ? fmt::format("{}: no devices ({})", b.name(), note)
                                   : fmt::format("{}: no devices", b.name()));
  else if (note && *note)
    notes_.push_back(fmt::format("{}: {}", b.name(), note));
  for (int32_t i = 0; i < n; ++i) {
    tsr_error err{};
    Device d;
    d.backend = &b;
    d.index = i;
    d.name = fmt::format("{}:{}", b.name(), i);
    if (b.iface().device_open(b.instance(), i, &d.handle, &err) != TSR_OK) {
      notes_.push_back(fmt::format("{}: open failed: {}", d.name, backend_error(err, "device_open")));
      continue;
    }
    d.props.struct_size = sizeof(tsr_device_props);
    if (b.iface().device_props(d.handle, &d.props, &err) != TSR_OK) {
      notes_.push_back(fmt::format("{}: properties failed: {}", d.name, backend_error(err, "device_props")));
      b.iface().device_close(d.handle);
      continue;
    }
    d.props.name[sizeof(d.props.name) - 1] = '\0';
    d.props.vendor[sizeof(d.props.vendor) - 1] = '\0';
    d.props.driver[sizeof(d.props.driver) - 1] = '\0';
    devices_.push_back(std::move(d));
  }
}

const std::vector<std::string>& Registry::notes() const {
  for (const auto& b : backends_)
    for (std::string& n : b->take_guard_notes()) notes_.push_back(std::move(n));
  return notes_;
}

void Registry::start(Backend& b) const {
  if (b.started()) return;
  if (Status s = b.start(options_); !s.is_ok()) {
    notes_.push_back(fmt::format("{}: {}", b.name(), s.message()));
    return;
  }
  open_devices(b);
}

void Registry::start_all() const {
  for (const auto& b : backends_) start(*b);
}

Status Registry::load_plugin(const std::string& path) {
  // Open it ourselves first: dlopen's messages for a missing file are terse.
  if (FILE* f = std::fopen(path.c_str(), "rb")) {
    std::fclose(f);
  } else {
    return make_error(TSR_ERR_IO, "[plugin] cannot open '{}': {}", path, std::strerror(errno));
  }
  // A name without a '/' makes dlopen search the library path, not the
  // current directory: open the file that was found above instead.
  const std::string dl_path = path.find('/') == std::string::npos ? "./" + path : path;
  void* h = dlopen(dl_path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    const char* e = dlerror();
    return make_error(TSR_ERR_IO, "[plugin] '{}' is not a loadable shared library: {}", path,
                      e ? e : "dlopen failed");
  }
  void* sym = dlsym(h, TSR_BACKEND_ENTRY_SYMBOL);
  if (!sym) {
    dlclose(h);
    return make_error(TSR_ERR_NOT_FOUND,
                      "[plugin] '{}' is not a Tessera backend plugin: it does not export {}", path,
                      TSR_BACKEND_ENTRY_SYMBOL);
  }
  auto entry = reinterpret_cast<tsr_backend_entry_fn>(sym);
  const tsr_backend_iface* iface = nullptr;
  tsr_error err{};
  const tsr_status_code rc = entry(TSR_BACKEND_ABI_VERSION, &iface, &err);
  if (rc != TSR_OK) {
    dlclose(h);
    return make_error(rc == TSR_ERR_ABI_MISMATCH ? TSR_ERR_ABI_MISMATCH : TSR_ERR_DEVICE, "[plugin] '{}': {}",
                      path, backend_error(err, TSR_BACKEND_ENTRY_SYMBOL));
  }
  return add_backend(iface, path, h);  // closes h on failure
}

Result<int32_t> Registry::find_device(std::string_view name) const {
  const std::string_view backend = name.substr(0, name.find(':'));
  for (const auto& b : backends_)
    if (b->name() == backend) start(*b);
  for (size_t i = 0; i < devices_.size(); ++i)
    if (devices_[i].name == name) return static_cast<int32_t>(i);
  if (name.find(':') == std::string_view::npos) {
    for (size_t i = 0; i < devices_.size(); ++i)
      if (devices_[i].backend->name() == name) return static_cast<int32_t>(i);
  }
  start_all();  // the message lists every device there is
  std::string avail;
  for (const Device& d : devices_) avail += (avail.empty() ? "" : ", ") + d.name;
  // The named backend's own note says why it has no such device ("no NVIDIA
  // driver: libcuda.so.1 not found"): the answer a user asking for it needs.
  std::string why;
  for (const std::string& note : notes())
    if (note.size() > backend.size() && note.compare(0, backend.size(), backend) == 0 &&
        note[backend.size()] == ':')
      why += "; " + note;
  return make_error(TSR_ERR_NOT_FOUND, "[device] unknown device '{}'; available: {}{}", name,
                    avail.empty() ? "none" : avail, why);
}

int32_t Registry::cpu_device() const {
  for (const auto& b : backends_)
    if (b->name() == "cpu") start(*b);
  for (size_t i = 0; i < devices_.size(); ++i)
    if (devices_[i].props.type == TSR_DEVICE_TYPE_CPU && devices_[i].backend->name() == "cpu")
      return static_cast<int32_t>(i);
  return -1;
}

}  // namespace tsr
