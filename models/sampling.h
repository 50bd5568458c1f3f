// Token sampling over one row of logits, with llama.cpp's semantics and order:
// repetition penalty, top-k, top-p, min-p, temperature, then a draw from a
// seeded std::mt19937_64 (same seed, same logits, same history -> same token).
// Temperature 0 is greedy: the argmax after the penalty.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace tessera::models {

struct SamplingParams {
  float temperature = 0.0f;     // <= 0: greedy
  int32_t top_k = 0;            // <= 0: off
  float top_p = 1.0f;           // <= 0 or >= 1: off
  float min_p = 0.0f;           // <= 0: off
  float repeat_penalty = 1.0f;  // <= 0 or == 1: off
  int32_t repeat_last_n = 64;   // tokens of history penalised; 0 -> 64, -1 -> all
  uint64_t seed = 0;
  bool ignore_eos = false;  // generation continues past end-of-generation tokens
};

struct Candidate {
  int32_t id;
  float logit;
  float p;  // probability after the filters (sums to 1 over the kept set)
};

// Divides positive logits by penalty and multiplies negative ones by it, once
// per distinct token among the last repeat_last_n of history (llama.cpp's
// repeat penalty).
void apply_repeat_penalty(std::span<float> logits, std::span<const int32_t> history, float penalty,
                          int32_t repeat_last_n);

class Sampler {
 public:
  explicit Sampler(const SamplingParams& params);

  // The candidates that survive penalty, top-k, top-p and min-p, sorted by
  // logit (highest first), with probabilities at the sampling temperature.
  // Greedy sampling keeps only the argmax.
  std::vector<Candidate> candidates(std::span<const float> logits, std::span<const int32_t> history) const;
  // Draws one token; advances the random generator unless greedy.
  int32_t sample(std::span<const float> logits, std::span<const int32_t> history);
  // Restores the generator to its seed.
  void reset() { rng_.seed(params_.seed); }
  // Added to a token's logit before everything else (llama.cpp's order);
  // -infinity bans the token. Replaces the previous bias; ids outside the
  // vocabulary of a given row are ignored there.
  void set_logit_bias(std::vector<std::pair<int32_t, float>> bias) { bias_ = std::move(bias); }
  // The generator's state as text, and back (false when text is not one).
  std::string rng_state() const;
  bool set_rng_state(const std::string& text);
  const SamplingParams& params() const { return params_; }

 private:
  SamplingParams params_;
  std::mt19937_64 rng_;
  std::vector<std::pair<int32_t, float>> bias_;
};

}  // namespace tessera::models
