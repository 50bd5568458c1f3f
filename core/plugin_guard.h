// The interface table core calls for a plugin: a copy of the plugin's table
// whose every entry goes through a guard, so that a plugin breaking the
// ABI's rules fails the call that met the breakage, named, instead of
// crashing or corrupting the process that loaded it:
//   - an exception thrown out of an entry (the ABI is C: none may cross it)
//     becomes TSR_ERR_INTERNAL "[entry] backend 'x' threw an exception:
//     what" (void, int and pointer entries, which have no status, leave a
//     note and answer 0 or NULL);
//   - an error with no message, a message without its NUL, or a status code
//     outside tsr_status_code get a message naming the entry;
//   - TSR_OK with a null handle from an entry that creates one (create,
//     device_open, buffer_alloc, buffer_wrap_host, queue_create,
//     event_create, prepare) becomes TSR_ERR_INTERNAL;
//   - supports_op's reason is cut at its buffer's end;
//   - a status entry slower than TESSERA_PLUGIN_SLOW_MS (default 10 s)
//     leaves a note naming it (core cannot take the thread back).
// Messages that do not start with "[entry]" get it put in front, so every
// failure says which entry it came from.
//
// Built-in backends are trusted (they follow the rules through the kit's
// abi_guard.h) and called directly. Guards take one of a fixed number of
// process-wide slots (the entries are plain C function pointers, so each
// slot has its own set); a plugin loaded when all are taken is refused.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tessera/kit/status.h"
#include "tessera/tessera_backend.h"

namespace tsr {

class PluginGuard {
 public:
  // plugin must stay valid (its library loaded) until the guard is destroyed.
  static Result<std::unique_ptr<PluginGuard>> create(const tsr_backend_iface* plugin,
                                                     const std::string& origin);
  ~PluginGuard();
  PluginGuard(const PluginGuard&) = delete;
  PluginGuard& operator=(const PluginGuard&) = delete;

  // The guarded table: same struct_size, abi_version and name as the plugin's.
  const tsr_backend_iface* table() const { return &table_; }
  // Notes about breakages that had no status to report them (an exception
  // from a void entry, a slow call), "name: [entry] ...", taken: each is
  // returned once.
  std::vector<std::string> take_notes();

  // The number of slots: plugins that can be loaded at once in a process.
  static constexpr int kSlots = 64;

 private:
  PluginGuard() = default;
  int slot_ = -1;
  tsr_backend_iface table_{};
};

}  // namespace tsr
