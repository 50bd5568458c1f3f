#include "tools/server/engine.h"

#include <algorithm>

#include "tools/server/kv.h"

namespace tessera_server {

namespace {

// Tokens fed per step over all slots. Decoding slots go first (a token
// each) and prompts share the rest, oldest request first: the library runs
// an eval in steps of n_batch tokens (256 by default) and returns when all
// are done, so feeding a long prompt whole would hold every decoding slot
// for the length of that prompt (chunked prefill).
constexpr int64_t kStepTokens = 256;

using Clock = std::chrono::steady_clock;

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

ApiError server_error(const std::string& message, int status = 500, const std::string& code = "") {
  return ApiError{status, message, "server_error", "", code};
}

}  // namespace

std::unique_ptr<Engine> Engine::create(tsr_llm* model, const EngineConfig& config, Metrics* metrics,
                                       std::string* error) {
  tsr_llm_batch* batch = create_batch(model, config.slots, config.kv_blocks, error);
  if (!batch) return nullptr;
  std::unique_ptr<Engine> e(new Engine(model, batch, config, metrics));
  tsr_llm_info info{sizeof info};
  if (tsr_llm_get_info(model, &info) != TSR_OK) {
    *error = tsr_last_error();
    return nullptr;
  }
  e->n_ctx_ = info.n_ctx;
  e->n_vocab_ = info.n_vocab;
  e->thread_ = std::thread([p = e.get()] { p->run(); });
  return e;
}

Engine::Engine(tsr_llm* model, tsr_llm_batch* batch, const EngineConfig& config, Metrics* metrics)
    : model_(model), batch_(batch), config_(config), metrics_(metrics), slots_(config.slots) {}

Engine::~Engine() {
  shutdown_and_wait();
  for (Slot& s : slots_) tsr_llm_sampler_free(s.sampler);
  tsr_llm_batch_free(batch_);
}

Engine::Admission Engine::submit(std::shared_ptr<Job> job) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (stopping_) return Admission::kStopping;
    if (active_ + static_cast<int64_t>(waiting_.size()) >= int64_t{config_.slots} + config_.queue)
      return Admission::kQueueFull;
    waiting_.push_back(std::move(job));
  }
  cv_.notify_all();
  return Admission::kAccepted;
}

void Engine::shutdown() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
}

void Engine::shutdown_and_wait() {
  shutdown();
  if (thread_.joinable()) thread_.join();
}

Gauges Engine::gauges() const {
  std::lock_guard<std::mutex> lk(mu_);
  Gauges g;
  g.queue_depth = static_cast<int32_t>(waiting_.size() + suspended_.size());
  g.active_slots = active_ - static_cast<int32_t>(suspended_.size());
  g.slots = config_.slots;
  g.kv_tokens = kv_tokens_;
  g.kv_blocks_in_use = kv_blocks_in_use_;
  g.kv_blocks_shared = kv_blocks_shared_;
  g.kv_blocks_total = kv_blocks_total_;
  return g;
}

void Engine::run() {
  update_gauges();
  while (wait_for_work()) {
    drop_cancelled();
    admit();
    if (std::none_of(slots_.begin(), slots_.end(), [](const Slot& s) { return s.job != nullptr; })) continue;
    step();
    update_gauges();
  }
  cancel_everything();
  update_gauges();
}

bool Engine::wait_for_work() {
  std::unique_lock<std::mutex> lk(mu_);
  cv_.wait(lk, [&] { return stopping_ || active_ > 0 || !waiting_.empty(); });
  return !stopping_;
}

namespace {

size_t common_prefix(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
  const size_t n = std::min(a.size(), b.size());
  size_t i = 0;
  while (i < n && a[i] == b[i]) ++i;
  return i;
}

// Below this many tokens a copied prefix saves less than it costs: one KV
// block (the library's default block size) is the unit that is shared.
constexpr size_t kMinSharedPrefix = 16;

}  // namespace

