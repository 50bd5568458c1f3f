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
//
// Batches: an LlmBatch holds a slot too; its sequence s keeps its cache in
// "llm<model>.s<slot>.q<s>.blk.<l>.k/v" with one row more than n_ctx: row
// n_ctx is where the padding tokens of a ragged step write (attention never
// reads it). Its steps are cached per (n_seq, T) in the slot.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "models/decoder.h"
#include "models/sampling.h"
#include "models/tokenizer.h"
#include "tessera/tessera_llm.h"

namespace tessera::models {

struct LlmOptions {
  std::vector<std::string> devices = {"cpu"};
  uint32_t compile_flags = 0;          // TSR_COMPILE_*
  int64_t n_ctx = 0;                   // 0: min(training context, 2048)
  tsr_dtype kv_dtype = TSR_DTYPE_F16;  // f16 or f32
  int64_t n_batch = 256;               // max tokens per prefill step
  std::function<void(float)> progress;
  std::function<bool()> should_abort;  // asked at every progress point of load
};

struct SessionCallbacks {
  std::function<bool()> should_abort;
  std::function<void(int64_t done, int64_t total)> prefill_progress;
};

struct GenerateStats {
  int32_t n_prompt = 0, n_generated = 0;
  int32_t n_decode_steps = 0;  // single-token evals timed by decode_seconds
  double prefill_seconds = 0.0, decode_seconds = 0.0;
  tsr_llm_finish_reason finish = TSR_LLM_FINISH_LENGTH;
};

class LlmSession;

// FNV-1a over the hyperparameters and samples of the weights (llm_state.cpp).
uint64_t model_fingerprint(const DecoderHParams& hp, const DecoderWeights& w);

class Llm {
 public:
  // Opens path, reads the model and compiles the decode step (which checks
  // the devices). Throws tessera::Error.
  static std::unique_ptr<Llm> load(tsr_context* ctx, const std::string& path, const LlmOptions& options);
  ~Llm();
  Llm(const Llm&) = delete;
  Llm& operator=(const Llm&) = delete;

  const DecoderHParams& hparams() const { return hp_; }
  int64_t n_ctx() const { return n_ctx_; }
  uint64_t weight_bytes() const { return weights_.bytes; }
  const std::string& placement() const { return placement_; }
  // Throws when the file has no tokenizer (tokenizer.ggml.model).
  const Tokenizer& tokenizer() const;
  bool has_tokenizer() const { return tokenizer_ != nullptr; }
  bool is_end_of_generation(int32_t token) const;
  // Identifies the model a saved session state belongs to: the
  // hyperparameters and samples of the weights' bytes (so a fine-tune of the
  // same architecture differs).
  uint64_t fingerprint() const { return fingerprint_; }

 private:
  friend class LlmSession;
  Llm() = default;

  friend class LlmBatch;
  // One compiled forward step over n_seq sequences of n_tokens tokens.
  struct Step {
    std::unique_ptr<Model> model;
    DecoderGraph io;
  };
  struct Slot {
    bool in_use = false;
    std::map<std::tuple<int64_t, int64_t, bool>, Step> steps;  // (n_seq, n_tokens, all_logits)
  };
  // n_seq 1: the session cache of the slot; more: the batch caches.
  Step& step(int slot, int64_t n_seq, int64_t n_tokens, bool all_logits,
             const std::function<void(float)>& progress = {});
  int acquire_slot();
  void release_slot(int slot) { slots_[slot]->in_use = false; }
  std::string state_prefix(int slot) const;
  std::string seq_state_prefix(int slot, int64_t seq) const;
  // Zeroes the KV cache states under prefix that exist.
  void reset_cache(const std::string& prefix);
  // Copies the first n_tokens rows of every layer's K and V from the states
  // under prefix `from` to those under `to` (llm_state.cpp).
  void copy_cache_rows(const std::string& from, const std::string& to, int64_t n_tokens) const;
  uint64_t kv_row_bytes() const;

