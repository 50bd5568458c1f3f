// Text generation with a llama-family GGUF model: the C++ implementation
// behind tessera_llm.h. A Llm owns the GGUF mapping, the tokenizer and the
// compiled forward steps; a LlmSession owns a KV cache and a sampler.
//
// KV sharing: every compiled step of one session declares the shared states
// "llm<model>.s<slot>.blk.<l>.k/v", so the prefill steps (T = n_batch and the
// remainder) and the decode step (T = 1) read and write one cache. Steps are
// compiled on first use and cached per (slot, T, all_logits); a freed
// session's slot, with its compiled steps and cache memory, goes to the next
// session created (the context keeps shared states until it is destroyed).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "models/llama.h"
#include "models/sampling.h"
#include "models/tokenizer.h"

namespace tessera::models {

struct LlmOptions {
  std::vector<std::string> devices = {"cpu"};
  uint32_t compile_flags = 0;          // TSR_COMPILE_*
  int64_t n_ctx = 0;                   // 0: min(training context, 2048)
  tsr_dtype kv_dtype = TSR_DTYPE_F16;  // f16 or f32
  int64_t n_batch = 256;               // max tokens per prefill step
  int32_t n_seq = 1;                   // only 1 is supported
  std::function<void(float)> progress;
};

struct GenerateStats {
  int32_t n_prompt = 0, n_generated = 0;
  int32_t n_decode_steps = 0;  // single-token evals timed by decode_seconds
  double prefill_seconds = 0.0, decode_seconds = 0.0;
};

class LlmSession;

class Llm {
 public:
  // Opens path, reads the model and compiles the decode step (which checks
  // the devices). Throws tessera::Error.
  static std::unique_ptr<Llm> load(tsr_context* ctx, const std::string& path, const LlmOptions& options);
  ~Llm();
  Llm(const Llm&) = delete;
  Llm& operator=(const Llm&) = delete;

  const LlamaHParams& hparams() const { return hp_; }
  int64_t n_ctx() const { return n_ctx_; }
  uint64_t weight_bytes() const { return weights_.bytes; }
  const std::string& placement() const { return placement_; }
  // Throws when the file has no tokenizer (tokenizer.ggml.model).
  const Tokenizer& tokenizer() const;
  bool has_tokenizer() const { return tokenizer_ != nullptr; }
  bool is_end_of_generation(int32_t token) const;

 private:
  friend class LlmSession;
  Llm() = default;

  // One compiled forward step over n_tokens tokens.
  struct Step {
    std::unique_ptr<Model> model;
    LlamaGraph io;
  };
  struct Slot {
    bool in_use = false;
    std::map<std::pair<int64_t, bool>, Step> steps;  // (n_tokens, all_logits)
  };
  Step& step(int slot, int64_t n_tokens, bool all_logits, const std::function<void(float)>& progress = {});
  int acquire_slot();
  void release_slot(int slot) { slots_[slot]->in_use = false; }
  std::string state_prefix(int slot) const;

  tsr_context* ctx_ = nullptr;
  Handle<tsr_gguf, tsr_gguf_close> file_;
  std::string path_;
  LlamaHParams hp_;
  LlamaWeights weights_;
  std::unique_ptr<Tokenizer> tokenizer_;
  LlmOptions options_;
  int64_t n_ctx_ = 0;
  uint64_t id_ = 0;
  std::string placement_;
  std::vector<std::unique_ptr<Slot>> slots_;
};

class LlmSession {
 public:
  LlmSession(Llm& model, const SamplingParams& sampling);
  ~LlmSession();
  LlmSession(const LlmSession&) = delete;
  LlmSession& operator=(const LlmSession&) = delete;

  // Forgets the KV cache, the history and restores the sampler's seed.
  void reset();
  // Feeds tokens in steps of n_batch. Keeps the logits of every token when
  // all_logits, else only the last one's.
  void eval(std::span<const int32_t> tokens, bool all_logits);
  std::span<const float> logits() const { return logits_; }
  int32_t logit_rows() const { return logit_rows_; }
  int64_t n_past() const { return n_past_; }

  // Evaluates prompt, then samples up to max_new tokens, calling on_token
  // (which returns true to stop) for each; stops at end of generation or when
  // the context is full.
  GenerateStats generate(std::span<const int32_t> prompt, int32_t max_new,
                         const std::function<bool(int32_t, std::string_view)>& on_token);

 private:
  Llm& model_;
  int slot_;
  Sampler sampler_;
  int64_t n_past_ = 0;
  std::vector<int32_t> history_;  // every token fed, for the repetition penalty
  std::vector<float> logits_;     // logit_rows_ x n_vocab
  int32_t logit_rows_ = 0;
};

}  // namespace tessera::models
