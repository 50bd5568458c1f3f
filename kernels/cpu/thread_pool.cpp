#include "cpu/thread_pool.h"

#include <algorithm>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define TSR_CPU_RELAX() _mm_pause()
#else
#define TSR_CPU_RELAX() std::this_thread::yield()
#endif

namespace tsr::cpu {
namespace {
// About 20-50 us of spinning: long enough to catch the next kernel of a step,
// short enough not to steal a shared core for long.
constexpr int kSpinIters = 1 << 13;
}  // namespace

ThreadPool::ThreadPool(int n_threads) {
  if (n_threads <= 0) n_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  n_threads_ = n_threads;
  workers_.reserve(n_threads_ - 1);
  for (int t = 1; t < n_threads_; ++t) workers_.emplace_back([this, t] { worker_main(t); });
}

ThreadPool::~ThreadPool() {
  stop_.store(true, std::memory_order_relaxed);
  bump_generation();
  for (auto& w : workers_) w.join();
}

void ThreadPool::bump_generation() {
  {
    std::lock_guard<std::mutex> lock(wake_mutex_);
    generation_.fetch_add(1, std::memory_order_release);
  }
  wake_cv_.notify_all();
}

// The ticket carries the job's chunk count next to its claim counter, so a
// thread that loaded a finished job's ticket compares against that job's
// count, never against the next job's (whose fields may already be written):
// a claim past the end of a finished job would run a chunk twice and
// overcount done_chunks_, leaving the caller waiting forever.
namespace {
constexpr int kCountBits = 20;  // chunks per job < 2^20 (4 per thread)
constexpr uint64_t kCountMask = (uint64_t{1} << kCountBits) - 1;
constexpr uint64_t kJobMask = (uint64_t{1} << (64 - 2 * kCountBits)) - 1;
inline uint64_t make_ticket(uint64_t job, int64_t n_chunks) {
  return ((job & kJobMask) << (2 * kCountBits)) | (static_cast<uint64_t>(n_chunks) << kCountBits);
}
}  // namespace

void ThreadPool::work_on_job(int tid, uint64_t job) {
  uint64_t t = ticket_.load(std::memory_order_acquire);
  for (;;) {
    if ((t >> (2 * kCountBits)) != (job & kJobMask)) return;  // a later job: this thread was late
    const auto c = static_cast<int64_t>(t & kCountMask);
    const auto n_chunks = static_cast<int64_t>((t >> kCountBits) & kCountMask);
    if (c >= n_chunks) return;
    const int64_t chunk = chunk_.load(std::memory_order_relaxed), n = n_.load(std::memory_order_relaxed);
    const RangeFn fn = fn_.load(std::memory_order_relaxed);
    void* ctx = ctx_.load(std::memory_order_relaxed);
    if (!ticket_.compare_exchange_weak(t, t + 1, std::memory_order_acq_rel, std::memory_order_acquire))
      continue;
    const int64_t begin = c * chunk;
    try {
      fn(ctx, begin, std::min(n, begin + chunk), tid);
    } catch (...) {
      if (!failed_.exchange(true)) error_ = std::current_exception();
    }
    done_chunks_.fetch_add(1, std::memory_order_acq_rel);
    t = ticket_.load(std::memory_order_acquire);
  }
}

void ThreadPool::worker_main(int tid) {
  // Start from the generation at construction, not from a fresh load: a job
  // posted before this thread got to run must still be picked up.
  uint64_t seen = 0;
  for (;;) {
    uint64_t g = generation_.load(std::memory_order_acquire);
    for (int i = 0; g == seen && i < kSpinIters; ++i) {
      TSR_CPU_RELAX();
      g = generation_.load(std::memory_order_acquire);
    }
    if (g == seen) {
      std::unique_lock<std::mutex> lock(wake_mutex_);
      wake_cv_.wait(lock, [&] { return generation_.load(std::memory_order_acquire) != seen; });
      g = generation_.load(std::memory_order_acquire);
    }
    seen = g;
    if (stop_.load(std::memory_order_relaxed)) return;
    work_on_job(tid, g);
  }
}

void ThreadPool::run(int64_t n, int64_t grain, RangeFn fn, void* ctx) {
  if (n <= 0) return;
  grain = std::max<int64_t>(1, grain);
  if (n_threads_ == 1 || n <= grain) {
    fn(ctx, 0, n, 0);
    return;
  }
  // A few chunks per thread balance uneven rows without much atomic traffic.
  const int64_t target_chunks = static_cast<int64_t>(n_threads_) * 4;
  const int64_t chunk = std::max({grain, (n + target_chunks - 1) / target_chunks, (n >> kCountBits) + 1});
  const int64_t n_chunks = (n + chunk - 1) / chunk;
  fn_.store(fn, std::memory_order_relaxed);
  ctx_.store(ctx, std::memory_order_relaxed);
  n_.store(n, std::memory_order_relaxed);
  chunk_.store(chunk, std::memory_order_relaxed);
  done_chunks_.store(0, std::memory_order_relaxed);
  failed_.store(false, std::memory_order_relaxed);
  error_ = nullptr;
  // The job number is the generation workers will see for it.
  const uint64_t job = generation_.load(std::memory_order_relaxed) + 1;
  ticket_.store(make_ticket(job, n_chunks), std::memory_order_release);
  bump_generation();

  work_on_job(0, job);
  for (int i = 0; done_chunks_.load(std::memory_order_acquire) < n_chunks; ++i) {
    if (i < kSpinIters)
      TSR_CPU_RELAX();
    else
      std::this_thread::yield();
  }
  if (failed_.load(std::memory_order_acquire)) std::rethrow_exception(error_);
}

}  // namespace tsr::cpu
