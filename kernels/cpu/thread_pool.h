// A small fork-join pool for the CPU kernels. The calling thread takes part in
// every parallel_for, workers spin briefly (~30 us) between jobs (an inference
// step is a burst of short kernels) and then sleep, so an idle pool costs
// nothing.
//
// A job is finished when all its chunks are done, not when every worker has
// checked in: on a shared machine a descheduled worker would otherwise stall
// each of a decode step's ~500 kernels by a scheduler time slice (measured
// here: 11.6 ms/token became 115 ms/token with two other processes busy).
// The caller claims chunks like any worker, so it finishes a job alone if it
// must; a worker arriving late finds the job over and claims nothing.
//
// Usage:
//   ThreadPool pool(4);
//   pool.parallel_for(n_rows, 8, [&](int64_t begin, int64_t end, int tid) { ... });
//
// Threading: one parallel_for at a time (the backend instance is serialised by
// core). The callback must not call parallel_for on the same pool.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

namespace tsr::cpu {

class ThreadPool {
 public:
  // n_threads <= 0: std::thread::hardware_concurrency().
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Total threads taking part in a job, the caller included.
  int n_threads() const { return n_threads_; }

  // Calls f(begin, end, tid) over disjoint chunks covering [0, n) exactly once.
  // Chunks hold at least `grain` indices (except the last); tid is in
  // [0, n_threads()) and unique among concurrently running chunks, so it can
  // index per-thread scratch. An exception thrown by f is rethrown here.
  template <typename F>
  void parallel_for(int64_t n, int64_t grain, F&& f) {
    using Fn = std::remove_reference_t<F>;
    run(
        n, grain, [](void* ctx, int64_t b, int64_t e, int tid) { (*static_cast<Fn*>(ctx))(b, e, tid); },
        const_cast<void*>(static_cast<const void*>(&f)));
  }

  using RangeFn = void (*)(void* ctx, int64_t begin, int64_t end, int tid);
  void run(int64_t n, int64_t grain, RangeFn fn, void* ctx);

  // Idle workers go to sleep now instead of spinning for the next job, until
  // the next parallel_for: called before handing the cores to another
  // thread team (oneDNN's OpenMP), which would otherwise wait for our
  // spinning workers to give up their cores.
  void rest();

 private:
  void worker_main(int tid);
  void work_on_job(int tid, uint64_t job);
  void bump_generation();

  int n_threads_ = 1;
  std::vector<std::thread> workers_;
  std::atomic<bool> resting_{false};

  // The current job. Written by the caller before the job's ticket is
  // published; a worker reads them after loading a ticket of that job and
  // uses them only if its claim (a CAS on the same ticket) succeeds, which
  // proves the job was still live, hence the fields unchanged. Atomics so a
  // late worker's discarded read is not a data race.
  std::atomic<RangeFn> fn_{nullptr};
  std::atomic<void*> ctx_{nullptr};
  std::atomic<int64_t> n_{0};
  std::atomic<int64_t> chunk_{1};
  // (job number << 40) | (chunk count << 20) | next unclaimed chunk.
  alignas(64) std::atomic<uint64_t> ticket_{0};
  alignas(64) std::atomic<int64_t> done_chunks_{0};
  alignas(64) std::atomic<uint64_t> generation_{0};
  // Sleeping after the spin uses a condition variable rather than
  // std::atomic::wait: libstdc++ 12's wait on a 64-bit atomic lost wakeups
  // here (workers hung until the test timeout). generation_ is bumped under
  // wake_mutex_, so a worker cannot miss a bump between check and sleep.
  std::mutex wake_mutex_;
  std::condition_variable wake_cv_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> failed_{false};
  std::exception_ptr error_;
};

}  // namespace tsr::cpu
