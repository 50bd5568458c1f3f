// Status: the C++ side of tsr_status_code. Library code returns Status (or
// Result<T>); the C API turns it into a code plus a thread-local message.
// Messages start with the operation: "[matmul] inner dims differ: ...".
#pragma once

#include <fmt/format.h>

#include <string>
#include <utility>
#include <variant>

#include "tessera/tessera_types.h"

namespace tsr {

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(tsr_status_code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok() { return {}; }
  bool is_ok() const { return code_ == TSR_OK; }
  explicit operator bool() const { return is_ok(); }
  tsr_status_code code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  tsr_status_code code_ = TSR_OK;
  std::string message_;
};

template <typename... Args>
Status make_error(tsr_status_code code, fmt::format_string<Args...> f, Args&&... args) {
  return Status(code, fmt::format(f, std::forward<Args>(args)...));
}

template <typename... Args>
Status invalid_arg(fmt::format_string<Args...> f, Args&&... args) {
  return Status(TSR_ERR_INVALID_ARGUMENT, fmt::format(f, std::forward<Args>(args)...));
}

// A value or an error status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}  // NOLINT
  bool is_ok() const { return std::holds_alternative<T>(v_); }
  T& value() { return std::get<T>(v_); }
  const T& value() const { return std::get<T>(v_); }
  Status status() const { return is_ok() ? Status() : std::get<Status>(v_); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace tsr

#define TSR_RETURN_IF_ERROR(expr)                 \
  do {                                            \
    ::tsr::Status tsr_status_ = (expr);           \
    if (!tsr_status_.is_ok()) return tsr_status_; \
  } while (0)
