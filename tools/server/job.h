// One generation request as the engine sees it, and the channel through
// which the engine thread hands its text to the HTTP thread that waits for it.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "tessera/tessera_llm.h"
#include "tools/server/api_error.h"

namespace tessera_server {

struct Usage {
  int32_t prompt_tokens = 0, completion_tokens = 0;
};

// How a request ended: a finish reason ("stop", "length") with its usage, or an error.
struct Outcome {
  std::string finish_reason;
  Usage usage;
  std::optional<ApiError> error;
};

// Engine -> HTTP thread. The engine pushes text pieces and one outcome; the
// HTTP thread takes them as they come and may cancel (its client went away),
// which the engine notices before its next step.
class RequestChannel {
 public:
  void push(std::string text);
  void finish(Outcome outcome);  // the first call wins; later ones are ignored

  // Waits up to timeout for text or the end. Moves the pieces pushed so far
  // into *pieces; returns true once finished and every piece was taken, with
  // the outcome in *outcome.
  bool wait(std::chrono::milliseconds timeout, std::vector<std::string>* pieces, Outcome* outcome);

  void cancel() { cancelled_.store(true, std::memory_order_relaxed); }
  bool cancelled() const { return cancelled_.load(std::memory_order_relaxed); }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> pieces_;
  bool done_ = false;
  Outcome outcome_;
  std::atomic<bool> cancelled_{false};
};

struct Job {
  std::vector<int32_t> prompt;  // tokens, checked against n_vocab and n_ctx
  int32_t max_tokens = 0;       // >= 1
  tsr_llm_sampling sampling{sizeof(tsr_llm_sampling)};
  std::vector<std::string> stop;
  std::chrono::steady_clock::time_point arrived = std::chrono::steady_clock::now();
  RequestChannel channel;
};

}  // namespace tessera_server
