// GGUF reader: validates a whole GGUF image (v2, v3) up front and then serves
// metadata and tensor infos that point into it. Nothing is read lazily from
// the file, so after parse() succeeds every accessor is safe on any input.
//
//   auto f = tsr::gguf::File::open("model.gguf");
//   if (!f.is_ok()) return f.status();            // "[gguf] model.gguf: ..."
//   const tsr::gguf::TensorInfo* t = f.value()->find_tensor("token_embd.weight");
//
// Byte order: GGUF is little-endian and so is every host Tessera supports.
#pragma once

#include <bit>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tessera/kit/status.h"
#include "tessera/tessera_types.h"

static_assert(std::endian::native == std::endian::little, "the GGUF reader assumes a little-endian host");

namespace tsr::gguf {

// Metadata value types, numbered as in the GGUF specification (= tsr_gguf_type).
enum class ValueType : uint32_t {
  kUint8 = 0,
  kInt8 = 1,
  kUint16 = 2,
  kInt16 = 3,
  kUint32 = 4,
  kInt32 = 5,
  kFloat32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kUint64 = 10,
  kInt64 = 11,
  kFloat64 = 12,
};
constexpr uint32_t kValueTypeCount = 13;

// "uint32", "string", ...; "type(<id>)" style callers handle nullptr for unknown ids.
const char* value_type_name(ValueType t);
// Bytes of one element of a scalar type; 0 for string and array.
uint64_t value_type_size(ValueType t);
bool is_integer(ValueType t);  // any width, signed or not, and bool
bool is_float(ValueType t);

// Layout of a GGUF/ggml tensor type: block_size elements take block_bytes.
struct TypeInfo {
  const char* name;
  int64_t block_size;
  int64_t block_bytes;
};
// nullptr for ids that are unknown or whose layout was removed from ggml.
const TypeInfo* type_info(int32_t ggml_type);

constexpr int kMaxArrayDepth = 8;  // arrays of arrays, nested at most this deep
constexpr uint64_t kDefaultAlignment = 32;

// One metadata value. Scalars are decoded; strings point into the image;
// arrays of scalars keep a pointer to their packed little-endian elements.
struct Value {
  ValueType type = ValueType::kUint8;
  uint64_t u64 = 0;      // unsigned integers and bool
  int64_t i64 = 0;       // signed integers
  double f64 = 0;        // float32, float64
  std::string_view str;  // kString
  // kArray:
  ValueType elem_type = ValueType::kUint8;
  uint64_t length = 0;
  const uint8_t* raw = nullptr;           // scalar elements
  std::vector<std::string_view> strings;  // string elements
  std::vector<Value> arrays;              // array elements

  // Element i (< length) of an array of scalars or strings, decoded.
  Value scalar_at(uint64_t i) const;
  // Integer value as int64 when it fits (any integer type or bool).
  bool to_int64(int64_t* out) const;
};

struct KeyValue {
  std::string_view key;
  Value value;
};

struct TensorInfo {
  std::string_view name;
  int32_t n_dims = 0;
  int64_t ne[TSR_MAX_DIMS] = {1, 1, 1, 1};  // ne[0] innermost
  int32_t type = 0;                         // ggml type id
  uint64_t offset = 0;                      // from the start of the file
  uint64_t size = 0;                        // bytes
  const uint8_t* data = nullptr;
};

class File {
 public:
  // Validates an image in memory (borrowed: it must outlive the File).
  static Result<std::unique_ptr<File>> parse(const void* data, uint64_t size, std::string name);
  // Maps path read-only and validates it. TSR_ERR_IO when it cannot be read.
  static Result<std::unique_ptr<File>> open(const std::string& path);

  File(const File&) = delete;
  File& operator=(const File&) = delete;
  ~File();

  const std::string& name() const { return name_; }
  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }  // start of the tensor data section
  const uint8_t* bytes() const { return data_; }
  uint64_t size() const { return size_; }

  const std::vector<KeyValue>& metadata() const { return kv_; }
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  // Index into metadata()/tensors(), or -1.
  int64_t find_key(std::string_view key) const;
  int64_t find_tensor_index(std::string_view name) const;
  const KeyValue* find(std::string_view key) const;
  const TensorInfo* find_tensor(std::string_view name) const;

 private:
  friend class Parser;
  File() = default;

  std::string name_;
  const uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
  void* mapping_ = nullptr;  // owned mmap of size_ bytes, or nullptr
  uint32_t version_ = 0;
  uint64_t alignment_ = kDefaultAlignment;
  uint64_t data_offset_ = 0;
  std::vector<KeyValue> kv_;
  std::vector<TensorInfo> tensors_;
  std::unordered_map<std::string_view, int64_t> key_index_;
  std::unordered_map<std::string_view, int64_t> tensor_index_;
};

}  // namespace tsr::gguf
