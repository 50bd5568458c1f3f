#include "kernels/cpu/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

namespace tsr::cpu {
namespace {

TEST(ThreadPool, CoversEveryIndexExactlyOnce) {
  for (int threads : {1, 2, 3, 4, 7}) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.n_threads(), threads);
    for (int64_t n : {0, 1, 2, 3, 5, 16, 17, 100, 1023, 4096, 100003}) {
      for (int64_t grain : {1, 3, 64}) {
        std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
        std::atomic<bool> bad_tid{false};
        pool.parallel_for(n, grain, [&](int64_t b, int64_t e, int tid) {
          if (tid < 0 || tid >= threads || b > e) bad_tid = true;
          for (int64_t i = b; i < e; ++i) hits[static_cast<size_t>(i)].fetch_add(1);
        });
        ASSERT_FALSE(bad_tid) << "threads " << threads << " n " << n;
        for (int64_t i = 0; i < n; ++i)
          ASSERT_EQ(hits[static_cast<size_t>(i)].load(), 1)
              << "index " << i << " threads " << threads << " n " << n;
      }
    }
  }
}

TEST(ThreadPool, ManyBackToBackJobsComplete) {
  ThreadPool pool(4);
  std::atomic<int64_t> total{0};
  for (int rep = 0; rep < 2000; ++rep)
    pool.parallel_for(37, 1, [&](int64_t b, int64_t e, int) { total.fetch_add(e - b); });
  EXPECT_EQ(total.load(), 2000 * 37);
}

// Jobs of alternating sizes back to back, as a decode step runs them: a worker
// still looking at a finished small job must not claim a chunk of it against
// the next, larger job's count (which once ran a chunk twice and left the
// caller waiting forever on an overcounted job). Each chunk is counted per
// job, so a chunk run twice or lost shows up as a wrong total.
TEST(ThreadPool, AlternatingJobSizesRunEachChunkOnce) {
  for (int threads : {2, 3, 5}) {
    ThreadPool pool(threads);
    for (int rep = 0; rep < 3000; ++rep) {
      const int64_t n = rep % 2 ? 3 : 64;
      std::atomic<int64_t> total{0};
      pool.parallel_for(n, 1, [&](int64_t b, int64_t e, int) { total.fetch_add(e - b); });
      ASSERT_EQ(total.load(), n) << "threads " << threads << " rep " << rep;
    }
  }
}

TEST(ThreadPool, TidIndexesPrivateScratchWithoutRaces) {
  ThreadPool pool(3);
  std::vector<int64_t> per_thread(3, 0);
  pool.parallel_for(30000, 1, [&](int64_t b, int64_t e, int tid) { per_thread[tid] += e - b; });
  EXPECT_EQ(per_thread[0] + per_thread[1] + per_thread[2], 30000);
}

TEST(ThreadPool, ExceptionInWorkerIsRethrownAndPoolStaysUsable) {
  ThreadPool pool(2);
  EXPECT_THROW(pool.parallel_for(1000, 1,
                                 [&](int64_t b, int64_t, int) {
                                   if (b == 0) throw std::runtime_error("boom");
                                 }),
               std::runtime_error);
  std::atomic<int64_t> total{0};
  pool.parallel_for(1000, 1, [&](int64_t b, int64_t e, int) { total += e - b; });
  EXPECT_EQ(total.load(), 1000);
}

// rest() sends idle workers to sleep at once; the next job must wake them
// (a lost wake-up would hang here), every time, with every index covered,
// and the workers (not only the caller) must take part again afterwards.
TEST(ThreadPool, RestThenWorkAgainNeverLosesAJob) {
  ThreadPool pool(3);
  std::atomic<bool> worker_ran{false};
  for (int round = 0; round < 2000; ++round) {
    pool.rest();
    if (round % 3 == 0) std::this_thread::sleep_for(std::chrono::microseconds(50));
    std::atomic<int64_t> total{0};
    pool.parallel_for(3000, 1, [&](int64_t b, int64_t e, int tid) {
      total += e - b;
      if (tid != 0) worker_ran = true;
    });
    ASSERT_EQ(total.load(), 3000) << "round " << round;
  }
  EXPECT_TRUE(worker_ran.load());
}

TEST(ThreadPool, DefaultUsesHardwareConcurrency) {
  ThreadPool pool(0);
  EXPECT_GE(pool.n_threads(), 1);
}

}  // namespace
}  // namespace tsr::cpu
