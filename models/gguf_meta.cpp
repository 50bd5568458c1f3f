#include "models/gguf_meta.h"

#include <vector>

namespace tessera::models {
namespace {

std::string dims_str(const int64_t* ne, int n) {
  std::string s = "[";
  for (int i = 0; i < n; ++i) s += (i ? ", " : "") + std::to_string(ne[i]);
  return s + "]";
}

}  // namespace

void GgufMeta::fail(tsr_status_code code, const std::string& msg) const {
  throw Error(code, "[" + tag_ + "] " + msg);
}

bool GgufMeta::has(const std::string& key) const {
  int64_t index;
  return tsr_gguf_find_key(f_, key.c_str(), &index) == TSR_OK;
}

int64_t GgufMeta::required_int(const std::string& key) const {
  if (!has(key)) fail(TSR_ERR_NOT_FOUND, "missing required metadata key '" + key + "'");
  int64_t v = 0;
  check(tsr_gguf_get_int(f_, key.c_str(), &v));
  if (v <= 0) fail(TSR_ERR_INVALID_ARGUMENT, key + " = " + std::to_string(v) + " must be > 0");
  return v;
}

int64_t GgufMeta::optional_int(const std::string& key, int64_t fallback) const {
  return has(key) ? required_int(key) : fallback;
}

float GgufMeta::required_float(const std::string& key) const {
  if (!has(key)) fail(TSR_ERR_NOT_FOUND, "missing required metadata key '" + key + "'");
  double v = 0.0;
  check(tsr_gguf_get_float(f_, key.c_str(), &v));
  return static_cast<float>(v);
}

float GgufMeta::optional_float(const std::string& key, float fallback) const {
  return has(key) ? required_float(key) : fallback;
}

std::string GgufMeta::optional_string(const std::string& key) const {
  if (!has(key)) return {};
  tsr_gguf_string s;
  check(tsr_gguf_get_string(f_, key.c_str(), &s));
  return std::string(s.data, s.size);
}

void GgufMeta::check_multiple(const std::string& what_a, int64_t a, const std::string& what_b,
                              int64_t b) const {
  if (b <= 0 || a % b != 0)
    fail(TSR_ERR_INVALID_ARGUMENT,
         what_a + " " + std::to_string(a) + " is not a multiple of " + what_b + " " + std::to_string(b));
}

bool GgufMeta::has_tensor(const std::string& name) const {
  tsr_gguf_tensor t;
  return tsr_gguf_find_tensor(f_, name.c_str(), &t) == TSR_OK;
}

GgufWeight GgufMeta::optional_tensor(const std::string& name, std::initializer_list<int64_t> dims) const {
  return has_tensor(name) ? tensor(name, dims) : GgufWeight{};
}

GgufWeight GgufMeta::tensor(const std::string& name, std::initializer_list<int64_t> dims) const {
  tsr_gguf_tensor t;
  if (tsr_gguf_find_tensor(f_, name.c_str(), &t) != TSR_OK)
    fail(TSR_ERR_NOT_FOUND, "missing required tensor '" + name + "'");
  if (!t.tessera_dtype) {
    const char* type = tsr_gguf_type_name(t.ggml_type);
    fail(TSR_ERR_UNSUPPORTED, "tensor '" + name + "' has type " +
                                  (type ? std::string(type) : "#" + std::to_string(t.ggml_type)) +
                                  ", which Tessera does not compute with");
  }
  std::vector<int64_t> want(dims);
  bool ok = t.n_dims == static_cast<int32_t>(want.size());
  for (size_t i = 0; ok && i < want.size(); ++i) ok = t.ne[i] == want[i];
  if (!ok)
    fail(TSR_ERR_INVALID_ARGUMENT, "tensor '" + name + "' is " + dims_str(t.ne, t.n_dims) + ", expected " +
                                       dims_str(want.data(), static_cast<int>(want.size())));
  GgufWeight w;
  w.name = name;
  w.dtype = t.ggml_type;
  w.n_dims = t.n_dims;
  for (int i = 0; i < TSR_MAX_DIMS; ++i) w.ne[i] = t.ne[i];
  w.data = t.data;
  w.size = t.size;
  return w;
}

}  // namespace tessera::models
