#include "tools/server/metrics.h"

#include <cinttypes>
#include <cstdio>

namespace tessera_server {

namespace {

// Time to first token spans queueing and prefill (milliseconds on a GPU,
// seconds for a long prompt on a busy CPU); the gap between tokens is one
// batch step (about 10 ms to 1 s). Bounds in seconds.
const std::vector<double> kTtftBounds = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
const std::vector<double> kItlBounds = {0.0025, 0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56};

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

void header(const std::string& name, const char* type, const std::string& help, std::string* out) {
  *out += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

void scalar(const std::string& name, const char* type, const std::string& help, double v, std::string* out) {
  header(name, type, help, out);
  *out += name + " " + number(v) + "\n";
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::observe(double v) {
  size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  ++counts_[i];
  sum_ += v;
  ++count_;
}

void Histogram::render(const std::string& name, const std::string& help, std::string* out) const {
  header(name, "histogram", help, out);
  uint64_t cumulative = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    cumulative += counts_[i];
    const std::string le = i < bounds_.size() ? number(bounds_[i]) : "+Inf";
    *out += name + "_bucket{le=\"" + le + "\"} " + std::to_string(cumulative) + "\n";
  }
  *out += name + "_sum " + number(sum_) + "\n";
  *out += name + "_count " + std::to_string(count_) + "\n";
}

Metrics::Metrics() : ttft_(kTtftBounds), itl_(kItlBounds) {}

void Metrics::count_request(const std::string& endpoint, int status) {
  std::lock_guard<std::mutex> lk(mu_);
  ++requests_[{endpoint, status}];
}

void Metrics::count_tokens(int64_t prompt, int64_t generated) {
  std::lock_guard<std::mutex> lk(mu_);
  prompt_tokens_ += static_cast<uint64_t>(prompt);
  generated_tokens_ += static_cast<uint64_t>(generated);
}

void Metrics::count_cancelled() {
  std::lock_guard<std::mutex> lk(mu_);
  ++cancelled_;
}

void Metrics::count_kv_full() {
  std::lock_guard<std::mutex> lk(mu_);
  ++kv_full_;
}

void Metrics::count_preempted() {
  std::lock_guard<std::mutex> lk(mu_);
  ++preempted_;
}

void Metrics::count_prompt_cached(int64_t tokens) {
  std::lock_guard<std::mutex> lk(mu_);
  prompt_cached_ += static_cast<uint64_t>(tokens);
}

void Metrics::observe_time_to_first_token(double seconds) {
  std::lock_guard<std::mutex> lk(mu_);
  ttft_.observe(seconds);
}

void Metrics::observe_inter_token(double seconds) {
  std::lock_guard<std::mutex> lk(mu_);
  itl_.observe(seconds);
}

std::string Metrics::render(const Gauges& g) const {
  std::lock_guard<std::mutex> lk(mu_);
  std::string out;
  header("tessera_requests_total", "counter", "HTTP requests answered, by endpoint and status code.", &out);
  for (const auto& [key, n] : requests_)
    out += "tessera_requests_total{endpoint=\"" + key.first + "\",status=\"" + std::to_string(key.second) +
           "\"} " + std::to_string(n) + "\n";
  scalar("tessera_prompt_tokens_total", "counter", "Prompt tokens of the requests that were generated.",
         static_cast<double>(prompt_tokens_), &out);
  scalar("tessera_prompt_tokens_cached_total", "counter",
         "Prompt tokens whose KV rows were reused from a slot's cache (a shared prefix) instead of computed.",
         static_cast<double>(prompt_cached_), &out);
  scalar("tessera_generated_tokens_total", "counter", "Tokens generated (sampled), over all requests.",
         static_cast<double>(generated_tokens_), &out);
  scalar("tessera_requests_cancelled_total", "counter",
         "Requests cancelled because their client disconnected before the end.",
         static_cast<double>(cancelled_), &out);
  scalar(
      "tessera_kv_pool_full_total", "counter",
      "Steps that found too few free KV blocks, so that prompts waited (or a request gave its memory back).",
      static_cast<double>(kv_full_), &out);
  scalar("tessera_preemptions_total", "counter",
         "Requests that gave their KV memory back while others ran, and resumed later by computing their "
         "tokens again (their clients see one uninterrupted answer).",
         static_cast<double>(preempted_), &out);
  scalar("tessera_queue_depth", "gauge", "Requests waiting for a free slot (or, preempted, for KV memory).",
         g.queue_depth, &out);
  scalar("tessera_active_slots", "gauge", "Slots (batch sequences) holding a request.", g.active_slots, &out);
  scalar("tessera_slots_total", "gauge", "Slots of the batch (--parallel).", g.slots, &out);
  scalar("tessera_kv_tokens_in_use", "gauge",
         "Tokens held in the KV caches of the slots (a free slot keeps its cache for a later prompt with the "
         "same prefix).",
         static_cast<double>(g.kv_tokens), &out);
  if (g.kv_blocks_total > 0) {
    scalar("tessera_kv_blocks_in_use", "gauge", "Blocks of the shared KV cache pool in use.",
           static_cast<double>(g.kv_blocks_in_use), &out);
    scalar(
        "tessera_kv_blocks_shared", "gauge",
        "Blocks of the KV cache pool held by more than one slot (a shared prompt prefix, copied on write).",
        static_cast<double>(g.kv_blocks_shared), &out);
    scalar("tessera_kv_blocks_total", "gauge", "Blocks of the shared KV cache pool.",
           static_cast<double>(g.kv_blocks_total), &out);
  }
  ttft_.render("tessera_time_to_first_token_seconds",
               "Seconds from a request's arrival to its first generated token.", &out);
  itl_.render("tessera_inter_token_latency_seconds", "Seconds between consecutive tokens of one request.",
              &out);
  return out;
}

}  // namespace tessera_server
