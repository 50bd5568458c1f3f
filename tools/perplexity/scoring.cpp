#include "tools/perplexity/scoring.h"

#include <algorithm>
#include <cmath>

namespace tessera_tools::ppl {

void log_softmax(const float* logits, int32_t n, float* out) {
  float mx = logits[0];
  for (int32_t i = 1; i < n; ++i) mx = std::max(mx, logits[i]);
  double sum = 0.0;
  for (int32_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(logits[i]) - mx);
  const double lse = mx + std::log(sum);
  for (int32_t i = 0; i < n; ++i) out[i] = static_cast<float>(logits[i] - lse);
}

KlPoint kl_divergence(const float* ref_logp, const float* cur_logp, int32_t n) {
  KlPoint p;
  double kl = 0.0;
  int32_t top_ref = 0, top_cur = 0;
  for (int32_t i = 0; i < n; ++i) {
    const double lr = ref_logp[i];
    kl += std::exp(lr) * (lr - cur_logp[i]);
    if (ref_logp[i] > ref_logp[top_ref]) top_ref = i;
    if (cur_logp[i] > cur_logp[top_cur]) top_cur = i;
  }
  // Float rounding can make a KL of ~0 slightly negative.
  p.kl = std::max(kl, 0.0);
  p.same_top1 = top_ref == top_cur;
  return p;
}

double Stats::mean() const {
  if (v_.empty()) return 0.0;
  double s = 0.0;
  for (double v : v_) s += v;
  return s / static_cast<double>(v_.size());
}

double Stats::stderr_of_mean() const {
  const auto n = static_cast<double>(v_.size());
  if (n < 2) return 0.0;
  const double m = mean();
  double ss = 0.0;
  for (double v : v_) ss += (v - m) * (v - m);
  return std::sqrt(ss / (n - 1) / n);
}

double Stats::max() const { return v_.empty() ? 0.0 : *std::max_element(v_.begin(), v_.end()); }

double Stats::quantile(double q) const {
  if (v_.empty()) return 0.0;
  std::vector<double> s = v_;
  std::sort(s.begin(), s.end());
  const double pos = q * static_cast<double>(s.size() - 1);
  const auto lo = static_cast<size_t>(pos);
  const size_t hi = std::min(lo + 1, s.size() - 1);
  return s[lo] + (s[hi] - s[lo]) * (pos - static_cast<double>(lo));
}

}  // namespace tessera_tools::ppl
