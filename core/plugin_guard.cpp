#include "core/plugin_guard.h"

#include <fmt/format.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <mutex>
#include <tuple>
#include <type_traits>
#include <utility>

namespace tsr {
namespace {

// One loaded plugin's table and what its guards could not report.
struct Slot {
  std::atomic<const tsr_backend_iface*> plugin{nullptr};
  std::string name;
  std::mutex mu;  // guards notes (entries may be called from any thread)
  std::vector<std::string> notes;
};

std::array<Slot, PluginGuard::kSlots> g_slots;
std::mutex g_slots_mu;  // guards taking and freeing slots

std::string what_of(std::exception_ptr e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    return x.what();
  } catch (...) {
    return "an exception that is not a std::exception";
  }
}

void write_message(tsr_error* err, const std::string& msg) {
  if (err) std::snprintf(err->message, sizeof err->message, "%s", msg.c_str());
}

void add_note(int slot, const char* entry, const std::string& what) {
  Slot& s = g_slots[slot];
  std::lock_guard lock(s.mu);
  s.notes.push_back(fmt::format("{}: [{}] threw an exception: {}", s.name, entry, what));
}

// The out-of-line half of a status entry's guard: what came back, checked.
tsr_status_code check_status(int slot, const char* entry, tsr_status_code rc, bool null_handle,
                             tsr_error* err) {
  const std::string& name = g_slots[slot].name;
  std::string msg;
  if (err) {
    // A message filling the buffer without its NUL ends at the buffer's end.
    err->message[sizeof err->message - 1] = '\0';
    msg = err->message;
  }
  if (rc == TSR_OK) {
    if (!null_handle) return TSR_OK;
    write_message(err, fmt::format("[{}] backend '{}' returned TSR_OK without a handle", entry, name));
    return TSR_ERR_INTERNAL;
  }
  const std::string tag = fmt::format("[{}]", entry);
  if (rc < TSR_ERR_INVALID_ARGUMENT || rc > TSR_ERR_ABORTED) {
    write_message(err, fmt::format("{} backend '{}' returned status {}, which is not a tsr_status_code{}{}",
                                   tag, name, static_cast<int>(rc), msg.empty() ? "" : ": ", msg));
    return TSR_ERR_DEVICE;
  }
  if (msg.empty())
    write_message(err, fmt::format("{} backend '{}' failed (status {}) without a message", tag, name,
                                   static_cast<int>(rc)));
  else if (msg.compare(0, tag.size(), tag) != 0)
    write_message(err, tag + " " + msg);
  return rc;
}

// Calls slower than this leave a note: a plugin that blocks far too long is
// named, though core cannot take the thread back from it.
// TESSERA_PLUGIN_SLOW_MS sets it (default 10 s).
std::chrono::milliseconds slow_threshold() {
  static const std::chrono::milliseconds ms = [] {
    const char* e = std::getenv("TESSERA_PLUGIN_SLOW_MS");
    const long v = e ? std::strtol(e, nullptr, 10) : 0;
    return std::chrono::milliseconds(v > 0 ? v : 10000);
  }();
  return ms;
}

void check_time(int slot, const char* entry, std::chrono::steady_clock::time_point t0) {
  const auto took = std::chrono::steady_clock::now() - t0;
  if (took <= slow_threshold()) return;
  Slot& s = g_slots[slot];
  std::lock_guard lock(s.mu);
  s.notes.push_back(fmt::format("{}: [{}] took {:.1f} s (more than the {} ms of TESSERA_PLUGIN_SLOW_MS)",
                                s.name, entry, std::chrono::duration<double>(took).count(),
                                slow_threshold().count()));
}

tsr_status_code threw(int slot, const char* entry, std::exception_ptr e, tsr_error* err) {
  write_message(
      err, fmt::format("[{}] backend '{}' threw an exception: {}", entry, g_slots[slot].name, what_of(e)));
  return TSR_ERR_INTERNAL;
}

template <typename... A>
tsr_error* error_arg(A... a) {
  using Last = std::tuple_element_t<sizeof...(A) - 1, std::tuple<A...>>;
  if constexpr (std::is_same_v<Last, tsr_error*>)
    return std::get<sizeof...(A) - 1>(std::make_tuple(a...));
  else
    return nullptr;
}

// Entries by name; `creates` marks those whose second-to-last argument
// receives a new handle.
// clang-format off
#define TSR_PLUGIN_ENTRIES(X) \
  X(create, true) \
  X(destroy, false) \
  X(device_count, false) \
  X(device_open, true) \
  X(device_close, false) \
  X(device_props, false) \
  X(buffer_alloc, true) \
  X(buffer_free, false) \
  X(buffer_host_ptr, false) \
  X(buffer_write, false) \
  X(buffer_read, false) \
  X(queue_create, true) \
  X(queue_destroy, false) \
  X(queue_finish, false) \
  X(event_create, true) \
  X(event_destroy, false) \
  X(event_record, false) \
  X(event_wait, false) \
  X(supports_op, false) \
  X(prepare, true) \
  X(execute, false) \
  X(release_prepared, false) \
  X(buffer_wrap_host, true) \
  X(instance_note, false) \
  X(device_comm, false)
// clang-format on

#define TSR_ENTRY_TAG(e, c)                               \
  struct Tag_##e {                                        \
    static constexpr auto member = &tsr_backend_iface::e; \
    static constexpr const char* name = #e;               \
    static constexpr bool creates = c;                    \
  };
