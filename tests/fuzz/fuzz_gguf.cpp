// libFuzzer target: the GGUF reader from arbitrary bytes, through the public
// C API a user's file reaches (tsr_gguf_open_memory), then every accessor
// over whatever it accepted: a file the reader validates must be safe to
// read in full. Any crash, sanitizer report or hang is a bug.
#include <cstddef>
#include <cstdint>
#include <string>

#include "tessera/tessera_gguf.h"

namespace {

std::string key_of(const tsr_gguf_string& s) { return std::string(s.data, s.size); }

// Walks a value and, for arrays, a few elements (and one level of nesting).
void walk(const tsr_gguf* f, const std::string& key) {
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

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tsr_gguf* f = nullptr;
  if (tsr_gguf_open_memory(data, size, "fuzz", &f) != TSR_OK) return 0;
  (void)tsr_gguf_version(f);
  (void)tsr_gguf_alignment(f);
  for (int64_t i = 0; i < tsr_gguf_metadata_count(f); ++i) {
    tsr_gguf_string k{};
    tsr_gguf_type t;
    if (tsr_gguf_metadata_key(f, i, &k, &t) != TSR_OK) continue;
    const std::string key = key_of(k);
    int64_t idx = 0;
    (void)tsr_gguf_find_key(f, key.c_str(), &idx);
    int64_t iv = 0;
    double fv = 0;
    tsr_gguf_string s{};
    (void)tsr_gguf_get_int(f, key.c_str(), &iv);
    (void)tsr_gguf_get_float(f, key.c_str(), &fv);
    (void)tsr_gguf_get_string(f, key.c_str(), &s);
    walk(f, key);
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
    (void)tsr_gguf_find_tensor(f, std::string(t.name.data, t.name.size).c_str(), &again);
    (void)tsr_gguf_type_name(t.ggml_type);
  }
  tsr_gguf_close(f);
  return 0;
}
