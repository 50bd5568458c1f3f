// The engine: one thread that owns the model's batch and runs continuous
// batching over it. Each batch sequence is a slot a request occupies; every
// step feeds each busy slot its tokens (a chunk of its prompt, or the token
// it sampled last), samples the slots whose prompt is in, and hands the text
// to the request's channel. Requests join from the queue and leave (finished,
// or cancelled by their client) between steps.
//
// Threading: submit, shutdown and gauges may be called from any thread; the
// batch, the slots and the samplers are touched by the engine thread only
// (a batch is used by one thread at a time, tessera_llm.h).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tessera/tessera_llm.h"
#include "tools/server/job.h"
#include "tools/server/metrics.h"
#include "tools/server/text_stream.h"

namespace tessera_server {

struct EngineConfig {
  int32_t slots = 4;         // sequences of the batch
  int32_t queue = 64;        // requests that may wait beyond the slots
  int32_t kv_blocks = 0;     // shared KV pool size; 0: the library's default
  bool prompt_cache = true;  // reuse KV rows of a prompt's prefix a slot holds
};

class Engine {
 public:
  // Creates the batch and starts the thread; nullptr with *error on failure.
  // model and metrics must outlive the engine.
  static std::unique_ptr<Engine> create(tsr_llm* model, const EngineConfig& config, Metrics* metrics,
                                        std::string* error);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  enum class Admission { kAccepted, kQueueFull, kStopping };
  // Queues job; its channel then gets text and exactly one outcome.
  Admission submit(std::shared_ptr<Job> job);
  // Finishes every waiting and running request with a 503 outcome (on the
  // engine thread) and returns; new requests get kStopping. Idempotent.
  void shutdown();
  // shutdown(), then waits until every request has its outcome. Not
  // concurrently with itself.
  void shutdown_and_wait();
  Gauges gauges() const;

 private:
  struct Slot {
    std::shared_ptr<Job> job;  // nullptr: free
    size_t fed = 0;            // prompt tokens in the cache
    int32_t next = -1;         // the sampled token to feed next
    int32_t generated = 0;
    uint64_t admitted = 0;  // admission order: the youngest gives way when KV memory runs out
    tsr_llm_sampler* sampler = nullptr;
    std::unique_ptr<TextStream> text;
    std::chrono::steady_clock::time_point last_token;
    // The tokens whose K and V rows sequence s holds (its n_past of them).
    // Kept when the request ends, so a later prompt that starts the same way
    // (the next turn of a chat, a shared system prompt) takes those rows
    // instead of computing them: the prompt cache.
    std::vector<int32_t> cache;
    // The tokens to compute before sampling: the prompt, or for a request
    // resumed after a preemption its prompt and every token it generated.
    std::vector<int32_t> feed;
    bool prompt_counted = false;  // resumed after its first tokens: its prompt is in the metrics
    bool prefilling() const { return job && fed < feed.size(); }
  };
  // A request that gave its KV memory back while others ran (preemption by
  // recompute, as vLLM does): it keeps its sampler and text state and, when
  // memory returns, computes its tokens again and goes on where it stopped,
  // so its client sees one uninterrupted answer.
  struct Suspended {
    std::shared_ptr<Job> job;
    std::vector<int32_t> tokens;  // prompt, generated tokens, and the sampled one not yet fed
    int32_t generated = 0;
    tsr_llm_sampler* sampler = nullptr;
    std::unique_ptr<TextStream> text;
    std::chrono::steady_clock::time_point last_token;
  };

  Engine(tsr_llm* model, tsr_llm_batch* batch, const EngineConfig& config, Metrics* metrics);
  void run();
  bool wait_for_work();  // false: stopping
  void admit();
  // Gives slot s the longest cached prefix of its prompt any slot holds
  // (its own cache, or another's shared copy-on-write); resets it otherwise.
  // count_cached: add the reused prompt tokens to the metrics (not on a resume).
  void reuse_prefix(int32_t s, bool count_cached);
  // The free slot a prompt should take (mu_ held; reads slots_ of the
  // engine thread, which is the caller): -1 when none is free.
  int32_t free_slot_for(const std::vector<int32_t>& prompt) const;
  // Forgets the caches of free slots; true when one held blocks.
  bool evict_free_caches();
  void drop_cancelled();
  void step();
  tsr_status_code eval(const std::vector<int32_t>& n_tokens, const std::vector<const int32_t*>& tokens);
  void sample(int32_t s);
  void emit_token(int32_t s, int32_t token);
  void finish(int32_t s, const char* reason, bool flush);  // flush: send the text held back
  void fail(int32_t s, const ApiError& error);
  void end(int32_t s, Outcome outcome);  // frees slot s, then gives its request the outcome
  void release(int32_t s);
  // Frees slot s's KV rows and puts its request first in line to resume.
  void suspend(int32_t s);
  // Ends a suspended request (already out of suspended_ and active_) with error.
  void finish_suspended(Suspended& z, const ApiError& error);
  void cancel_everything();
  void update_gauges();

  tsr_llm* model_;
  tsr_llm_batch* batch_;
  EngineConfig config_;
  Metrics* metrics_;
  int32_t n_ctx_ = 0, n_vocab_ = 0;
  std::vector<Slot> slots_;  // engine thread only
  uint64_t admissions_ = 0;
  // Set when an eval found the KV pool full: no new request starts until one ends.
  bool kv_full_ = false;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Job>> waiting_;
  std::deque<Suspended> suspended_;  // resumed before any waiting request starts
  int32_t active_ = 0;  // admitted requests (busy slots and suspended_), for admission control and gauges
  bool stopping_ = false;
  int64_t kv_tokens_ = 0, kv_blocks_in_use_ = 0, kv_blocks_shared_ = 0, kv_blocks_total_ = 0;
  std::thread thread_;
};

}  // namespace tessera_server
