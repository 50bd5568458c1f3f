// Text generation with a llama-family GGUF model: the C++ implementation
// behind tessera_llm.h. A Llm owns the GGUF mapping, the tokenizer and the
// compiled forward steps; a LlmSession owns a KV cache and a sampler.
//
// KV sharing: every compiled step of one session declares the shared states
// "llm<model>.s<slot>.blk.<l>.k/v", so the prefill steps (T = n_batch and the
// remainder) and the decode step (T = 1) read and write one cache. Steps are
// compiled on first use and cached per (slot, T, all_logits), at most
// kMaxStepsPerSlot of them (least recently used evicted); a freed
// session's slot, with its compiled steps and cache memory, goes to the next
// session created (the context keeps shared states until it is destroyed).
//
// Batches: an LlmBatch holds a slot too; its sequences share a paged KV cache,
// one pool per layer "llm<model>.s<slot>.paged<bs>x<blocks>.blk.<l>.k/v" (the
// geometry in the name, so a slot reused by a batch of another geometry gets
// pools of the right size). Its steps are cached per (pool, tokens, logit
// rows) in the slot.
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
#include "models/decoder_shard.h"
#include "models/kv_blocks.h"
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
  // Pipeline split: layer l's nodes run on layer_devices[l] ("" : `devices`
  // decides); the embedding goes with layer 0, the output with the last.
  // Empty, or one name per layer.
  std::vector<std::string> layer_devices;
  // Tensor parallelism over the context's communicator (tsr_context_open_comm):
  // this process computes its rank's slice (decoder_shard.h). Every rank
  // must load the same file with the same options (checked at load).
  bool tensor_parallel = false;
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
    uint64_t last_use = 0;  // the slot's use counter when last returned
  };
  // Steps kept per slot and kind (session, paged), the decode step included:
  // one per token count would grow without bound as prompts of new lengths
  // come (each holds its activations), so the least recently used goes.
  static constexpr size_t kMaxStepsPerSlot = 8;
  struct Slot {
    bool in_use = false;
    uint64_t uses = 0;
    std::map<std::tuple<int64_t, bool>, Step> steps;  // (n_tokens, all_logits): the session cache
    std::map<std::tuple<std::string, int64_t, int64_t>, Step>
        paged_steps;  // (pool prefix, tokens, logit rows)
  };
  // A step over the slot's session cache.
  Step& step(int slot, int64_t n_tokens, bool all_logits, const std::function<void(float)>& progress = {});
  // A batch step over the paged cache `layout` describes (layout.prefix
  // names the pools, under the slot's prefix).
  Step& paged_step(int slot, const PagedKvLayout& layout, int64_t n_tokens);
  int acquire_slot();
  void release_slot(int slot) { slots_[slot]->in_use = false; }
  std::string state_prefix(int slot) const;
  // Zeroes the KV cache states under prefix that exist.
  void reset_cache(const std::string& prefix);
  // Copies n rows of every layer's K and V from rows [from_row, from_row + n)
  // of the states under prefix `from` to rows [to_row, ...) of those under
  // `to` (llm_state.cpp), through host memory.
  void copy_cache_rows(const std::string& from, int64_t from_row, const std::string& to, int64_t to_row,
                       int64_t n) const;
  uint64_t kv_row_bytes() const;

  tsr_context* ctx_ = nullptr;
  Handle<tsr_gguf, tsr_gguf_close> file_;
  std::string path_;
  DecoderHParams hp_;
  DecoderWeights weights_;
  std::unique_ptr<ShardedDecoder> shard_;  // what the graphs are built from: this rank's slice
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

struct BatchOptions {
  int32_t n_seq = 1;
  int32_t block_size = 0;  // rows per KV block; 0: 16
  int32_t n_blocks = 0;    // blocks in the pool; 0: every sequence's whole context
};

// Several independent sequences evaluated together (continuous batching): each
// step is one compiled graph over a flat list of tokens from any of them (see
// build_decoder_graph), so the weights are read once per step for the whole
// batch and no sequence is padded to another's length. The sequences share
// one paged KV cache: a sequence takes blocks from the pool as it grows and
// gives them back when reset or truncated; copy_prefix shares blocks instead
// of copying them, and a shared block is copied only when a sequence writes
// into it. Sampling is left to the caller.
class LlmBatch {
 public:
  // Throws naming the value for n_seq < 1, a block size outside [1, 4096] or
  // a pool outside [1, 2^31 rows).
  LlmBatch(Llm& model, const BatchOptions& options);
  ~LlmBatch();
  LlmBatch(const LlmBatch&) = delete;
  LlmBatch& operator=(const LlmBatch&) = delete;

  int32_t n_seq() const { return static_cast<int32_t>(n_past_.size()); }
  // Forgets sequence seq's cache and logits (its blocks go back to the pool); -1: every sequence.
  void reset(int32_t seq);
  // Keeps the first n_keep tokens of sequence seq's cache; drops its logits.
  void truncate(int32_t seq, int64_t n_keep);
  // Replaces sequence dst's cache with the first n tokens of sequence src's,
  // sharing src's blocks.
  void copy_prefix(int32_t src, int32_t dst, int64_t n);
  // tokens[s] are fed to sequence s (may be empty), in steps of at most
  // n_batch tokens in all. Checks everything, the free blocks included
  // (TSR_ERR_OUT_OF_MEMORY naming what is missing), before running anything.
  void eval(std::span<const std::span<const int32_t>> tokens);
  // The logits of sequence seq's last evaluated token (empty before any).
  std::span<const float> logits(int32_t seq) const;
  int64_t n_past(int32_t seq) const { return n_past_[seq]; }
  int32_t block_size() const { return static_cast<int32_t>(layout_.block_size); }
  const KvBlockPool& blocks() const { return pool_; }

 private:
  // Row `row` of the pool: block table entry row / bs of sequence seq.
  int64_t pool_row(int32_t seq, int64_t row) const;
  // Gives sequence seq the blocks rows [0, end) need, copying a shared last
  // block first when its next write lands in it.
  void make_room(int32_t seq, int64_t end);
  // Blocks make_room(seq, end) would take.
  int64_t blocks_needed(int32_t seq, int64_t end) const;
  // Drops blocks past the first ceil(n / bs).
  void keep_blocks(int32_t seq, int64_t n);

  Llm& model_;
  int slot_;
  PagedKvLayout layout_;  // pool_blocks = pool_.n_blocks() + 1: the last one takes padding writes
  KvBlockPool pool_;
  std::vector<int64_t> n_past_;
  std::vector<std::vector<int32_t>> tables_;  // per sequence: its blocks in order
  std::vector<std::vector<float>> logits_;    // per sequence: n_vocab or empty
};

}  // namespace tessera::models
