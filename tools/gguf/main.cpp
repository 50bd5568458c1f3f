// tessera-gguf: prints what a GGUF file holds, through the public C API only.
//
//   tessera-gguf FILE [--metadata] [--tensors]
//
// Without flags both sections are printed. Exits 1 with the reader's message
// when the file is missing or invalid.
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <string>

#include "tessera/tessera_gguf.h"
#include "tools/common/cli.h"
#include "tools/gguf/gguf_git.h"

namespace {

constexpr uint64_t kShownElements = 8;  // array elements printed
constexpr uint64_t kShownChars = 60;    // characters of a string printed

const char* value_type_name(tsr_gguf_type t) {
  static const char* const kNames[] = {"uint8", "int8",   "uint16", "int16",  "uint32", "int32",  "float32",
                                       "bool",  "string", "array",  "uint64", "int64",  "float64"};
  return static_cast<unsigned>(t) < sizeof(kNames) / sizeof(kNames[0]) ? kNames[t] : "?";
}

std::string quoted(tsr_gguf_string s) {
  std::string out = "\"";
  for (uint64_t i = 0; i < s.size && i < kShownChars; ++i) {
    const auto c = static_cast<unsigned char>(s.data[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  out += s.size > kShownChars ? "\"..." : "\"";
  return out;
}

std::string scalar(const tsr_gguf_value& v) {
  char buf[64];
  switch (v.type) {
    case TSR_GGUF_UINT8:
    case TSR_GGUF_UINT16:
    case TSR_GGUF_UINT32:
    case TSR_GGUF_UINT64:
      std::snprintf(buf, sizeof(buf), "%" PRIu64, v.u64);
      return buf;
    case TSR_GGUF_INT8:
    case TSR_GGUF_INT16:
    case TSR_GGUF_INT32:
    case TSR_GGUF_INT64:
      std::snprintf(buf, sizeof(buf), "%" PRId64, v.i64);
      return buf;
    case TSR_GGUF_BOOL:
      return v.u64 ? "true" : "false";
    case TSR_GGUF_FLOAT32:
    case TSR_GGUF_FLOAT64:
      std::snprintf(buf, sizeof(buf), "%.9g", v.f64);
      return buf;
    case TSR_GGUF_STRING:
      return quoted(v.str);
    case TSR_GGUF_ARRAY:
      break;
  }
  return "?";
}

// "[string x 49152] "a", "b", ..." for the value at path (depth indices) under key.
std::string describe(const tsr_gguf* f, const char* key, uint64_t* path, int32_t depth) {
  tsr_gguf_value v;
  if (tsr_gguf_get_value(f, key, path, depth, &v) != TSR_OK) return std::string("<") + tsr_last_error() + ">";
  if (v.type != TSR_GGUF_ARRAY) return scalar(v);
  std::string out = std::string("[") + value_type_name(v.elem_type) + " x " + std::to_string(v.length) + "]";
  if (depth >= 7) return out + " ...";
  for (uint64_t i = 0; i < v.length && i < kShownElements; ++i) {
    path[depth] = i;
    out += (i ? ", " : " ") + describe(f, key, path, depth + 1);
  }
  if (v.length > kShownElements) out += ", ...";
  return out;
}

void print_metadata(const tsr_gguf* f) {
  const int64_t n = tsr_gguf_metadata_count(f);
  std::printf("metadata: %" PRId64 " keys\n", n);
  for (int64_t i = 0; i < n; ++i) {
    tsr_gguf_string key;
    tsr_gguf_type type;
    if (tsr_gguf_metadata_key(f, i, &key, &type) != TSR_OK) continue;
    const std::string k(key.data, key.size);
    uint64_t path[8];
    std::printf("  %-40s %-8s %s\n", k.c_str(), value_type_name(type),
                describe(f, k.c_str(), path, 0).c_str());
  }
}

void print_tensors(const tsr_gguf* f) {
  const int64_t n = tsr_gguf_tensor_count(f);
  std::printf("tensors: %" PRId64 "\n", n);
  std::printf("  %-5s %-40s %-8s %-28s %12s %12s\n", "#", "name", "type", "dims", "offset", "bytes");
  uint64_t total = 0;
  for (int64_t i = 0; i < n; ++i) {
    tsr_gguf_tensor t;
    if (tsr_gguf_get_tensor(f, i, &t) != TSR_OK) continue;
    std::string dims = "[";
    for (int32_t d = 0; d < t.n_dims; ++d) dims += (d ? ", " : "") + std::to_string(t.ne[d]);
    dims += "]";
    const char* type = tsr_gguf_type_name(t.ggml_type);
    std::printf("  %-5" PRId64 " %-40.*s %-8s %-28s %12" PRIu64 " %12" PRIu64 "\n", i,
                static_cast<int>(t.name.size), t.name.data, type ? type : "?", dims.c_str(), t.offset,
                t.size);
    total += t.size;
  }
  std::printf("  total %" PRIu64 " bytes of tensor data\n", total);
}

}  // namespace

int main(int argc, char** argv) {
  if (tessera_tools::version_asked(argc, argv))
    return tessera_tools::print_version("tessera-gguf", TSR_GGUF_GIT_COMMIT);
  const char* path = nullptr;
  bool metadata = false, tensors = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--metadata") == 0) {
      metadata = true;
    } else if (std::strcmp(argv[i], "--tensors") == 0) {
      tensors = true;
    } else if (std::strcmp(argv[i], "-h") == 0 || std::strcmp(argv[i], "--help") == 0) {
      std::printf("usage: tessera-gguf FILE [--metadata] [--tensors]\n");
      return 0;
    } else if (!path && argv[i][0] != '-') {
      path = argv[i];
    } else {
      std::fprintf(
          stderr,
          "tessera-gguf: unexpected argument '%s'\nusage: tessera-gguf FILE [--metadata] [--tensors]\n",
          argv[i]);
      return 2;
    }
  }
  if (!path) {
    std::fprintf(stderr, "usage: tessera-gguf FILE [--metadata] [--tensors]\n");
    return 2;
  }
  if (!metadata && !tensors) metadata = tensors = true;

  tsr_gguf* f = nullptr;
  if (tsr_gguf_open(path, &f) != TSR_OK) {
    std::fprintf(stderr, "tessera-gguf: %s\n", tsr_last_error());
    return 1;
  }
  std::printf("%s: GGUF v%u, alignment %" PRIu64 ", %" PRId64 " keys, %" PRId64 " tensors\n", path,
              tsr_gguf_version(f), tsr_gguf_alignment(f), tsr_gguf_metadata_count(f),
              tsr_gguf_tensor_count(f));
  if (metadata) print_metadata(f);
  if (tensors) print_tensors(f);
  tsr_gguf_close(f);
  return 0;
}
