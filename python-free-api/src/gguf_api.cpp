// The GGUF part of the C API (tessera_gguf.h): thin glue over tsr::gguf::File.
#include <cstring>
#include <memory>
#include <string>

#include "core/gguf.h"
#include "python-free-api/src/api_util.h"
#include "tessera/kit/dtype.h"
#include "tessera/tessera_gguf.h"

struct tsr_gguf_s {
  std::unique_ptr<tsr::gguf::File> file;
};

namespace {

using tsr::capi::guarded;
using tsr::capi::null_arg;
using tsr::gguf::ValueType;

tsr_gguf_string to_c(std::string_view s) { return {s.data(), s.size()}; }

tsr::Status set_handle(tsr::Result<std::unique_ptr<tsr::gguf::File>> r, tsr_gguf** out_file) {
  if (!r.is_ok()) return r.status();
  auto h = std::make_unique<tsr_gguf_s>();
  h->file = std::move(r.value());
  *out_file = h.release();
  return {};
}

// The value of key, or NOT_FOUND naming it.
tsr::Status lookup(const char* where, const tsr_gguf* f, const char* key, const tsr::gguf::Value** out) {
  if (!f) return null_arg(where, "file");
  if (!key) return null_arg(where, "key");
  const tsr::gguf::KeyValue* kv = f->file->find(key);
  if (!kv)
    return tsr::make_error(TSR_ERR_NOT_FOUND, "[{}] {}: key '{}' not found", where, f->file->name(), key);
  *out = &kv->value;
  return {};
}

tsr::Status wrong_type(const char* where, const tsr_gguf* f, const char* key, ValueType t,
                       const char* wanted) {
  return tsr::invalid_arg("[{}] {}: key '{}' is {}, not {}", where, f->file->name(), key,
                          tsr::gguf::value_type_name(t), wanted);
}

// Element index of the array under key, decoded, after checking its type with accept.
template <typename Accept>
tsr::Status element(const char* where, const tsr_gguf* f, const char* key, uint64_t index, Accept accept,
                    const char* wanted, tsr::gguf::Value* out) {
  const tsr::gguf::Value* v = nullptr;
  TSR_RETURN_IF_ERROR(lookup(where, f, key, &v));
  if (v->type != ValueType::kArray) return wrong_type(where, f, key, v->type, "an array");
  if (!accept(v->elem_type))
    return tsr::invalid_arg("[{}] {}: key '{}' is an array of {}, not of {}", where, f->file->name(), key,
                            tsr::gguf::value_type_name(v->elem_type), wanted);
  if (index >= v->length)
    return tsr::invalid_arg("[{}] {}: key '{}': index {} outside the array of {} elements", where,
                            f->file->name(), key, index, v->length);
  *out = v->scalar_at(index);
  return {};
}

tsr::Status as_int(const char* where, const tsr_gguf* f, const char* key, const tsr::gguf::Value& v,
                   int64_t* out) {
  if (!v.to_int64(out))
    return tsr::invalid_arg("[{}] {}: key '{}': {} value {} does not fit int64", where, f->file->name(), key,
                            tsr::gguf::value_type_name(v.type), v.u64);
  return {};
}

bool int_elem(ValueType t) { return tsr::gguf::is_integer(t); }
bool float_elem(ValueType t) { return tsr::gguf::is_float(t); }
bool string_elem(ValueType t) { return t == ValueType::kString; }

tsr_gguf_tensor tensor_to_c(const tsr::gguf::TensorInfo& t) {
  tsr_gguf_tensor c{};
  c.name = to_c(t.name);
  c.n_dims = t.n_dims;
  for (int d = 0; d < TSR_MAX_DIMS; ++d) c.ne[d] = t.ne[d];
  c.ggml_type = t.type;
  c.tessera_dtype = tsr::dtype_traits(t.type) != nullptr ? 1 : 0;
  c.offset = t.offset;
  c.size = t.size;
  c.data = t.data;
  return c;
}

}  // namespace

