// Helpers for the C side of the backend ABI: a Status becomes a
// tsr_status_code plus message, and no C++ exception crosses the boundary.
// Shared by the in-tree backends.
#pragma once

#include <cstdio>
#include <exception>
#include <new>
#include <string>

#include "tessera/kit/status.h"
#include "tessera/tessera_backend.h"

namespace tsr {

inline void set_error(tsr_error* err, const std::string& msg) {
  if (!err) return;
  std::snprintf(err->message, sizeof err->message, "%s", msg.c_str());
}

inline tsr_status_code to_code(const Status& s, tsr_error* err) {
  if (!s.is_ok()) set_error(err, s.message());
  return s.code();
}

// Runs f (returning Status) with every exception turned into a status.
template <typename F>
tsr_status_code guarded(const char* op, tsr_error* err, F&& f) {
  try {
    return to_code(f(), err);
  } catch (const std::bad_alloc&) {
    set_error(err, std::string("[") + op + "] out of host memory");
    return TSR_ERR_OUT_OF_MEMORY;
  } catch (const std::exception& e) {
    set_error(err, std::string("[") + op + "] internal error: " + e.what());
    return TSR_ERR_INTERNAL;
  } catch (...) {
    set_error(err, std::string("[") + op + "] internal error: unknown exception");
    return TSR_ERR_INTERNAL;
  }
}

// supports_op's body: f(reason) -> bool, with exceptions answered "no" and
// the reason copied out (truncated to reason_len) when the answer is no.
template <typename F>
int32_t guarded_supports(char* reason, size_t reason_len, F&& f) {
  std::string why;
  bool ok = false;
  try {
    ok = f(why);
  } catch (...) {
    ok = false;
    why = "internal error";
  }
  if (!ok && reason && reason_len > 0) std::snprintf(reason, reason_len, "%s", why.c_str());
  return ok ? 1 : 0;
}

}  // namespace tsr
