// The server's counters, gauges and latency histograms, rendered in the
// Prometheus text exposition format for GET /metrics. Counters and
// histograms are written by the HTTP threads and the engine thread; the
// gauges are read from the engine when the page is rendered.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace tessera_server {

// A cumulative histogram with fixed upper bounds (seconds).
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double v);
  // "# HELP", "# TYPE" and the _bucket, _sum and _count lines.
  void render(const std::string& name, const std::string& help, std::string* out) const;

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // per bucket, not cumulative; the last is +Inf
  double sum_ = 0.0;
  uint64_t count_ = 0;
};

// The engine's state at one moment.
struct Gauges {
  int32_t queue_depth = 0;   // requests waiting for a slot
  int32_t active_slots = 0;  // slots generating (or prefilling)
  int32_t slots = 0;         // the batch's sequences (--parallel)
  int64_t kv_tokens = 0;     // tokens held in the KV caches of the active slots
  // The batch's shared KV pool (none when kv_blocks_total is 0).
  int64_t kv_blocks_in_use = 0, kv_blocks_total = 0;
  int64_t kv_blocks_shared = 0;  // in use by more than one slot
};

class Metrics {
 public:
  Metrics();
  // endpoint is the route ("/v1/chat/completions"; "other" for unknown paths).
  void count_request(const std::string& endpoint, int status);
  void count_tokens(int64_t prompt, int64_t generated);
  void count_cancelled();
  void count_kv_full();
  // A request gave its KV memory back to resume later (Engine::suspend).
  void count_preempted();
  // Prompt tokens a request took from a KV cache instead of computing them.
  void count_prompt_cached(int64_t tokens);
  void observe_time_to_first_token(double seconds);
  void observe_inter_token(double seconds);
  std::string render(const Gauges& g) const;

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  uint64_t prompt_tokens_ = 0, generated_tokens_ = 0, cancelled_ = 0, kv_full_ = 0, prompt_cached_ = 0,
           preempted_ = 0;
  Histogram ttft_, itl_;
};

}  // namespace tessera_server