// The free slot for a prompt: the one whose kept cache shares most of it,
// else the one keeping the least.
int32_t Engine::free_slot_for(const std::vector<int32_t>& prompt) const {
  int32_t best = -1;
  size_t best_common = 0;
  for (int32_t s = 0; s < config_.slots; ++s) {
    if (slots_[s].job) continue;
    const size_t c = common_prefix(slots_[s].cache, prompt);
    if (best < 0 || c > best_common ||
        (c == best_common && slots_[s].cache.size() < slots_[best].cache.size())) {
      best = s;
      best_common = c;
    }
  }
  return best;
}

void Engine::reuse_prefix(int32_t s, bool count_cached) {
  Slot& sl = slots_[s];
  const std::vector<int32_t>& prompt = sl.feed;
  // At least the prompt's last token is computed: its logits are needed.
  const size_t limit = !config_.prompt_cache || prompt.empty() ? 0 : prompt.size() - 1;
  int32_t src = s;
  size_t best = std::min(common_prefix(sl.cache, prompt), limit);
  for (int32_t o = 0; o < config_.slots; ++o) {
    const size_t c = std::min(common_prefix(slots_[o].cache, prompt), limit);
    if (o != s && c > best && c >= kMinSharedPrefix) {
      src = o;
      best = c;
    }
  }
  const auto n = static_cast<int32_t>(best);
  tsr_status_code st = TSR_OK;
  if (src == s)
    st = best > 0 ? tsr_llm_batch_truncate(batch_, s, n) : tsr_llm_batch_reset(batch_, s);
  else
    st = tsr_llm_batch_copy_prefix(batch_, src, s, n);
  if (st != TSR_OK) {  // cannot happen for the values above; start from nothing then
    tsr_llm_batch_reset(batch_, s);
    best = 0;
  }
  sl.cache.assign(prompt.begin(), prompt.begin() + static_cast<std::ptrdiff_t>(best));
  sl.fed = best;
  if (best > 0 && count_cached) metrics_->count_prompt_cached(static_cast<int64_t>(best));
}

bool Engine::evict_free_caches() {
  bool any = false;
  for (int32_t s = 0; s < config_.slots; ++s) {
    if (slots_[s].job || slots_[s].cache.empty()) continue;
    tsr_llm_batch_reset(batch_, s);
    slots_[s].cache.clear();
    any = true;
  }
  return any;
}

void Engine::admit() {
  for (;;) {
    std::shared_ptr<Job> job;
    Suspended resumed;
    int32_t s = -1;
    {
      std::lock_guard<std::mutex> lk(mu_);
      // Nothing running: no memory to wait for.
      if (active_ == static_cast<int32_t>(suspended_.size())) kv_full_ = false;
      if (kv_full_) return;
      if (!suspended_.empty()) {
        s = free_slot_for(suspended_.front().tokens);
        if (s < 0) return;
        resumed = std::move(suspended_.front());
        suspended_.pop_front();
      } else {
        if (waiting_.empty()) return;
        s = free_slot_for(waiting_.front()->prompt);
        if (s < 0) return;
        job = std::move(waiting_.front());
        waiting_.pop_front();
        ++active_;
      }
    }
    Slot& sl = slots_[s];
    sl.admitted = ++admissions_;
    if (resumed.job) {
      sl.job = std::move(resumed.job);
      sl.feed = std::move(resumed.tokens);
      sl.prompt_counted = resumed.generated > 0;
      sl.generated = resumed.generated;
      sl.sampler = resumed.sampler;
      sl.text = std::move(resumed.text);
      sl.last_token = resumed.last_token;
      if (sl.job->channel.cancelled()) {
        metrics_->count_cancelled();
        fail(s, server_error("[engine] the client disconnected while the request waited for KV memory"));
      } else {
        reuse_prefix(s, /*count_cached=*/false);  // counted when it first came
      }
      continue;
    }
    sl.job = std::move(job);
    sl.feed = sl.job->prompt;
    sl.text = std::make_unique<TextStream>();
    std::string error;
    if (sl.job->channel.cancelled()) {
      metrics_->count_cancelled();
      fail(s, server_error("[engine] the client disconnected while the request was queued"));
    } else if (tsr_llm_sampler_create(&sl.job->sampling, &sl.sampler) != TSR_OK) {
      fail(s, bad_request("", std::string("[engine] sampler: ") + tsr_last_error()));
    } else if (!sl.text->init(sl.job->stop, &error)) {
      fail(s, bad_request("stop", "[engine] stop strings: " + error));
    } else {
      reuse_prefix(s, /*count_cached=*/true);
    }
  }
}

