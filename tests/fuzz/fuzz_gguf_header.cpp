// libFuzzer target: the metadata and tensor-info region of a GGUF file. The
// input is what follows the magic and the version (tensor count, kv count,
// key/values, tensor infos); the fuzzer writes "GGUF", version 3, the input,
// zero padding to the default alignment and a fixed 4 KiB data blob, so the
// mutations land on counts, types, lengths, dims and offsets instead of on a
// magic or version the reader refuses at once, and tensor infos can point at
// data that exists. Whatever the reader accepts is then read in full
// (gguf_walk.h).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "tessera/tessera_gguf.h"
#include "tests/fuzz/gguf_walk.h"

namespace {

constexpr uint64_t kAlignment = 32;  // GGUF's default: seeds without general.alignment line up
constexpr size_t kDataBytes = 4096;  // the seeds' tensors fit; a fuzzed offset or dim can point past it

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> image = {'G', 'G', 'U', 'F', 3, 0, 0, 0};
  image.insert(image.end(), data, data + size);
  image.resize((image.size() + kAlignment - 1) / kAlignment * kAlignment, 0);
  const size_t data_at = image.size();
  image.resize(data_at + kDataBytes);
  // A pattern rather than zeros, so a tensor read at the wrong offset differs.
  for (size_t i = 0; i < kDataBytes; ++i) image[data_at + i] = static_cast<uint8_t>(i * 131 + 7);

  tsr_gguf* f = nullptr;
  if (tsr_gguf_open_memory(image.data(), image.size(), "fuzz_header", &f) != TSR_OK) return 0;
  tessera_fuzz::walk_gguf(f);
  tsr_gguf_close(f);
  return 0;
}
