// libFuzzer target: the GGUF reader from arbitrary bytes, through the public
// C API a user's file reaches (tsr_gguf_open_memory), then every accessor
// over whatever it accepted (gguf_walk.h). Any crash, sanitizer report or
// hang is a bug.
#include <cstddef>
#include <cstdint>

#include "tessera/tessera_gguf.h"
#include "tests/fuzz/gguf_walk.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tsr_gguf* f = nullptr;
  if (tsr_gguf_open_memory(data, size, "fuzz", &f) != TSR_OK) return 0;
  tessera_fuzz::walk_gguf(f);
  tsr_gguf_close(f);
  return 0;
}
