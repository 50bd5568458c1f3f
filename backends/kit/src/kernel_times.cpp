#include "tessera/kit/kernel_times.h"

#include <algorithm>
#include <cstdio>
#include <vector>

namespace tsr {

void KernelTimes::add(std::string_view kernel, double ns) {
  auto it = by_kernel_.find(kernel);
  if (it == by_kernel_.end()) it = by_kernel_.emplace(std::string(kernel), Entry{}).first;
  it->second.calls++;
  it->second.ns += ns;
}

void KernelTimes::print(const char* tag, const std::string& device, size_t launches, const char* what) const {
  if (by_kernel_.empty()) return;
  std::vector<std::pair<std::string, Entry>> rows(by_kernel_.begin(), by_kernel_.end());
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second.ns > b.second.ns; });
  double total = 0;
  for (const auto& r : rows) total += r.second.ns;
  const uint64_t runs = std::max<uint64_t>(runs_, 1);
  std::fprintf(stderr, "[%s profile] %s: %zu %s, %llu runs, %.3f ms per run\n", tag, device.c_str(), launches,
               what, static_cast<unsigned long long>(runs_), total / 1e6 / static_cast<double>(runs));
  for (const auto& [name, k] : rows)
    std::fprintf(stderr, "  %-28s %8llu calls %10.3f ms %9.1f us/call %5.1f%%\n", name.c_str(),
                 static_cast<unsigned long long>(k.calls), k.ns / 1e6,
                 k.ns / 1e3 / static_cast<double>(std::max<uint64_t>(k.calls, 1)),
                 total > 0 ? 100.0 * k.ns / total : 0.0);
}

}  // namespace tsr
