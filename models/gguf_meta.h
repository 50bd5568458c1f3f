// Reading a model's hyperparameters and tensors from GGUF, with errors that
// name the key or tensor and the values: the checks every architecture file
// shares. Errors are thrown as tessera::Error; the message starts with
// "[<tag>]" (the architecture being read).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>

#include "tessera/tessera.hpp"
#include "tessera/tessera_gguf.h"

namespace tessera::models {

// One GGUF tensor, borrowed from the mapping.
struct GgufWeight {
  std::string name;
  int32_t dtype = 0;  // tsr_dtype (checked to be one Tessera computes with)
  int32_t n_dims = 0;
  int64_t ne[TSR_MAX_DIMS] = {1, 1, 1, 1};
  const void* data = nullptr;  // null: the tensor is absent (an optional one)
  uint64_t size = 0;
  bool present() const { return data != nullptr; }
};

class GgufMeta {
 public:
  // file is borrowed; tag names the architecture in messages.
  GgufMeta(const tsr_gguf* file, std::string tag) : f_(file), tag_(std::move(tag)) {}

  const std::string& tag() const { return tag_; }
  bool has(const std::string& key) const;
  // Integer keys must be > 0 (every size and count a model has).
  int64_t required_int(const std::string& key) const;
  int64_t optional_int(const std::string& key, int64_t fallback) const;
  float required_float(const std::string& key) const;
  float optional_float(const std::string& key, float fallback) const;
  std::string optional_string(const std::string& key) const;  // "" when absent
  // Throws naming the key and both values when a is not a multiple of b.
  void check_multiple(const std::string& what_a, int64_t a, const std::string& what_b, int64_t b) const;

  // The tensor, checked to have exactly these dims (innermost first) and a
  // type Tessera computes with. tensor() throws when it is missing;
  // optional_tensor() returns an absent GgufWeight instead.
  GgufWeight tensor(const std::string& name, std::initializer_list<int64_t> dims) const;
  GgufWeight optional_tensor(const std::string& name, std::initializer_list<int64_t> dims) const;
  bool has_tensor(const std::string& name) const;

  [[noreturn]] void fail(tsr_status_code code, const std::string& msg) const;

 private:
  const tsr_gguf* f_;
  std::string tag_;
};

}  // namespace tessera::models
