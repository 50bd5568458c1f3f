// GGUF files: mapping a path read-only, and the accessors over a parsed image.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/gguf.h"

namespace tsr::gguf {
namespace {

Status io_error(const std::string& path, const char* what, int err) {
  return make_error(TSR_ERR_IO, "[gguf] {}: {}: {}", path, what, std::strerror(err));
}

// Closes a descriptor on every path out of open().
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

template <typename T>
T load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

}  // namespace

Result<std::unique_ptr<File>> File::open(const std::string& path) {
  Fd fd;
  fd.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd.fd < 0) return io_error(path, "cannot open", errno);
  struct stat st {};
  if (::fstat(fd.fd, &st) != 0) return io_error(path, "cannot stat", errno);
  if (S_ISDIR(st.st_mode)) return make_error(TSR_ERR_IO, "[gguf] {}: is a directory, not a GGUF file", path);
  if (!S_ISREG(st.st_mode)) return make_error(TSR_ERR_IO, "[gguf] {}: not a regular file", path);
  const auto size = static_cast<uint64_t>(st.st_size);
  // mmap refuses length 0; an empty file is simply too small to be GGUF.
  if (size == 0) return parse(nullptr, 0, path);
  void* m = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd.fd, 0);
  if (m == MAP_FAILED) return io_error(path, "cannot map", errno);
  auto r = parse(m, size, path);
  if (!r.is_ok()) {
    ::munmap(m, size);
    return r;
  }
  r.value()->mapping_ = m;
  return r;
}

File::~File() {
  if (mapping_) ::munmap(mapping_, size_);
}

int64_t File::find_key(std::string_view key) const {
  auto it = key_index_.find(key);
  return it == key_index_.end() ? -1 : it->second;
}

int64_t File::find_tensor_index(std::string_view name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? -1 : it->second;
}

const KeyValue* File::find(std::string_view key) const {
  const int64_t i = find_key(key);
  return i < 0 ? nullptr : &kv_[i];
}

const TensorInfo* File::find_tensor(std::string_view name) const {
  const int64_t i = find_tensor_index(name);
  return i < 0 ? nullptr : &tensors_[i];
}

Value Value::scalar_at(uint64_t i) const {
  Value v;
  v.type = elem_type;
  if (elem_type == ValueType::kString) {
    v.str = strings[i];
    return v;
  }
  const uint8_t* p = raw + i * value_type_size(elem_type);
  switch (elem_type) {
    case ValueType::kUint8:
    case ValueType::kBool:
      v.u64 = load<uint8_t>(p);
      break;
    case ValueType::kInt8:
      v.i64 = load<int8_t>(p);
      break;
    case ValueType::kUint16:
      v.u64 = load<uint16_t>(p);
      break;
    case ValueType::kInt16:
      v.i64 = load<int16_t>(p);
      break;
    case ValueType::kUint32:
      v.u64 = load<uint32_t>(p);
      break;
    case ValueType::kInt32:
      v.i64 = load<int32_t>(p);
      break;
    case ValueType::kUint64:
      v.u64 = load<uint64_t>(p);
      break;
    case ValueType::kInt64:
      v.i64 = load<int64_t>(p);
      break;
    case ValueType::kFloat32:
      v.f64 = load<float>(p);
      break;
    case ValueType::kFloat64:
      v.f64 = load<double>(p);
      break;
    case ValueType::kString:
    case ValueType::kArray:
      break;
  }
  return v;
}

bool Value::to_int64(int64_t* out) const {
  switch (type) {
    case ValueType::kInt8:
    case ValueType::kInt16:
    case ValueType::kInt32:
    case ValueType::kInt64:
      *out = i64;
      return true;
    case ValueType::kUint8:
    case ValueType::kUint16:
    case ValueType::kUint32:
    case ValueType::kUint64:
    case ValueType::kBool:
      if (u64 > static_cast<uint64_t>(INT64_MAX)) return false;
      *out = static_cast<int64_t>(u64);
      return true;
    default:
      return false;
  }
}

}  // namespace tsr::gguf
