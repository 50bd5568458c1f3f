// The thread pool's fork-join cost: an empty parallel_for over 2 threads. A
// decode step runs ~500 kernels, so each microsecond here is ~0.5 ms/token.
#include <benchmark/benchmark.h>

#include <atomic>

#include "kernels/cpu/thread_pool.h"

namespace tsr::cpu {
namespace {

void BM_pool_fork_join(benchmark::State& st) {
  ThreadPool pool(static_cast<int>(st.range(0)));
  std::atomic<int64_t> sink{0};
  for (auto _ : st)
    pool.parallel_for(64, 1,
                      [&](int64_t b, int64_t e, int) { sink.fetch_add(e - b, std::memory_order_relaxed); });
  benchmark::DoNotOptimize(sink.load());
}
BENCHMARK(BM_pool_fork_join)->Arg(1)->Arg(2)->UseRealTime();

}  // namespace
}  // namespace tsr::cpu
