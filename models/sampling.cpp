#include "models/sampling.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <unordered_set>

namespace tessera::models {
namespace {

// Softmax of logits / temperature into p, in place over the candidates.
void softmax(std::vector<Candidate>& c, float temperature) {
  if (c.empty()) return;
  const float max_logit = c.front().logit;  // sorted: the first is the largest
  double sum = 0.0;
  for (Candidate& x : c) {
    x.p = std::exp((x.logit - max_logit) / temperature);
    sum += x.p;
  }
  for (Candidate& x : c) x.p = static_cast<float>(x.p / sum);
}

// A penalty of 0 or 1, or no history, changes nothing.
bool penalty_applies(float penalty, std::span<const int32_t> history) {
  return penalty > 0.0f && penalty != 1.0f && !history.empty();
}

}  // namespace

void apply_repeat_penalty(std::span<float> logits, std::span<const int32_t> history, float penalty,
                          int32_t repeat_last_n) {
  if (!penalty_applies(penalty, history)) return;
  const size_t n = repeat_last_n < 0    ? history.size()
                   : repeat_last_n == 0 ? std::min<size_t>(64, history.size())
                                        : std::min<size_t>(repeat_last_n, history.size());
  std::unordered_set<int32_t> seen;
  for (int32_t id : history.subspan(history.size() - n)) {
    if (id < 0 || static_cast<size_t>(id) >= logits.size() || !seen.insert(id).second) continue;
    float& l = logits[id];
    l = l > 0.0f ? l / penalty : l * penalty;
  }
}

Sampler::Sampler(const SamplingParams& params) : params_(params), rng_(params.seed) {}

std::string Sampler::rng_state() const {
  std::ostringstream out;
  out << rng_;
  return out.str();
}

bool Sampler::set_rng_state(const std::string& text) {
  std::istringstream in(text);
  std::mt19937_64 r;
  in >> r;
  if (in.fail()) return false;
  rng_ = r;
  return true;
}

std::vector<Candidate> Sampler::candidates(std::span<const float> logits_in,
                                           std::span<const int32_t> history) const {
  if (params_.temperature <= 0.0f && !penalty_applies(params_.repeat_penalty, history) && bias_.empty() &&
      !logits_in.empty()) {
    // Greedy without a penalty reads the logits in place: no copy of a
    // vocabulary-sized row per token.
    const auto it = std::max_element(logits_in.begin(), logits_in.end());  // the first maximum wins
    return {{static_cast<int32_t>(it - logits_in.begin()), *it, 1.0f}};
  }
  std::vector<float> logits(logits_in.begin(), logits_in.end());
  for (const auto& [id, b] : bias_)
    if (id >= 0 && static_cast<size_t>(id) < logits.size()) logits[id] += b;
  apply_repeat_penalty(logits, history, params_.repeat_penalty, params_.repeat_last_n);
  std::vector<Candidate> c;
  if (logits.empty()) return c;

  if (params_.temperature <= 0.0f) {
    const auto it = std::max_element(logits.begin(), logits.end());  // the first maximum wins
    c.push_back({static_cast<int32_t>(it - logits.begin()), *it, 1.0f});
    return c;
  }

  c.reserve(logits.size());
  for (size_t i = 0; i < logits.size(); ++i) c.push_back({static_cast<int32_t>(i), logits[i], 0.0f});
  // Highest logit first; equal logits by id so the order is deterministic.
  const auto by_logit = [](const Candidate& a, const Candidate& b) {
    return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
  };
  if (params_.top_k > 0 && static_cast<size_t>(params_.top_k) < c.size()) {
    std::partial_sort(c.begin(), c.begin() + params_.top_k, c.end(), by_logit);
    c.resize(params_.top_k);
  } else {
    std::sort(c.begin(), c.end(), by_logit);
  }

  // top-p: the smallest prefix whose probability (at temperature 1, as in
  // llama.cpp, where temperature comes last) reaches top_p.
  if (params_.top_p > 0.0f && params_.top_p < 1.0f) {
    softmax(c, 1.0f);
    double cum = 0.0;
    size_t keep = c.size();
    for (size_t i = 0; i < c.size(); ++i) {
      cum += c[i].p;
      if (cum >= params_.top_p) {
        keep = i + 1;
        break;
      }
    }
    c.resize(keep);
  }
  // min-p: tokens at least min_p times as likely as the most likely one.
  if (params_.min_p > 0.0f) {
    const float cut = c.front().logit + std::log(params_.min_p);
    size_t keep = 1;
    while (keep < c.size() && c[keep].logit >= cut) ++keep;
    c.resize(keep);
  }
  softmax(c, params_.temperature);
  return c;
}

int32_t Sampler::sample(std::span<const float> logits, std::span<const int32_t> history) {
  const std::vector<Candidate> c = candidates(logits, history);
  if (c.empty()) return -1;
  if (c.size() == 1) return c.front().id;
  // A uniform draw in [0, 1) from the top 53 bits, against the cumulative
  // probabilities: computed here rather than with the <random> distributions
  // so a seed gives the same tokens with every standard library.
  const double u = static_cast<double>(rng_() >> 11) * 0x1.0p-53;
  double cum = 0.0;
  for (const Candidate& x : c) {
    cum += x.p;
    if (u < cum) return x.id;
  }
  return c.back().id;
}

}  // namespace tessera::models
