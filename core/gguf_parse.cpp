// GGUF parsing and validation. Every read is bounds-checked against the bytes
// left; every count is checked against those bytes before anything is
// allocated for it; every size computation is overflow-checked. Errors name
// the file, the item, the field, its byte offset and the values found.
#include <algorithm>
#include <cstring>
#include <numeric>

#include "core/gguf.h"

namespace tsr::gguf {
namespace {

constexpr char kMagic[4] = {'G', 'G', 'U', 'F'};
// Least bytes one entry can take, for checking counts against the bytes left.
constexpr uint64_t kMinKvBytes = 8 + 4 + 1;                  // key length, type, 1-byte value
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 8 + 4 + 8;  // name length, n_dims, 1 dim, type, offset

bool mul_overflows(uint64_t a, uint64_t b, uint64_t* out) { return __builtin_mul_overflow(a, b, out); }
bool add_overflows(uint64_t a, uint64_t b, uint64_t* out) { return __builtin_add_overflow(a, b, out); }

}  // namespace

class Parser {
 public:
  Parser(File& f) : f_(f), p_(f.data_), n_(f.size_) {}

  Status run() {
    TSR_RETURN_IF_ERROR(header());
    TSR_RETURN_IF_ERROR(metadata());
    TSR_RETURN_IF_ERROR(alignment());
    TSR_RETURN_IF_ERROR(tensor_infos());
    return tensor_layout();
  }

 private:
  template <typename... Args>
  Status error(fmt::format_string<Args...> fmtstr, Args&&... args) {
    std::string m = fmt::format("[gguf] {}: ", f_.name_);
    if (!where_.empty()) m += where_ + ": ";
    m += fmt::format(fmtstr, std::forward<Args>(args)...);
    return Status(TSR_ERR_INVALID_ARGUMENT, std::move(m));
  }

  uint64_t left() const { return n_ - pos_; }

  Status need(uint64_t bytes, std::string_view field) {
    if (bytes <= left()) return {};
    return error("{} at byte {} needs {} bytes, but the file ends at byte {} (truncated?)", field, pos_,
                 bytes, n_);
  }

