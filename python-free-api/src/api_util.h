// Helpers shared by the C API's source files: the thread-local message behind
// tsr_last_error(), and `guarded`, which turns a Status or an exception into
// a code so that nothing but codes crosses into C. Not installed.
#pragma once

#include <fmt/format.h>

#include <exception>
#include <new>
#include <string>
#include <utility>

#include "tessera/kit/status.h"
#include "tessera/tessera_types.h"

namespace tsr::capi {

// The message of the last failure on this thread (one instance per library).
inline std::string& last_error() {
  thread_local std::string message;
  return message;
}

inline tsr_status_code fail(const tsr::Status& s) {
  last_error() = s.message();
  return s.code();
}

inline tsr_status_code fail(tsr_status_code code, std::string msg) {
  last_error() = std::move(msg);
  return code;
}

// Runs f, converting exceptions (allocation failures, bugs) into codes.
template <typename F>
tsr_status_code guarded(const char* where, F&& f) {
  try {
    const tsr::Status s = f();
    if (!s.is_ok()) return fail(s);
    // A success leaves no message behind, not even one from a lookup that
    // failed inside this call (an optional GGUF key, say).
    last_error().clear();
    return TSR_OK;
  } catch (const std::bad_alloc&) {
    return fail(TSR_ERR_OUT_OF_MEMORY, fmt::format("[{}] out of host memory", where));
  } catch (const std::exception& e) {
    return fail(TSR_ERR_INTERNAL, fmt::format("[{}] internal error: {}", where, e.what()));
  } catch (...) {
    return fail(TSR_ERR_INTERNAL, fmt::format("[{}] internal error", where));
  }
}

inline tsr::Status null_arg(const char* where, const char* what) {
  return tsr::invalid_arg("[{}] {} is null", where, what);
}

}  // namespace tsr::capi
