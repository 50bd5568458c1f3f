// Sampling: greedy and its limits, seeds, and the cut sets of top-k, top-p
// and min-p on a small logit vector worked out by hand.
#include "models/sampling.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <vector>

namespace tessera::models {
namespace {

// Probabilities (softmax at temperature 1): exp(l) / sum.
// l = {1, 3, 2, 0, 2.5}: sorted ids 1 (3.0), 4 (2.5), 2 (2.0), 0 (1.0), 3 (0.0).
const std::vector<float> kLogits = {1.0f, 3.0f, 2.0f, 0.0f, 2.5f};

std::vector<double> softmax(const std::vector<float>& l) {
  std::vector<double> p(l.size());
  double s = 0.0;
  for (size_t i = 0; i < l.size(); ++i) s += p[i] = std::exp(static_cast<double>(l[i]));
  for (double& x : p) x /= s;
  return p;
}

std::set<int32_t> ids(const std::vector<Candidate>& c) {
  std::set<int32_t> r;
  for (const Candidate& x : c) r.insert(x.id);
  return r;
}

TEST(Sampling, greedy_is_the_argmax) {
  Sampler s({});
  EXPECT_EQ(s.sample(kLogits, {}), 1);
  const auto c = s.candidates(kLogits, {});
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].p, 1.0f);
}

TEST(Sampling, tiny_temperature_and_top_k_1_equal_the_argmax) {
  SamplingParams p;
  p.temperature = 1e-3f;
  p.seed = 5;
  Sampler cold(p);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(cold.sample(kLogits, {}), 1);
  p.temperature = 5.0f;
  p.top_k = 1;
  Sampler k1(p);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(k1.sample(kLogits, {}), 1);
}

TEST(Sampling, same_seed_same_tokens_other_seed_other_tokens) {
  SamplingParams p;
  p.temperature = 1.0f;
  p.seed = 42;
  Sampler a(p), b(p);
  std::vector<int32_t> ta, tb;
  for (int i = 0; i < 200; ++i) {
    ta.push_back(a.sample(kLogits, {}));
    tb.push_back(b.sample(kLogits, {}));
  }
  EXPECT_EQ(ta, tb);
  a.reset();
  for (int i = 0; i < 200; ++i) EXPECT_EQ(a.sample(kLogits, {}), ta[i]) << "reset restores the seed";
  p.seed = 43;
  Sampler c(p);
  std::vector<int32_t> tc;
  for (int i = 0; i < 200; ++i) tc.push_back(c.sample(kLogits, {}));
  EXPECT_NE(ta, tc);
}

TEST(Sampling, frequencies_follow_the_distribution) {
  SamplingParams p;
  p.temperature = 1.0f;
  p.seed = 7;
  Sampler s(p);
  const std::vector<double> want = softmax(kLogits);
  std::map<int32_t, int> count;
  const int n = 20000;
  for (int i = 0; i < n; ++i) ++count[s.sample(kLogits, {})];
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_NEAR(count[static_cast<int32_t>(i)] / static_cast<double>(n), want[i], 0.015) << "token " << i;
}

TEST(Sampling, temperature_sharpens_the_probabilities) {
  SamplingParams p;
  p.temperature = 0.5f;
  const auto c = Sampler(p).candidates(kLogits, {});
  ASSERT_EQ(c.size(), 5u);
  std::vector<float> doubled;
  for (float l : kLogits) doubled.push_back(2.0f * l);
  const std::vector<double> want = softmax(doubled);
  for (const Candidate& x : c) EXPECT_NEAR(x.p, want[x.id], 1e-6) << "token " << x.id;
  EXPECT_EQ(c.front().id, 1);
}

TEST(Sampling, top_k_keeps_the_k_largest) {
  SamplingParams p;
  p.temperature = 1.0f;
  p.top_k = 3;
  EXPECT_EQ(ids(Sampler(p).candidates(kLogits, {})), (std::set<int32_t>{1, 4, 2}));
}

TEST(Sampling, top_p_keeps_the_smallest_prefix_reaching_p) {
  // Sorted probabilities: 0.4631 (id 1), 0.2809 (4), 0.1704 (2), 0.0627 (0),
  // 0.0231 (3); cumulative 0.4631, 0.7440, 0.9143, 0.9770, 1.
  SamplingParams p;
  p.temperature = 1.0f;
  p.top_p = 0.6f;
  EXPECT_EQ(ids(Sampler(p).candidates(kLogits, {})), (std::set<int32_t>{1, 4}));
  p.top_p = 0.8f;
  EXPECT_EQ(ids(Sampler(p).candidates(kLogits, {})), (std::set<int32_t>{1, 4, 2}));
  p.top_p = 0.4f;
  EXPECT_EQ(ids(Sampler(p).candidates(kLogits, {})), (std::set<int32_t>{1}));
  // The kept set is renormalised.
  p.top_p = 0.6f;
  const auto c = Sampler(p).candidates(kLogits, {});
  EXPECT_NEAR(c[0].p + c[1].p, 1.0, 1e-6);
  EXPECT_NEAR(c[0].p, 1.0 / (1.0 + std::exp(-0.5)), 1e-6);
}

TEST(Sampling, min_p_keeps_tokens_near_the_best) {
  // p_i / p_max = exp(l_i - 3): id 4 0.607, id 2 0.368, id 0 0.135, id 3 0.050.
  SamplingParams p;
  p.temperature = 1.0f;
  p.min_p = 0.3f;
  EXPECT_EQ(ids(Sampler(p).candidates(kLogits, {})), (std::set<int32_t>{1, 4, 2}));
  p.min_p = 0.1f;
  EXPECT_EQ(ids(Sampler(p).candidates(kLogits, {})), (std::set<int32_t>{1, 4, 2, 0}));
  p.min_p = 0.9f;
  EXPECT_EQ(ids(Sampler(p).candidates(kLogits, {})), (std::set<int32_t>{1}));
}

TEST(Sampling, repeat_penalty_divides_positive_and_multiplies_negative_logits) {
  std::vector<float> l = {2.0f, -1.0f, 3.0f, 0.5f};
  const std::vector<int32_t> history = {0, 1, 0, 3};  // 0 repeated: penalised once
  apply_repeat_penalty(l, history, 2.0f, 64);
  EXPECT_EQ(l, (std::vector<float>{1.0f, -2.0f, 3.0f, 0.25f}));
  // Only the last repeat_last_n tokens count.
  std::vector<float> m = {2.0f, -1.0f, 3.0f, 0.5f};
  apply_repeat_penalty(m, history, 2.0f, 1);
  EXPECT_EQ(m, (std::vector<float>{2.0f, -1.0f, 3.0f, 0.25f}));
  // Greedy after the penalty: 1 (3.0) seen with penalty 4 drops to 0.75 < 2.5.
  SamplingParams p;
  p.repeat_penalty = 4.0f;
  const std::vector<int32_t> h = {1};
  EXPECT_EQ(Sampler(p).sample(kLogits, h), 4);
}

}  // namespace
}  // namespace tessera::models
