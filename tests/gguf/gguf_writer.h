// Test-only GGUF writer: builds images in memory, and records where each field
// landed so a test can corrupt exactly one of them. Written from the GGUF
// specification, independently of core/gguf_*.cpp.
#pragma once

#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace tsr::test {

enum GgufValueType : uint32_t {
  kGU8 = 0,
  kGI8 = 1,
  kGU16 = 2,
  kGI16 = 3,
  kGU32 = 4,
  kGI32 = 5,
  kGF32 = 6,
  kGBool = 7,
  kGString = 8,
  kGArray = 9,
  kGU64 = 10,
  kGI64 = 11,
  kGF64 = 12,
};

struct Bytes {
  std::vector<uint8_t> b;
  template <typename T>
  void put(T v) {
    const size_t n = b.size();
    b.resize(n + sizeof(T));
    std::memcpy(b.data() + n, &v, sizeof(T));
  }
  void str(std::string_view s) {
    put<uint64_t>(s.size());
    b.insert(b.end(), s.begin(), s.end());
  }
  size_t size() const { return b.size(); }
};

// Bytes of n elements of a ggml type, from the ggml block structs.
inline uint64_t ggml_type_bytes(uint32_t type, uint64_t n) {
  struct L {
    uint32_t type;
    uint64_t block, bytes;
  };
  static const L kLayouts[] = {{0, 1, 4},      {1, 1, 2},      {2, 32, 18},    {3, 32, 20},    {6, 32, 22},
                               {7, 32, 24},    {8, 32, 34},    {9, 32, 36},    {10, 256, 84},  {11, 256, 110},
                               {12, 256, 144}, {13, 256, 176}, {14, 256, 210}, {15, 256, 292}, {16, 256, 66},
                               {17, 256, 74},  {18, 256, 98},  {19, 256, 50},  {20, 32, 18},   {21, 256, 110},
                               {22, 256, 82},  {23, 256, 136}, {24, 1, 1},     {25, 1, 2},     {26, 1, 4},
                               {27, 1, 8},     {28, 1, 8},     {29, 256, 56},  {30, 1, 2},     {34, 256, 54},
                               {35, 256, 66},  {39, 32, 17}};
  for (const L& l : kLayouts)
    if (l.type == type) return n / l.block * l.bytes;
  return 0;
}

struct GgufImage {
  std::vector<uint8_t> bytes;
  size_t infos_begin = 0;  // = end of the metadata
  size_t infos_end = 0;
  size_t data_start = 0;
  struct Kv {
    size_t pos, value_pos;  // entry start; value start (after the type)
  };
  std::vector<Kv> kvs;
  struct Tensor {
    size_t pos, n_dims_pos, type_pos, offset_pos;
    uint64_t offset, size;  // relative to the data section
  };
  std::vector<Tensor> tensors;

  template <typename T>
  void patch(size_t pos, T v) {
    std::memcpy(bytes.data() + pos, &v, sizeof(T));
  }
};

class GgufWriter {
 public:
  explicit GgufWriter(uint32_t version = 3, uint64_t alignment = 32)
      : version_(version), alignment_(alignment) {}

  // A key-value pair whose value bytes `value` writes (after the type).
  void raw(std::string_view key, uint32_t type, const std::function<void(Bytes&)>& value) {
    Kv kv;
    Bytes b;
    b.str(key);
    b.put<uint32_t>(type);
    kv.value_offset = b.size();
    value(b);
    kv.bytes = std::move(b.b);
    kvs_.push_back(std::move(kv));
  }
  template <typename T>
  void scalar(std::string_view key, uint32_t type, T v) {
    raw(key, type, [&](Bytes& b) { b.put<T>(v); });
  }
  void string(std::string_view key, std::string_view v) {
    raw(key, kGString, [&](Bytes& b) { b.str(v); });
  }
  template <typename T>
  void array(std::string_view key, uint32_t elem_type, const std::vector<T>& v) {
    raw(key, kGArray, [&](Bytes& b) {
      b.put<uint32_t>(elem_type);
      b.put<uint64_t>(v.size());
      for (const T& x : v) b.put<T>(x);
    });
  }
  void string_array(std::string_view key, const std::vector<std::string>& v) {
    raw(key, kGArray, [&](Bytes& b) {
      b.put<uint32_t>(kGString);
      b.put<uint64_t>(v.size());
      for (const std::string& s : v) b.str(s);
    });
  }

  // A tensor with deterministic contents; size_bytes defaults to the layout's.
  void tensor(std::string name, uint32_t type, std::vector<uint64_t> dims, int64_t size_bytes = -1) {
    uint64_t n = 1;
    for (uint64_t d : dims) n *= d;
    const uint64_t size = size_bytes >= 0 ? static_cast<uint64_t>(size_bytes) : ggml_type_bytes(type, n);
    tensors_.push_back({std::move(name), type, std::move(dims), size});
  }

  static uint8_t data_byte(size_t tensor, uint64_t i) {
    return static_cast<uint8_t>(tensor * 37 + i * 13 + 1);
  }

  GgufImage build() const {
    GgufImage img;
    Bytes b;
    b.b = {'G', 'G', 'U', 'F'};
    b.put<uint32_t>(version_);
    b.put<uint64_t>(tensors_.size());
    b.put<uint64_t>(kvs_.size());
    for (const Kv& kv : kvs_) {
      img.kvs.push_back({b.size(), b.size() + kv.value_offset});
      b.b.insert(b.b.end(), kv.bytes.begin(), kv.bytes.end());
    }
    img.infos_begin = b.size();
    uint64_t offset = 0;
    for (const T& t : tensors_) {
      GgufImage::Tensor pos{};
      pos.pos = b.size();
      b.str(t.name);
      pos.n_dims_pos = b.size();
      b.put<uint32_t>(static_cast<uint32_t>(t.dims.size()));
      for (uint64_t d : t.dims) b.put<uint64_t>(d);
      pos.type_pos = b.size();
      b.put<uint32_t>(t.type);
      pos.offset_pos = b.size();
      b.put<uint64_t>(offset);
      pos.offset = offset;
      pos.size = t.size;
      img.tensors.push_back(pos);
      offset = (offset + t.size + alignment_ - 1) / alignment_ * alignment_;
    }
    img.infos_end = b.size();
    img.data_start = (b.size() + alignment_ - 1) / alignment_ * alignment_;
    b.b.resize(img.data_start, 0);
    for (size_t i = 0; i < tensors_.size(); ++i) {
      // The last tensor ends the file: no trailing padding.
      b.b.resize(img.data_start + img.tensors[i].offset, 0);
      for (uint64_t j = 0; j < tensors_[i].size; ++j) b.b.push_back(data_byte(i, j));
    }
    img.bytes = std::move(b.b);
    return img;
  }

 private:
  struct Kv {
    std::vector<uint8_t> bytes;
    size_t value_offset = 0;
  };
  struct T {
    std::string name;
    uint32_t type;
    std::vector<uint64_t> dims;
    uint64_t size;
  };
  uint32_t version_;
  uint64_t alignment_;
  std::vector<Kv> kvs_;
  std::vector<T> tensors_;
};

}  // namespace tsr::test