void Engine::drop_cancelled() {
  for (int32_t s = 0; s < config_.slots; ++s) {
    if (!slots_[s].job || !slots_[s].job->channel.cancelled()) continue;
    metrics_->count_cancelled();
    fail(s, server_error("[engine] the client disconnected"));
  }
  // A suspended request whose client left gives up its place at once.
  std::vector<Suspended> gone;
  {
    std::lock_guard<std::mutex> lk(mu_);
    for (auto it = suspended_.begin(); it != suspended_.end();) {
      if (!it->job->channel.cancelled()) {
        ++it;
        continue;
      }
      gone.push_back(std::move(*it));
      it = suspended_.erase(it);
      --active_;
    }
  }
  for (Suspended& z : gone) {
    metrics_->count_cancelled();
    finish_suspended(z,
                     server_error("[engine] the client disconnected while the request waited for KV memory"));
  }
}

tsr_status_code Engine::eval(const std::vector<int32_t>& n_tokens,
                             const std::vector<const int32_t*>& tokens) {
  if (std::all_of(n_tokens.begin(), n_tokens.end(), [](int32_t n) { return n == 0; })) return TSR_OK;
  return tsr_llm_batch_eval(batch_, tokens.data(), n_tokens.data());
}

void Engine::step() {
  const int32_t S = config_.slots;
  std::vector<int32_t> n(S, 0);
  std::vector<const int32_t*> tokens(S, nullptr);
  std::vector<bool> was_prefilling(S, false);
  std::vector<int32_t> prefill_order;
  int64_t budget = kStepTokens;
  for (int32_t s = 0; s < S; ++s) {
    Slot& sl = slots_[s];
    if (!sl.job) continue;
    was_prefilling[s] = sl.prefilling();
    if (was_prefilling[s]) {
      prefill_order.push_back(s);
    } else {
      n[s] = 1;
      tokens[s] = &sl.next;
      --budget;
    }
  }
  std::sort(prefill_order.begin(), prefill_order.end(),
            [&](int32_t a, int32_t b) { return slots_[a].admitted < slots_[b].admitted; });
  for (size_t i = 0; i < prefill_order.size(); ++i) {
    // The oldest prompt gets at least one token, so it moves even when
    // every other slot decodes.
    if (budget <= 0 && i > 0) break;
    const int32_t s = prefill_order[i];
    Slot& sl = slots_[s];
    const int64_t take = std::max<int64_t>(1, std::min<int64_t>(budget, sl.feed.size() - sl.fed));
    n[s] = static_cast<int32_t>(take);
    tokens[s] = sl.feed.data() + sl.fed;
    budget -= take;
  }

  tsr_status_code st = eval(n, tokens);
  // The shared KV pool has too few free blocks, and the eval changed
  // nothing. The caches free slots keep go first (they are only an
  // optimisation); then no request starts until one ends (kv_full_), and
  // this step retries with the decoding slots and the oldest prompt, then
  // with the decoding slots alone.
  if (st == TSR_ERR_OUT_OF_MEMORY && evict_free_caches()) st = eval(n, tokens);
  if (st == TSR_ERR_OUT_OF_MEMORY) {
    kv_full_ = true;
    metrics_->count_kv_full();
    const auto any = [&] { return std::any_of(n.begin(), n.end(), [](int32_t x) { return x > 0; }); };
    if (prefill_order.size() > 1) {
      for (size_t i = 1; i < prefill_order.size(); ++i) n[prefill_order[i]] = 0;
      st = eval(n, tokens);
    }
    if (st == TSR_ERR_OUT_OF_MEMORY && !prefill_order.empty()) {
      n[prefill_order.front()] = 0;
      st = any() ? eval(n, tokens) : TSR_ERR_OUT_OF_MEMORY;
    }
    if (st == TSR_ERR_OUT_OF_MEMORY) {
      // Not even the decoding slots fit: the youngest request gives its
      // memory back. While others run (they will end and free memory) it
      // is suspended and resumes later, recomputing its tokens; alone, it
      // can never fit, and ends with what it has ("length"), or fails with
      // 503 before its first token.
      int32_t youngest = -1, busy = 0;
      for (int32_t s = 0; s < S; ++s) {
        if (!slots_[s].job) continue;
        ++busy;
        if (youngest < 0 || slots_[s].admitted > slots_[youngest].admitted) youngest = s;
      }
      if (busy > 1)
        suspend(youngest);
      else if (slots_[youngest].generated == 0)
        fail(youngest,
             server_error("[engine] the KV cache is full (--kv-blocks): retry later", 503, "kv_cache_full"));
      else
        finish(youngest, "length", true);
      return;
    }
  }
  if (st != TSR_OK) {
    const ApiError e = server_error(std::string("[engine] batch eval: ") + tsr_last_error());
    for (int32_t s = 0; s < S; ++s)
      if (n[s] > 0) fail(s, e);
    return;
  }
  for (int32_t s = 0; s < S; ++s) {
    if (n[s] == 0) continue;
    Slot& sl = slots_[s];
    sl.cache.insert(sl.cache.end(), tokens[s], tokens[s] + n[s]);
    if (was_prefilling[s]) {
      sl.fed += static_cast<size_t>(n[s]);
      if (sl.prefilling()) continue;
      if (!sl.prompt_counted) metrics_->count_tokens(static_cast<int64_t>(sl.job->prompt.size()), 0);
    }
    sample(s);
  }
}