TSR_PLUGIN_ENTRIES(TSR_ENTRY_TAG)
#undef TSR_ENTRY_TAG

template <int S, typename Tag, typename M>
struct Thunk;

template <int S, typename Tag, typename R, typename... A>
struct Thunk<S, Tag, R (*tsr_backend_iface::*)(A...)> {
  static R call(A... a) {
    const auto fn = g_slots[S].plugin.load(std::memory_order_acquire)->*(Tag::member);
    if constexpr (std::is_same_v<R, tsr_status_code>) {
      tsr_error* err = error_arg(a...);
      tsr_status_code rc;
      const auto t0 = std::chrono::steady_clock::now();
      try {
        rc = fn(a...);
      } catch (...) {
        return threw(S, Tag::name, std::current_exception(), err);
      }
      check_time(S, Tag::name, t0);
      bool null_handle = false;
      if constexpr (Tag::creates)
        null_handle = rc == TSR_OK && *std::get<sizeof...(A) - 2>(std::make_tuple(a...)) == nullptr;
      return check_status(S, Tag::name, rc, null_handle, err);
    } else if constexpr (std::is_void_v<R>) {
      try {
        fn(a...);
      } catch (...) {
        add_note(S, Tag::name, what_of(std::current_exception()));
      }
    } else if constexpr (std::is_same_v<Tag, Tag_supports_op>) {
      auto [device, node, reason, reason_len] = std::make_tuple(a...);
      int32_t ok = 0;
      try {
        ok = fn(a...);
      } catch (...) {
        const std::string msg = fmt::format("[supports_op] backend '{}' threw an exception: {}",
                                            g_slots[S].name, what_of(std::current_exception()));
        if (reason && reason_len > 0) std::snprintf(reason, reason_len, "%s", msg.c_str());
        return 0;
      }
      if (reason && reason_len > 0) reason[reason_len - 1] = '\0';
      return ok;
    } else {
      try {
        return fn(a...);
      } catch (...) {
        add_note(S, Tag::name, what_of(std::current_exception()));
        return R{};  // 0 devices, a NULL pointer
      }
    }
  }
};

// Whether the plugin's table (struct_size bytes) has the entry ending at end.
bool has(const tsr_backend_iface& p, size_t end) { return p.struct_size >= end; }

template <int S>
void fill(tsr_backend_iface& t, const tsr_backend_iface& p) {
#define TSR_FILL(e, c)                                             \
  if (has(p, offsetof(tsr_backend_iface, e) + sizeof(p.e)) && p.e) \
    t.e = &Thunk<S, Tag_##e, std::remove_cv_t<decltype(Tag_##e::member)>>::call;
  TSR_PLUGIN_ENTRIES(TSR_FILL)
#undef TSR_FILL
}

using Filler = void (*)(tsr_backend_iface&, const tsr_backend_iface&);
template <size_t... I>
constexpr std::array<Filler, sizeof...(I)> fillers(std::index_sequence<I...>) {
  return {&fill<static_cast<int>(I)>...};
}
constexpr auto kFillers = fillers(std::make_index_sequence<PluginGuard::kSlots>());

}  // namespace

Result<std::unique_ptr<PluginGuard>> PluginGuard::create(const tsr_backend_iface* plugin,
                                                         const std::string& origin) {
  std::lock_guard lock(g_slots_mu);
  for (int s = 0; s < kSlots; ++s) {
    if (g_slots[s].plugin.load() != nullptr) continue;
    std::unique_ptr<PluginGuard> g(new PluginGuard());
    g->slot_ = s;
    g_slots[s].name = plugin->name ? plugin->name : "";
    g_slots[s].notes.clear();
    g_slots[s].plugin.store(plugin, std::memory_order_release);
    // Entries past the plugin's table stay null, as its struct_size says.
    std::memcpy(&g->table_, plugin, std::min<size_t>(plugin->struct_size, sizeof g->table_));
    kFillers[s](g->table_, *plugin);
    return g;
  }
  return make_error(TSR_ERR_UNSUPPORTED,
                    "[plugin] {}: {} plugins are loaded in this process, the most there can be", origin,
                    kSlots);
}

PluginGuard::~PluginGuard() {
  std::lock_guard lock(g_slots_mu);
  g_slots[slot_].plugin.store(nullptr);
}

std::vector<std::string> PluginGuard::take_notes() {
  Slot& s = g_slots[slot_];
  std::lock_guard lock(s.mu);
  return std::exchange(s.notes, {});
}

}  // namespace tsr