  tsr_context* ctx_ = nullptr;
  Handle<tsr_gguf, tsr_gguf_close> file_;
  std::string path_;
  DecoderHParams hp_;
  DecoderWeights weights_;
  std::unique_ptr<Tokenizer> tokenizer_;
  LlmOptions options_;
  int64_t n_ctx_ = 0;
  uint64_t id_ = 0;
  uint64_t fingerprint_ = 0;
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
  // The session's state (llm_state.cpp): the cache up to n_past, the tokens
  // fed, the last logits row and the sampler's generator, in a versioned
  // layout tagged with the model's fingerprint.
  std::vector<uint8_t> save_state() const;
  // Replaces the session's state with one save_state wrote for this model;
  // throws naming the field, the values and the model mismatch, and leaves
  // the session as it was when the bytes are refused.
  void load_state(std::span<const uint8_t> bytes);
  // The largest state this session can save (bounds a state file's size).
  uint64_t max_state_bytes() const;
  // Keeps the first n_keep tokens of the cache and history; drops the logits.
  void truncate(int64_t n_keep);
  void set_callbacks(SessionCallbacks callbacks) { callbacks_ = std::move(callbacks); }
  void set_logit_bias(std::vector<std::pair<int32_t, float>> bias) {
    sampler_.set_logit_bias(std::move(bias));
  }
  void set_stop_strings(std::vector<std::string> stops) { stops_ = std::move(stops); }
  // Replaces this session's cache and history with the first n tokens of
  // src's (a session of the same model); drops the logits.
  void copy_prefix_from(const LlmSession& src, int64_t n);
  // Feeds tokens in steps of n_batch. Keeps the logits of every token when
  // all_logits, else only the last one's.
  void eval(std::span<const int32_t> tokens, bool all_logits);
  std::span<const float> logits() const { return logits_; }
  int32_t logit_rows() const { return logit_rows_; }
  int64_t n_past() const { return n_past_; }
  int64_t n_vocab() const { return model_.hp_.n_vocab; }

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
  SessionCallbacks callbacks_;
  std::vector<std::string> stops_;  // generate ends when its text contains one
  bool abort_requested() const { return callbacks_.should_abort && callbacks_.should_abort(); }
};

// Several independent sequences evaluated together: each step is one compiled
// graph over all of them (see build_decoder_graph), so the weights are read
// once per step for the whole batch. Each sequence has its own KV cache and
// position; a sequence given no tokens idles through the step. Sampling is
// left to the caller (continuous batching schedules it per request).
class LlmBatch {
 public:
  LlmBatch(Llm& model, int32_t n_seq);  // throws for n_seq < 1
  ~LlmBatch();
  LlmBatch(const LlmBatch&) = delete;
  LlmBatch& operator=(const LlmBatch&) = delete;

  int32_t n_seq() const { return static_cast<int32_t>(n_past_.size()); }
  // Forgets sequence seq's cache and logits; -1: every sequence.
  void reset(int32_t seq);
  // Keeps the first n_keep tokens of sequence seq's cache; drops its logits.
  void truncate(int32_t seq, int64_t n_keep);
  // Replaces sequence dst's cache with the first n tokens of sequence src's.
  void copy_prefix(int32_t src, int32_t dst, int64_t n);
  // tokens[s] are fed to sequence s (may be empty). Steps of at most n_batch
  // tokens per sequence; a shorter sequence is padded to the step's longest.
  // Checks everything before running anything.
  void eval(std::span<const std::span<const int32_t>> tokens);
  // The logits of sequence seq's last evaluated token (empty before any).
  std::span<const float> logits(int32_t seq) const;
  int64_t n_past(int32_t seq) const { return n_past_[seq]; }

 private:
  Llm& model_;
  int slot_;
  std::vector<int64_t> n_past_;
  std::vector<std::vector<float>> logits_;  // per sequence: n_vocab or empty
};

}  // namespace tessera::models
