// Scoring for tessera-perplexity: log-softmax of a logit row, the negative
// log-likelihood of the next token, and the KL divergence of a row against
// a reference row, accumulated into the statistics llama-perplexity reports.
#pragma once

#include <cstdint>
#include <vector>

namespace tessera_tools::ppl {

// out[i] = logits[i] - logsumexp(logits), summed in double.
void log_softmax(const float* logits, int32_t n, float* out);

// One scored position against a reference: KL(ref || cur) in nats, and
// whether both put their maximum on the same token.
struct KlPoint {
  double kl = 0.0;
  bool same_top1 = false;
};
KlPoint kl_divergence(const float* ref_logp, const float* cur_logp, int32_t n);

// Accumulates per-position values; summaries as llama-perplexity gives them.
class Stats {
 public:
  void add(double v) { v_.push_back(v); }
  int64_t count() const { return static_cast<int64_t>(v_.size()); }
  double mean() const;
  double stderr_of_mean() const;  // sample standard deviation / sqrt(n)
  double max() const;
  // q in [0, 1] by linear interpolation between order statistics.
  double quantile(double q) const;

 private:
  std::vector<double> v_;
};

}  // namespace tessera_tools::ppl