extern "C" {

TSR_API tsr_status_code tsr_gguf_open(const char* path, tsr_gguf** out_file) {
  return guarded("gguf_open", [&]() -> tsr::Status {
    if (!path || !out_file) return null_arg("gguf_open", !path ? "path" : "out_file");
    return set_handle(tsr::gguf::File::open(path), out_file);
  });
}

TSR_API tsr_status_code tsr_gguf_open_memory(const void* data, uint64_t size, const char* name,
                                             tsr_gguf** out_file) {
  return guarded("gguf_open_memory", [&]() -> tsr::Status {
    if (!out_file) return null_arg("gguf_open_memory", "out_file");
    if (!data && size) return null_arg("gguf_open_memory", "data");
    return set_handle(tsr::gguf::File::parse(data, size, name ? name : "<memory>"), out_file);
  });
}

TSR_API void tsr_gguf_close(tsr_gguf* f) { delete f; }

TSR_API uint32_t tsr_gguf_version(const tsr_gguf* f) { return f ? f->file->version() : 0; }
TSR_API uint64_t tsr_gguf_alignment(const tsr_gguf* f) { return f ? f->file->alignment() : 0; }

TSR_API int64_t tsr_gguf_metadata_count(const tsr_gguf* f) {
  return f ? static_cast<int64_t>(f->file->metadata().size()) : 0;
}

TSR_API tsr_status_code tsr_gguf_metadata_key(const tsr_gguf* f, int64_t index, tsr_gguf_string* out_key,
                                              tsr_gguf_type* out_type) {
  return guarded("gguf_metadata_key", [&]() -> tsr::Status {
    if (!f) return null_arg("gguf_metadata_key", "file");
    const auto& kv = f->file->metadata();
    if (index < 0 || index >= static_cast<int64_t>(kv.size()))
      return tsr::invalid_arg("[gguf_metadata_key] {}: index {} outside [0, {})", f->file->name(), index,
                              kv.size());
    if (out_key) *out_key = to_c(kv[index].key);
    if (out_type) *out_type = static_cast<tsr_gguf_type>(kv[index].value.type);
    return {};
  });
}

TSR_API tsr_status_code tsr_gguf_find_key(const tsr_gguf* f, const char* key, int64_t* out_index) {
  return guarded("gguf_find_key", [&]() -> tsr::Status {
    if (!f || !key || !out_index) return null_arg("gguf_find_key", !f ? "file" : !key ? "key" : "out_index");
    const int64_t i = f->file->find_key(key);
    if (i < 0)
      return tsr::make_error(TSR_ERR_NOT_FOUND, "[gguf_find_key] {}: key '{}' not found", f->file->name(),
                             key);
    *out_index = i;
    return {};
  });
}

TSR_API tsr_status_code tsr_gguf_get_int(const tsr_gguf* f, const char* key, int64_t* out_value) {
  return guarded("gguf_get_int", [&]() -> tsr::Status {
    const tsr::gguf::Value* v = nullptr;
    TSR_RETURN_IF_ERROR(lookup("gguf_get_int", f, key, &v));
    if (!out_value) return null_arg("gguf_get_int", "out_value");
    if (!tsr::gguf::is_integer(v->type)) return wrong_type("gguf_get_int", f, key, v->type, "an integer");
    return as_int("gguf_get_int", f, key, *v, out_value);
  });
}

TSR_API tsr_status_code tsr_gguf_get_float(const tsr_gguf* f, const char* key, double* out_value) {
  return guarded("gguf_get_float", [&]() -> tsr::Status {
    const tsr::gguf::Value* v = nullptr;
    TSR_RETURN_IF_ERROR(lookup("gguf_get_float", f, key, &v));
    if (!out_value) return null_arg("gguf_get_float", "out_value");
    if (!tsr::gguf::is_float(v->type)) return wrong_type("gguf_get_float", f, key, v->type, "a float");
    *out_value = v->f64;
    return {};
  });
}

TSR_API tsr_status_code tsr_gguf_get_string(const tsr_gguf* f, const char* key, tsr_gguf_string* out_value) {
  return guarded("gguf_get_string", [&]() -> tsr::Status {
    const tsr::gguf::Value* v = nullptr;
    TSR_RETURN_IF_ERROR(lookup("gguf_get_string", f, key, &v));
    if (!out_value) return null_arg("gguf_get_string", "out_value");
    if (v->type != ValueType::kString) return wrong_type("gguf_get_string", f, key, v->type, "a string");
    *out_value = to_c(v->str);
    return {};
  });
}

TSR_API tsr_status_code tsr_gguf_get_array(const tsr_gguf* f, const char* key, tsr_gguf_type* out_elem_type,
                                           uint64_t* out_length) {
  return guarded("gguf_get_array", [&]() -> tsr::Status {
    const tsr::gguf::Value* v = nullptr;
    TSR_RETURN_IF_ERROR(lookup("gguf_get_array", f, key, &v));
    if (v->type != ValueType::kArray) return wrong_type("gguf_get_array", f, key, v->type, "an array");
    if (out_elem_type) *out_elem_type = static_cast<tsr_gguf_type>(v->elem_type);
    if (out_length) *out_length = v->length;
    return {};
  });
}

TSR_API tsr_status_code tsr_gguf_array_string(const tsr_gguf* f, const char* key, uint64_t index,
                                              tsr_gguf_string* out_value) {
  return guarded("gguf_array_string", [&]() -> tsr::Status {
    if (!out_value) return null_arg("gguf_array_string", "out_value");
    tsr::gguf::Value e;
    TSR_RETURN_IF_ERROR(element("gguf_array_string", f, key, index, string_elem, "strings", &e));
    *out_value = to_c(e.str);
    return {};
  });
}

TSR_API tsr_status_code tsr_gguf_array_int(const tsr_gguf* f, const char* key, uint64_t index,
                                           int64_t* out_value) {
  return guarded("gguf_array_int", [&]() -> tsr::Status {
    if (!out_value) return null_arg("gguf_array_int", "out_value");
    tsr::gguf::Value e;
    TSR_RETURN_IF_ERROR(element("gguf_array_int", f, key, index, int_elem, "integers", &e));
    return as_int("gguf_array_int", f, key, e, out_value);
  });
}

TSR_API tsr_status_code tsr_gguf_array_float(const tsr_gguf* f, const char* key, uint64_t index,
                                             double* out_value) {
  return guarded("gguf_array_float", [&]() -> tsr::Status {
    if (!out_value) return null_arg("gguf_array_float", "out_value");
    tsr::gguf::Value e;
    TSR_RETURN_IF_ERROR(element("gguf_array_float", f, key, index, float_elem, "floats", &e));
    *out_value = e.f64;
    return {};
  });
}

TSR_API tsr_status_code tsr_gguf_get_value(const tsr_gguf* f, const char* key, const uint64_t* path,
                                           int32_t depth, tsr_gguf_value* out_value) {
  constexpr const char* kWhere = "gguf_get_value";
  return guarded(kWhere, [&]() -> tsr::Status {
    const tsr::gguf::Value* v = nullptr;
    TSR_RETURN_IF_ERROR(lookup(kWhere, f, key, &v));
    if (!out_value) return null_arg(kWhere, "out_value");
    if (depth < 0 || depth > tsr::gguf::kMaxArrayDepth)
      return tsr::invalid_arg("[{}] depth {} outside [0, {}]", kWhere, depth, tsr::gguf::kMaxArrayDepth);
    if (depth > 0 && !path) return null_arg(kWhere, "path");
    tsr::gguf::Value scalar;
    for (int32_t d = 0; d < depth; ++d) {
      if (v->type != ValueType::kArray)
        return tsr::invalid_arg("[{}] {}: key '{}': path[{}]: the value there is {}, not an array", kWhere,
                                f->file->name(), key, d, tsr::gguf::value_type_name(v->type));
      if (path[d] >= v->length)
        return tsr::invalid_arg("[{}] {}: key '{}': path[{}] = {} outside the array of {} elements", kWhere,
                                f->file->name(), key, d, path[d], v->length);
      if (v->elem_type == ValueType::kArray) {
        v = &v->arrays[path[d]];
      } else {
        scalar = v->scalar_at(path[d]);
        v = &scalar;
      }
    }
    tsr_gguf_value out{};
    out.type = static_cast<tsr_gguf_type>(v->type);
    out.elem_type =
        static_cast<tsr_gguf_type>(v->type == ValueType::kArray ? v->elem_type : ValueType::kUint8);
    out.length = v->type == ValueType::kArray ? v->length : 0;
    out.u64 = v->u64;
    out.i64 = v->i64;
    out.f64 = v->f64;
    out.str = to_c(v->str);
    *out_value = out;
    return {};
  });
}

TSR_API int64_t tsr_gguf_tensor_count(const tsr_gguf* f) {
  return f ? static_cast<int64_t>(f->file->tensors().size()) : 0;
}

TSR_API tsr_status_code tsr_gguf_get_tensor(const tsr_gguf* f, int64_t index, tsr_gguf_tensor* out_tensor) {
  return guarded("gguf_get_tensor", [&]() -> tsr::Status {
    if (!f || !out_tensor) return null_arg("gguf_get_tensor", !f ? "file" : "out_tensor");
    const auto& ts = f->file->tensors();
    if (index < 0 || index >= static_cast<int64_t>(ts.size()))
      return tsr::invalid_arg("[gguf_get_tensor] {}: index {} outside [0, {})", f->file->name(), index,
                              ts.size());
    *out_tensor = tensor_to_c(ts[index]);
    return {};
  });
}

TSR_API tsr_status_code tsr_gguf_find_tensor(const tsr_gguf* f, const char* name,
                                             tsr_gguf_tensor* out_tensor) {
  return guarded("gguf_find_tensor", [&]() -> tsr::Status {
    if (!f || !name || !out_tensor)
      return null_arg("gguf_find_tensor", !f ? "file" : !name ? "name" : "out_tensor");
    const tsr::gguf::TensorInfo* t = f->file->find_tensor(name);
    if (!t)
      return tsr::make_error(TSR_ERR_NOT_FOUND, "[gguf_find_tensor] {}: tensor '{}' not found",
                             f->file->name(), name);
    *out_tensor = tensor_to_c(*t);
    return {};
  });
}

TSR_API const char* tsr_gguf_type_name(int32_t ggml_type) {
  const tsr::gguf::TypeInfo* t = tsr::gguf::type_info(ggml_type);
  return t ? t->name : nullptr;
}

}  // extern "C"
