// What the GGUF fuzzers do with a file the reader accepted: call every
// accessor over all of it (each key by every typed getter, a few elements of
// each array and one level of nesting, each tensor by index and by name,
// touching its first and last byte). A file the reader validates must be
// safe to read in full; a crash or sanitizer report here is a reader bug.
#pragma once

#include <cstdint>
#include <string>

#include "tessera/tessera_gguf.h"

namespace tessera_fuzz {

inline std::string gguf_text(const tsr_gguf_string& s) { return std::string(s.data, s.size); }

// A value and, for arrays, a few elements (and one level of nesting).
inline void walk_gguf_value(const tsr_gguf* f, const std::string& key) {
  uint64_t path[2] = {0, 0};
  tsr_gguf_value v{};
  if (tsr_gguf_get_value(f, key.c_str(), path, 0, &v) != TSR_OK || v.type != TSR_GGUF_ARRAY) return;
  for (uint64_t i = 0; i < v.length && i < 4; ++i) {
    path[0] = i;
    tsr_gguf_value e{};
    if (tsr_gguf_get_value(f, key.c_str(), path, 1, &e) == TSR_OK && e.type == TSR_GGUF_ARRAY && e.length > 0)
      (void)tsr_gguf_get_value(f, key.c_str(), path, 2, &e);
  }
  tsr_gguf_type et;
  uint64_t n = 0;
  if (tsr_gguf_get_array(f, key.c_str(), &et, &n) == TSR_OK && n > 0) {
    tsr_gguf_string s{};
    int64_t iv = 0;
    double fv = 0;
    (void)tsr_gguf_array_string(f, key.c_str(), n - 1, &s);
    (void)tsr_gguf_array_int(f, key.c_str(), n - 1, &iv);
    (void)tsr_gguf_array_float(f, key.c_str(), n - 1, &fv);
  }
}

inline void walk_gguf(const tsr_gguf* f) {
  (void)tsr_gguf_version(f);
  (void)tsr_gguf_alignment(f);
  for (int64_t i = 0; i < tsr_gguf_metadata_count(f); ++i) {
    tsr_gguf_string k{};
    tsr_gguf_type t;
    if (tsr_gguf_metadata_key(f, i, &k, &t) != TSR_OK) continue;
    const std::string key = gguf_text(k);
    int64_t idx = 0;
    (void)tsr_gguf_find_key(f, key.c_str(), &idx);
    int64_t iv = 0;
    double fv = 0;
    tsr_gguf_string s{};
    (void)tsr_gguf_get_int(f, key.c_str(), &iv);
    (void)tsr_gguf_get_float(f, key.c_str(), &fv);
    (void)tsr_gguf_get_string(f, key.c_str(), &s);
    walk_gguf_value(f, key);
  }
  for (int64_t i = 0; i < tsr_gguf_tensor_count(f); ++i) {
    tsr_gguf_tensor t{};
    if (tsr_gguf_get_tensor(f, i, &t) != TSR_OK) continue;
    // The reader promised the tensor's bytes lie inside the image: touch them.
    if (t.size > 0 && t.data) {
      volatile uint8_t sink = static_cast<const uint8_t*>(t.data)[0];
      sink = static_cast<const uint8_t*>(t.data)[t.size - 1];
      (void)sink;
    }
    tsr_gguf_tensor again{};
    (void)tsr_gguf_find_tensor(f, gguf_text(t.name).c_str(), &again);
    (void)tsr_gguf_type_name(t.ggml_type);
  }
}

}  // namespace tessera_fuzz
