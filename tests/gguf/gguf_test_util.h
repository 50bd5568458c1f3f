// Shared pieces of the GGUF tests: the reference image and opening helpers.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "tessera/tessera_gguf.h"
#include "tests/gguf/gguf_writer.h"

namespace tsr::test {

struct GgufCloser {
  void operator()(tsr_gguf* f) const { tsr_gguf_close(f); }
};
using GgufPtr = std::unique_ptr<tsr_gguf, GgufCloser>;

struct OpenResult {
  tsr_status_code code = TSR_OK;
  std::string message;
  GgufPtr file;
};

// Opens a copy of bytes in a buffer of exactly that size, so that any read
// past the end is caught by AddressSanitizer. The copy is kept alive with the file.
struct MemoryOpen : OpenResult {
  std::unique_ptr<uint8_t[]> buffer;
};

inline std::unique_ptr<MemoryOpen> open_bytes(const std::vector<uint8_t>& bytes, size_t n,
                                              const char* name = "model.gguf") {
  auto r = std::make_unique<MemoryOpen>();
  if (n) {
    r->buffer.reset(new uint8_t[n]);
    std::memcpy(r->buffer.get(), bytes.data(), n);
  }
  tsr_gguf* f = nullptr;
  r->code = tsr_gguf_open_memory(r->buffer.get(), n, name, &f);
  if (r->code == TSR_OK)
    r->file.reset(f);
  else
    r->message = tsr_last_error();
  return r;
}
inline std::unique_ptr<MemoryOpen> open_bytes(const std::vector<uint8_t>& bytes) {
  return open_bytes(bytes, bytes.size());
}

inline OpenResult open_path(const std::string& path) {
  OpenResult r;
  tsr_gguf* f = nullptr;
  r.code = tsr_gguf_open(path.c_str(), &f);
  if (r.code == TSR_OK)
    r.file.reset(f);
  else
    r.message = tsr_last_error();
  return r;
}

inline std::string str(tsr_gguf_string s) { return std::string(s.data, s.size); }

// A valid image with every metadata type, nested arrays and tensors of
// several types (tensor 0 is f32 [4, 3], tensor 1 q4_0 [64, 2]).
inline GgufWriter reference_writer(uint32_t version = 3) {
  GgufWriter w(version);
  w.string("general.architecture", "llama");
  w.scalar<uint8_t>("t.u8", kGU8, 200);
  w.scalar<int8_t>("t.i8", kGI8, -100);
  w.scalar<uint16_t>("t.u16", kGU16, 60000);
  w.scalar<int16_t>("t.i16", kGI16, -30000);
  w.scalar<uint32_t>("t.u32", kGU32, 4000000000u);
  w.scalar<int32_t>("t.i32", kGI32, -2000000000);
  w.scalar<float>("t.f32", kGF32, 1.5f);
  w.scalar<uint8_t>("t.bool", kGBool, 1);
  w.string("t.string", "h\xc3\xa9llo");
  w.string("t.empty", "");
  w.scalar<uint64_t>("t.u64", kGU64, std::numeric_limits<uint64_t>::max());
  w.scalar<int64_t>("t.i64", kGI64, std::numeric_limits<int64_t>::min());
  w.scalar<double>("t.f64", kGF64, -2.25);
  w.array<int32_t>("t.arr_i32", kGI32, {1, -2, 3});
  w.array<float>("t.arr_f32", kGF32, {0.5f, -1.0f});
  w.array<double>("t.arr_f64", kGF64, {3.0});
  w.array<uint8_t>("t.arr_bool", kGBool, {1, 0, 1});
  w.array<uint64_t>("t.arr_u64", kGU64, {7, std::numeric_limits<uint64_t>::max()});
  w.array<int16_t>("t.arr_empty", kGI16, {});
  w.string_array("t.arr_str", {"a", "", "ccc"});
  // [[1, 2], [3]] of int32, then [[["x", "yz"]], []] of strings.
  w.raw("t.nested", kGArray, [](Bytes& b) {
    b.put<uint32_t>(kGArray);
    b.put<uint64_t>(2);
    b.put<uint32_t>(kGI32);
    b.put<uint64_t>(2);
    b.put<int32_t>(1);
    b.put<int32_t>(2);
    b.put<uint32_t>(kGI32);
    b.put<uint64_t>(1);
    b.put<int32_t>(3);
  });
  w.raw("t.nested3", kGArray, [](Bytes& b) {
    b.put<uint32_t>(kGArray);
    b.put<uint64_t>(2);
    b.put<uint32_t>(kGArray);
    b.put<uint64_t>(1);
    b.put<uint32_t>(kGString);
    b.put<uint64_t>(2);
    b.str("x");
    b.str("yz");
    b.put<uint32_t>(kGArray);
    b.put<uint64_t>(0);
  });
  w.tensor("a.f32", 0, {4, 3});
  w.tensor("b.q4_0", 2, {64, 2});
  w.tensor("c.f16", 1, {8});
  w.tensor("d.q4_1", 3, {32, 1, 2});
  w.tensor("e.q8_0", 8, {32, 2, 1, 2});
  w.tensor("f.q4_K", 12, {256, 2});
  w.tensor("g.q6_K", 14, {512});
  w.tensor("h.bf16", 30, {2, 2});
  w.tensor("i.i8", 24, {5});
  w.tensor("j.i32", 26, {3});
  w.tensor("k.iq2_xxs", 16, {256});
  w.tensor("l.q5_K", 13, {256});
  return w;
}

}  // namespace tsr::test