  template <typename T>
  Status read(T* out, std::string_view field) {
    TSR_RETURN_IF_ERROR(need(sizeof(T), field));
    std::memcpy(out, p_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return {};
  }

  Status read_string(std::string_view* out, std::string_view field) {
    const uint64_t at = pos_;
    uint64_t len = 0;
    TSR_RETURN_IF_ERROR(read(&len, field));
    if (len > left())
      return error("{} at byte {} has length {}, but only {} bytes are left in the file", field, at, len,
                   left());
    *out = std::string_view(reinterpret_cast<const char*>(p_ + pos_), len);
    pos_ += len;
    return {};
  }

  // A count of entries each taking at least min_bytes: anything larger than
  // the bytes left could hold is corrupt, and is refused before allocating.
  Status check_count(uint64_t count, uint64_t min_bytes, uint64_t at, std::string_view field) {
    if (count <= left() / min_bytes) return {};
    return error("{} {} at byte {} is impossible: each entry needs at least {} bytes and {} are left", field,
                 count, at, min_bytes, left());
  }

  Status header() {
    if (n_ < 4 + 4 + 8 + 8)
      return error(
          "{} bytes is too small for a GGUF header (magic, version, tensor count, kv count: 24 bytes)", n_);
    if (std::memcmp(p_, kMagic, 4) != 0)
      return error("bad magic {:02x} {:02x} {:02x} {:02x} at byte 0 (expected \"GGUF\"); not a GGUF file",
                   p_[0], p_[1], p_[2], p_[3]);
    pos_ = 4;
    uint32_t version = 0;
    TSR_RETURN_IF_ERROR(read(&version, "version"));
    if (version == 1)
      return error("version 1 at byte 4 is not supported (GGUF v1 used 32-bit counts); re-convert the model");
    if (version != 2 && version != 3) {
      if ((version & 0xffffu) == 0)
        return error("version {} at byte 4 is not supported (a big-endian GGUF file?)", version);
      return error("version {} at byte 4 is not supported (expected 2 or 3)", version);
    }
    f_.version_ = version;
    TSR_RETURN_IF_ERROR(read(&n_tensors_, "tensor count"));
    TSR_RETURN_IF_ERROR(read(&n_kv_, "kv count"));
    // Each tensor info and each key-value pair needs some bytes; refuse counts
    // the file cannot hold before reserving anything.
    TSR_RETURN_IF_ERROR(check_count(n_tensors_, kMinTensorInfoBytes, 8, "tensor count"));
    TSR_RETURN_IF_ERROR(check_count(n_kv_, kMinKvBytes, 16, "kv count"));
    return {};
  }

  Status value_type(uint32_t raw, uint64_t at, std::string_view field, ValueType* out) {
    if (raw >= kValueTypeCount)
      return error("{} {} at byte {} is not a GGUF value type (0..{})", field, raw, at, kValueTypeCount - 1);
    *out = static_cast<ValueType>(raw);
    return {};
  }

  Status scalar(ValueType t, Value* v) {
    const uint64_t at = pos_;
    switch (t) {
      case ValueType::kUint8: {
        uint8_t x = 0;
        TSR_RETURN_IF_ERROR(read(&x, "uint8 value"));
        v->u64 = x;
        break;
      }
      case ValueType::kInt8: {
        int8_t x = 0;
        TSR_RETURN_IF_ERROR(read(&x, "int8 value"));
        v->i64 = x;
        break;
      }
      case ValueType::kUint16: {
        uint16_t x = 0;
        TSR_RETURN_IF_ERROR(read(&x, "uint16 value"));
        v->u64 = x;
        break;
      }
      case ValueType::kInt16: {
        int16_t x = 0;
        TSR_RETURN_IF_ERROR(read(&x, "int16 value"));
        v->i64 = x;
        break;
      }
      case ValueType::kUint32: {
        uint32_t x = 0;
        TSR_RETURN_IF_ERROR(read(&x, "uint32 value"));
        v->u64 = x;
        break;
      }
      case ValueType::kInt32: {
        int32_t x = 0;
        TSR_RETURN_IF_ERROR(read(&x, "int32 value"));
        v->i64 = x;
        break;
      }
      case ValueType::kUint64:
        TSR_RETURN_IF_ERROR(read(&v->u64, "uint64 value"));
        break;
      case ValueType::kInt64:
        TSR_RETURN_IF_ERROR(read(&v->i64, "int64 value"));
        break;
      case ValueType::kFloat32: {
        float x = 0;
        TSR_RETURN_IF_ERROR(read(&x, "float32 value"));
        v->f64 = x;
        break;
      }
      case ValueType::kFloat64:
        TSR_RETURN_IF_ERROR(read(&v->f64, "float64 value"));
        break;
      case ValueType::kBool: {
        uint8_t x = 0;
        TSR_RETURN_IF_ERROR(read(&x, "bool value"));
        if (x > 1) return error("bool value {} at byte {} is neither 0 nor 1", x, at);
        v->u64 = x;
        break;
      }
      case ValueType::kString:
        return read_string(&v->str, "string value");
      case ValueType::kArray:
        return error("internal: array passed to scalar()");
    }
    return {};
  }

  Status value(ValueType t, int depth, Value* v) {
    v->type = t;
    if (t != ValueType::kArray) return scalar(t, v);
    if (depth >= kMaxArrayDepth)
      return error("arrays nested deeper than {} at byte {}", kMaxArrayDepth, pos_);
    const uint64_t type_at = pos_;
    uint32_t raw = 0;
    TSR_RETURN_IF_ERROR(read(&raw, "array element type"));
    TSR_RETURN_IF_ERROR(value_type(raw, type_at, "array element type", &v->elem_type));
    const uint64_t len_at = pos_;
    TSR_RETURN_IF_ERROR(read(&v->length, "array length"));
    const uint64_t elem = value_type_size(v->elem_type);
    // A string takes at least its 8-byte length, an array its type and length.
    const uint64_t min_elem = elem ? elem : v->elem_type == ValueType::kString ? 8 : 4 + 8;
    if (v->length > left() / min_elem)
      return error(
          "array length {} at byte {} is impossible: {} elements need at least {} bytes each and {} "
          "are left",
          v->length, len_at, value_type_name(v->elem_type), min_elem, left());
    if (elem) {
      v->raw = p_ + pos_;
      if (v->elem_type == ValueType::kBool) {
        for (uint64_t i = 0; i < v->length; ++i)
          if (v->raw[i] > 1)
            return error("bool array element {} at byte {} is {}, neither 0 nor 1", i, pos_ + i, v->raw[i]);
      }
      pos_ += v->length * elem;  // fits: checked above
    } else if (v->elem_type == ValueType::kString) {
      for (uint64_t i = 0; i < v->length; ++i)
        TSR_RETURN_IF_ERROR(read_string(&v->strings.emplace_back(), "array string"));
    } else {
      // Each element is an array value itself: element type, length, elements.
      // Grown as parsed, not sized from the length: a Value is ~10x the 12
      // bytes an element needs at least, so memory follows the bytes read.
      for (uint64_t i = 0; i < v->length; ++i) {
        v->arrays.emplace_back();
        TSR_RETURN_IF_ERROR(value(ValueType::kArray, depth + 1, &v->arrays.back()));
      }
    }
    return {};
  }

  Status metadata() {
    // Grown as parsed: memory follows the bytes actually read, whatever the count says.
    for (uint64_t i = 0; i < n_kv_; ++i) {
      KeyValue& kv = f_.kv_.emplace_back();
      where_ = fmt::format("key {}", i);
      TSR_RETURN_IF_ERROR(read_string(&kv.key, "key"));
      where_ = fmt::format("key {} '{}'", i, kv.key);
      const uint64_t at = pos_;
      uint32_t raw = 0;
      TSR_RETURN_IF_ERROR(read(&raw, "value type"));
      ValueType t;
      TSR_RETURN_IF_ERROR(value_type(raw, at, "value type", &t));
      TSR_RETURN_IF_ERROR(value(t, 0, &kv.value));
      auto [it, inserted] = f_.key_index_.emplace(kv.key, static_cast<int64_t>(i));
      if (!inserted) return error("duplicate key (first defined as key {})", it->second);
    }
    where_.clear();
    return {};
  }

  Status alignment() {
    const int64_t i = f_.find_key("general.alignment");
    if (i < 0) return {};
    const Value& v = f_.kv_[i].value;
    where_ = fmt::format("key {} 'general.alignment'", i);
    int64_t a = 0;
    if (!is_integer(v.type) || v.type == ValueType::kBool || !v.to_int64(&a))
      return error("has type {}, expected an unsigned integer", value_type_name(v.type));
    if (a <= 0 || (a & (a - 1)) != 0) return error("alignment {} is not a power of two", a);
    if (static_cast<uint64_t>(a) > (uint64_t{1} << 30)) return error("alignment {} is larger than 2^30", a);
    f_.alignment_ = static_cast<uint64_t>(a);
    where_.clear();
    return {};
  }

  Status tensor_infos() {
    for (uint64_t i = 0; i < n_tensors_; ++i) {
      TensorInfo& t = f_.tensors_.emplace_back();
      where_ = fmt::format("tensor {}", i);
      TSR_RETURN_IF_ERROR(read_string(&t.name, "tensor name"));
      where_ = fmt::format("tensor {} '{}'", i, t.name);
      const uint64_t nd_at = pos_;
      uint32_t n_dims = 0;
      TSR_RETURN_IF_ERROR(read(&n_dims, "n_dims"));
      if (n_dims < 1 || n_dims > TSR_MAX_DIMS)
        return error("n_dims {} at byte {} is outside 1..{}", n_dims, nd_at, TSR_MAX_DIMS);
      t.n_dims = static_cast<int32_t>(n_dims);
      uint64_t n_elems = 1;
      for (uint32_t d = 0; d < n_dims; ++d) {
        const uint64_t at = pos_;
        uint64_t ne = 0;
        TSR_RETURN_IF_ERROR(read(&ne, "dim"));
        if (ne > static_cast<uint64_t>(INT64_MAX))
          return error("dim {} at byte {} is {}, above 2^63-1", d, at, ne);
        if (mul_overflows(n_elems, ne, &n_elems) || n_elems > static_cast<uint64_t>(INT64_MAX))
          return error("dim {} at byte {} is {}: the element count overflows 2^63-1", d, at, ne);
        t.ne[d] = static_cast<int64_t>(ne);
      }
      const uint64_t type_at = pos_;
      uint32_t type = 0;
      TSR_RETURN_IF_ERROR(read(&type, "type"));
      const TypeInfo* ti =
          type <= static_cast<uint32_t>(INT32_MAX) ? type_info(static_cast<int32_t>(type)) : nullptr;
      if (!ti)
        return error("type {} at byte {} is not a GGUF tensor type with a known layout", type, type_at);
      t.type = static_cast<int32_t>(type);
      if (t.ne[0] % ti->block_size != 0)
        return error("ne[0] = {} is not a multiple of the {} block size {}", t.ne[0], ti->name,
                     ti->block_size);
      if (mul_overflows(n_elems / ti->block_size, ti->block_bytes, &t.size))
        return error("{} elements of {} overflow a 64-bit byte count", n_elems, ti->name);
      const uint64_t off_at = pos_;
      TSR_RETURN_IF_ERROR(read(&t.offset, "offset"));
      offset_at_.push_back(off_at);
      auto [it, inserted] = f_.tensor_index_.emplace(t.name, static_cast<int64_t>(i));
      if (!inserted) return error("duplicate tensor name (first defined as tensor {})", it->second);
    }
    where_.clear();
    return {};
  }

  // Data section start, then every tensor: aligned, inside the file, no overlap.
  Status tensor_layout() {
    const uint64_t a = f_.alignment_;
    uint64_t start = 0;
    if (add_overflows(pos_, a - 1, &start)) return error("data section start overflows");
    start -= start % a;
    f_.data_offset_ = start;
    for (uint64_t i = 0; i < n_tensors_; ++i) {
      TensorInfo& t = f_.tensors_[i];
      where_ = fmt::format("tensor {} '{}'", i, t.name);
      if (t.offset % a != 0)
        return error("offset {} at byte {} is not a multiple of the alignment {}", t.offset, offset_at_[i],
                     a);
      uint64_t abs = 0, end = 0;
      if (add_overflows(start, t.offset, &abs) || add_overflows(abs, t.size, &end) || end > n_)
        return error("offset {} + size {} (data section at byte {}) exceeds the file ({} bytes)", t.offset,
                     t.size, start, n_);
      t.offset = abs;
      t.data = f_.data_ + abs;
    }
    where_.clear();
    std::vector<uint64_t> order(n_tensors_);
    std::iota(order.begin(), order.end(), uint64_t{0});
    std::sort(order.begin(), order.end(),
              [&](uint64_t x, uint64_t y) { return f_.tensors_[x].offset < f_.tensors_[y].offset; });
    uint64_t end = 0, end_owner = 0;
    for (uint64_t i : order) {
      const TensorInfo& t = f_.tensors_[i];
      if (t.size == 0) continue;
      if (t.offset < end) {
        const TensorInfo& o = f_.tensors_[end_owner];
        return error("tensor {} '{}' at bytes [{}, {}) overlaps tensor {} '{}' at bytes [{}, {})", i, t.name,
                     t.offset, t.offset + t.size, end_owner, o.name, o.offset, o.offset + o.size);
      }
      end = t.offset + t.size;
      end_owner = i;
    }
    return {};
  }

  File& f_;
  const uint8_t* p_;
  uint64_t n_;
  uint64_t pos_ = 0;
  uint64_t n_tensors_ = 0;
  uint64_t n_kv_ = 0;
  std::vector<uint64_t> offset_at_;
  std::string where_;  // the item being read, for messages
};

Result<std::unique_ptr<File>> File::parse(const void* data, uint64_t size, std::string name) {
  std::unique_ptr<File> f(new File());
  f->name_ = std::move(name);
  f->data_ = static_cast<const uint8_t*>(data);
  f->size_ = data ? size : 0;
  Parser p(*f);
  TSR_RETURN_IF_ERROR(p.run());
  return f;
}

}  // namespace tsr::gguf
