// Prefill's GEMM core (gemm_f32.h), single-threaded, cache-resident: one
// block of 48 weight rows against 128 packed tokens. FLOPS = 2 * rows * K * N.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <vector>

#include "kernels/cpu/gemm_f32.h"

namespace tsr::cpu {
namespace {

void BM_gemm_rows(benchmark::State& st) {
  const int64_t K = st.range(0), N = st.range(1), rows = kGemmRowBlock;
  std::vector<float> wd(static_cast<size_t>(rows * K), 0.01f);
  const auto packed_bytes = static_cast<size_t>(gemm_packed_x_floats(N, K) * 4);
  auto* packed = static_cast<float*>(std::aligned_alloc(64, (packed_bytes + 63) / 64 * 64));
  for (int64_t i = 0; i < gemm_packed_x_floats(N, K); ++i) packed[i] = 0.5f;
  std::vector<float> out(static_cast<size_t>(N * rows));
  for (auto _ : st) {
    gemm_rows(wd.data(), rows, K, packed, N, out.data(), rows);
    benchmark::DoNotOptimize(out.data());
  }
  std::free(packed);
  st.counters["FLOPS"] = benchmark::Counter(static_cast<double>(2 * rows * K * N),
                                            benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_gemm_rows)
    ->ArgNames({"K", "N"})
    ->Args({576, 128})
    ->Args({1536, 128})
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace tsr::cpu
