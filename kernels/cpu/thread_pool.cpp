#include "cpu/thread_pool.h"

#include <algorithm>
#include <chrono>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define TSR_CPU_RELAX() _mm_pause()
#else
#define TSR_CPU_RELAX() std::this_thread::yield()
#endif

namespace tsr::cpu {
namespace {
// Spinning lasts about 30 us, measured by the clock: long enough to catch the
// next kernel of a step, short enough not to steal a shared core for long.
// (A count of pause instructions varied 4x across CPUs: 8192 pauses took 90 us
// on an AVX-512 Xeon, whose pause is ~140 cycles.) The clock is read every
// kCheckEvery iterations, a few microseconds apart.
constexpr auto kSpin = std::chrono::microseconds(30);
constexpr int kCheckEvery = 64;

// Spins until done() or the spin time is over; true when done().
template <typename Done>
bool spin_until(Done done) {
  const auto deadline = std::chrono::steady_clock::now() + kSpin;
  for (int i = 1;; ++i) {
    if (done()) return true;
    TSR_CPU_RELAX();
    if (i % kCheckEvery == 0 && std::chrono::steady_clock::now() >= deadline) return done();
  }
}
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
    // No spinning after rest(): the caller is about to hand the cores to
    // another runtime (oneDNN's OpenMP team).
    if (g == seen && !resting_.load(std::memory_order_relaxed))
      spin_until([&] {
        g = generation_.load(std::memory_order_acquire);
        return g != seen || resting_.load(std::memory_order_relaxed);
      });
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
  resting_.store(false, std::memory_order_relaxed);
  // The job number is the generation workers will see for it.
  const uint64_t job = generation_.load(std::memory_order_relaxed) + 1;
  ticket_.store(make_ticket(job, n_chunks), std::memory_order_release);
  bump_generation();

  work_on_job(0, job);
  const auto all_done = [&] { return done_chunks_.load(std::memory_order_acquire) >= n_chunks; };
  if (!spin_until(all_done))
    while (!all_done()) std::this_thread::yield();
  if (failed_.load(std::memory_order_acquire)) std::rethrow_exception(error_);
}

void ThreadPool::rest() { resting_.store(true, std::memory_order_relaxed); }

}  // namespace tsr::cpu
