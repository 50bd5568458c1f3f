// Small helpers the command-line tools share: strict number parsing for
// flags, JSON string escaping for their machine-readable output, and
// --version.
#pragma once

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/tessera.h"

namespace tessera_tools {

// True when --version is among the arguments (it wins over every other).
inline bool version_asked(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (std::string_view(argv[i]) == "--version") return true;
  return false;
}

// "tessera-run 0.1.0 (commit 1a2b3c4)" on stdout; returns exit code 0.
inline int print_version(const char* tool, const char* commit) {
  std::printf("%s %s (commit %s)\n", tool, tsr_version(), commit);
  return 0;
}

// Whole string is a base-10 integer in [lo, hi].
inline bool parse_int(const char* s, int64_t lo, int64_t hi, int64_t* out) {
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(s, &end, 10);
  if (!s[0] || *end || errno || v < lo || v > hi) return false;
  *out = v;
  return true;
}

// Whole string is a number in [lo, hi] (NaN never is).
inline bool parse_double(const char* s, double lo, double hi, double* out) {
  char* end = nullptr;
  const double v = std::strtod(s, &end);
  if (!s[0] || *end || !(v >= lo && v <= hi)) return false;
  *out = v;
  return true;
}

// s as the inside of a JSON string literal (no surrounding quotes).
inline std::string json_escape(std::string_view s) {
  std::string o;
  o.reserve(s.size());
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        o += "\\\"";
        break;
      case '\\':
        o += "\\\\";
        break;
      case '\n':
        o += "\\n";
        break;
      case '\r':
        o += "\\r";
        break;
      case '\t':
        o += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          o += buf;
        } else {
          o += ch;
        }
    }
  }
  return o;
}

// --device auto: every accelerator the context sees, discrete GPUs first,
// then integrated GPUs and other accelerators, then the CPU. Devices of type
// "other" and test devices (the null backend) are never picked automatically.
inline void auto_devices(tsr_context* ctx, std::vector<std::string>* out) {
  const int32_t order[] = {TSR_DEVICE_TYPE_GPU_DISCRETE, TSR_DEVICE_TYPE_GPU_INTEGRATED,
                           TSR_DEVICE_TYPE_ACCELERATOR};
  for (int32_t type : order) {
    for (int32_t i = 0; i < tsr_device_count(ctx); ++i) {
      tsr_device_info info{};
      info.struct_size = sizeof info;
      if (tsr_device_get_info(ctx, i, &info) == TSR_OK && info.props.type == type) out->push_back(info.name);
    }
  }
  out->push_back("cpu");
}

}  // namespace tessera_tools
