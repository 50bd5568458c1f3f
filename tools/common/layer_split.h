// --split-layers SPEC for the tools: "vulkan:0=15,cpu:0" puts the first 15
// layers on vulkan:0 and the rest on cpu:0 (tsr_llm_options.layer_devices).
// Each entry is DEVICE=N (N layers) or DEVICE (the layers no entry counts;
// at most one such entry); entries take consecutive layers in order.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "tessera/tessera_gguf.h"

namespace tessera_tools {

// The model's layer count (<architecture>.block_count), or -1 with *err set.
inline int64_t gguf_layer_count(const std::string& path, std::string* err) {
  tsr_gguf* f = nullptr;
  if (tsr_gguf_open(path.c_str(), &f) != TSR_OK) {
    *err = "cannot open " + path;
    return -1;
  }
  tsr_gguf_string arch{};
  int64_t n = -1;
  if (tsr_gguf_get_string(f, "general.architecture", &arch) != TSR_OK ||
      tsr_gguf_get_int(f, (std::string(arch.data, arch.size) + ".block_count").c_str(), &n) != TSR_OK ||
      n < 1) {
    *err = path + " has no general.architecture or <architecture>.block_count";
    n = -1;
  }
  tsr_gguf_close(f);
  return n;
}

// One device name per layer from spec, or false with *err naming the entry.
inline bool expand_layer_split(const std::string& spec, int64_t n_layer, std::vector<std::string>* out,
                               std::string* err) {
  struct Entry {
    std::string device;
    int64_t n = -1;  // -1: the rest
  };
  std::vector<Entry> entries;
  int64_t counted = 0;
  int rest = 0;
  for (size_t i = 0; i <= spec.size();) {
    const size_t j = std::min(spec.find(',', i), spec.size());
    const std::string item = spec.substr(i, j - i);
    i = j + 1;
    const size_t eq = item.find('=');
    Entry e{item.substr(0, eq)};
    if (e.device.empty()) {
      *err = "empty device in '" + spec + "'";
      return false;
    }
    if (eq != std::string::npos) {
      const std::string num = item.substr(eq + 1);
      char* end = nullptr;
      const long long v = std::strtoll(num.c_str(), &end, 10);
      if (num.empty() || *end || v < 1 || v > n_layer) {
        *err = "'" + item + "': the layer count must be 1.." + std::to_string(n_layer);
        return false;
      }
      e.n = v;
      counted += v;
    } else {
      ++rest;
    }
    entries.push_back(e);
  }
  if (rest > 1 || counted > n_layer || (rest == 0 && counted != n_layer) ||
      (rest == 1 && counted == n_layer)) {
    *err = "'" + spec + "' assigns " + std::to_string(counted) + " layers" + (rest ? " plus the rest" : "") +
           "; the model has " + std::to_string(n_layer) +
           " (give every entry a count, or leave one without: it takes the layers left)";
    return false;
  }
  out->clear();
  for (const Entry& e : entries) out->insert(out->end(), e.n < 0 ? n_layer - counted : e.n, e.device);
  return true;
}

}  // namespace tessera_tools