void Engine::sample(int32_t s) {
  Slot& sl = slots_[s];
  const float* logits = nullptr;
  int32_t token = -1;
  if (tsr_llm_batch_logits(batch_, s, &logits) != TSR_OK ||
      tsr_llm_sampler_sample(sl.sampler, logits, n_vocab_, nullptr, 0, &token) != TSR_OK) {
    fail(s, server_error(std::string("[engine] sampling: ") + tsr_last_error()));
    return;
  }
  emit_token(s, token);
}

void Engine::emit_token(int32_t s, int32_t token) {
  Slot& sl = slots_[s];
  Job& job = *sl.job;
  if (tsr_llm_is_end_of_generation(model_, token)) {
    finish(s, "stop", true);
    return;
  }
  const Clock::time_point now = Clock::now();
  if (sl.generated == 0)
    metrics_->observe_time_to_first_token(seconds(now - job.arrived));
  else
    metrics_->observe_inter_token(seconds(now - sl.last_token));
  sl.last_token = now;
  ++sl.generated;
  metrics_->count_tokens(0, 1);

  char small[64];
  std::string big;
  const char* piece = small;
  int32_t len = 0;
  if (tsr_llm_token_to_piece(model_, token, small, sizeof small, &len) != TSR_OK) {
    if (len <= static_cast<int32_t>(sizeof small)) {
      fail(s, server_error(std::string("[engine] token_to_piece: ") + tsr_last_error()));
      return;
    }
    big.resize(static_cast<size_t>(len));
    if (tsr_llm_token_to_piece(model_, token, big.data(), len, &len) != TSR_OK) {
      fail(s, server_error(std::string("[engine] token_to_piece: ") + tsr_last_error()));
      return;
    }
    piece = big.data();
  }
  bool stopped = false;
  std::string text = sl.text->feed(piece, len, &stopped);
  if (!text.empty()) job.channel.push(std::move(text));
  if (stopped) {
    finish(s, "stop", false);
    return;
  }
  int32_t n_past = 0;
  tsr_llm_batch_n_past(batch_, s, &n_past);
  // The context is full when the token just sampled has no row left to go to.
  if (sl.generated >= job.max_tokens || n_past >= n_ctx_) {
    finish(s, "length", true);
    return;
  }
  sl.next = token;
}

