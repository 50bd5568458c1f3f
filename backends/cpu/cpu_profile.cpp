#include "cpu_profile.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>

#include "tessera/kit/dtype.h"
#include "tessera/kit/op_info.h"

namespace tsr::cpu {
namespace {

// "matmul q4_1 n=1": op, first input's dtype, and for matmul the token count,
// which separates decode from prefill.
std::string label_of(const tsr_node_desc& n) {
  std::string s(ops::op_name(n.op));
  if (n.n_inputs > 0) s += fmt::format(" {}", dtype_name(n.inputs[0].dtype));
  if (n.op == TSR_OP_MATMUL && n.n_inputs > 1) s += fmt::format(" n={}", n.inputs[1].ne[1]);
  return s;
}

}  // namespace

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool Profile::enabled() {
  static const bool on = [] {
    const char* v = std::getenv("TESSERA_CPU_PROFILE");
    return v && *v && std::string(v) != "0";
  }();
  return on;
}

Profile::Profile(const std::vector<tsr_node_desc>& nodes) : node_ns_(nodes.size(), 0) {
  labels_.reserve(nodes.size());
  for (const auto& n : nodes) labels_.push_back(label_of(n));
}

Profile::~Profile() {
  if (n_execute_ == 0) return;
  std::map<std::string, std::pair<int64_t, int64_t>> by_label;  // label -> (ns, nodes)
  int64_t kernel_ns = 0;
  for (size_t i = 0; i < labels_.size(); ++i) {
    auto& e = by_label[labels_[i]];
    e.first += node_ns_[i];
    e.second += 1;
    kernel_ns += node_ns_[i];
  }
  std::vector<std::pair<std::string, std::pair<int64_t, int64_t>>> rows(by_label.begin(), by_label.end());
  std::sort(rows.begin(), rows.end(),
            [](const auto& a, const auto& b) { return a.second.first > b.second.first; });
  const double per = 1e-3 / static_cast<double>(n_execute_);  // ns -> us per execute
  std::string out = fmt::format(
      "[cpu profile] {} nodes, {} executes: {:.1f} us per execute, kernels {:.1f} us, "
      "outside kernels {:.2f} us ({:.2f}%)\n",
      labels_.size(), n_execute_, execute_ns_ * per, kernel_ns * per, (execute_ns_ - kernel_ns) * per,
      execute_ns_ > 0 ? 100.0 * (execute_ns_ - kernel_ns) / execute_ns_ : 0.0);
  for (const auto& [label, v] : rows)
    out += fmt::format("  {:<28} {:>4} nodes {:>10.1f} us {:>5.1f}%\n", label, v.second, v.first * per,
                       kernel_ns > 0 ? 100.0 * v.first / kernel_ns : 0.0);
  std::fputs(out.c_str(), stderr);
}

}  // namespace tsr::cpu