void Engine::finish(int32_t s, const char* reason, bool flush) {
  Slot& sl = slots_[s];
  if (flush) {
    std::string rest = sl.text->flush();
    if (!rest.empty()) sl.job->channel.push(std::move(rest));
  }
  Outcome o;
  o.finish_reason = reason;
  o.usage = {static_cast<int32_t>(sl.job->prompt.size()), sl.generated};
  end(s, std::move(o));
}

void Engine::fail(int32_t s, const ApiError& error) {
  Outcome o;
  o.error = error;
  o.usage = {static_cast<int32_t>(slots_[s].job->prompt.size()), slots_[s].generated};
  end(s, std::move(o));
}

void Engine::end(int32_t s, Outcome outcome) {
  // The slot is free (and the gauges say so) before the client hears the
  // end: a client that then reads /metrics sees its slot released.
  std::shared_ptr<Job> job = std::move(slots_[s].job);
  release(s);
  update_gauges();
  job->channel.finish(std::move(outcome));
}

void Engine::release(int32_t s) {
  // The sequence keeps its cache (Slot::cache) for a later prompt; the next
  // request in this slot truncates, replaces or resets it (reuse_prefix).
  tsr_llm_sampler_free(slots_[s].sampler);
  std::vector<int32_t> cache = std::move(slots_[s].cache);
  slots_[s] = Slot{};
  slots_[s].cache = std::move(cache);
  std::lock_guard<std::mutex> lk(mu_);
  --active_;
  kv_full_ = false;  // memory came back
}

void Engine::suspend(int32_t s) {
  Slot& sl = slots_[s];
  Suspended z;
  // Decoding: the tokens whose rows it held, and the one it sampled but has
  // not fed (its text is out already). Still computing its feed (a prompt,
  // or the tokens of an earlier resume, which end with such a token): the
  // whole feed again.
  const bool decoding = !sl.prefilling() && sl.generated > 0;
  z.tokens = decoding ? std::move(sl.cache) : sl.feed;
  if (decoding) z.tokens.push_back(sl.next);
  z.job = std::move(sl.job);
  z.generated = sl.generated;
  z.sampler = sl.sampler;
  z.text = std::move(sl.text);
  z.last_token = sl.last_token;
  tsr_llm_batch_reset(batch_, s);
  slots_[s] = Slot{};
  metrics_->count_preempted();
  std::lock_guard<std::mutex> lk(mu_);
  suspended_.push_front(std::move(z));
}

void Engine::finish_suspended(Suspended& z, const ApiError& error) {
  tsr_llm_sampler_free(z.sampler);
  z.sampler = nullptr;
  Outcome o;
  o.error = error;
  o.usage = {static_cast<int32_t>(z.job->prompt.size()), z.generated};
  z.job->channel.finish(std::move(o));
}

void Engine::cancel_everything() {
  const ApiError e = server_error("[engine] the server is shutting down", 503, "shutting_down");
  for (int32_t s = 0; s < config_.slots; ++s)
    if (slots_[s].job) fail(s, e);
  std::deque<std::shared_ptr<Job>> waiting;
  std::deque<Suspended> suspended;
  {
    std::lock_guard<std::mutex> lk(mu_);
    waiting.swap(waiting_);
    suspended.swap(suspended_);
    active_ -= static_cast<int32_t>(suspended.size());
  }
  for (Suspended& z : suspended) finish_suspended(z, e);
  for (auto& job : waiting) {
    Outcome o;
    o.error = e;
    job->channel.finish(std::move(o));
  }
}

void Engine::update_gauges() {
  const KvUsage u = read_kv_usage(batch_, config_.slots);
  std::lock_guard<std::mutex> lk(mu_);
  kv_tokens_ = u.tokens;
  kv_blocks_in_use_ = u.blocks_in_use;
  kv_blocks_shared_ = u.blocks_shared;
  kv_blocks_total_ = u.blocks_total;
}

}  // namespace tessera_server
