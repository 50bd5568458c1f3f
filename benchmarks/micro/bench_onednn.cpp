// oneDNN's own f32 GEMM (dnnl_sgemm), called directly, beside the CPU
// backend's matmul node of the same shape (BM_node_matmul/dtype:0/...): the
// ratio of the two is what Tessera's dispatch around oneDNN costs.
#include <benchmark/benchmark.h>

#if TESSERA_WITH_ONEDNN
#include <dnnl.h>

#include <vector>

namespace {

void BM_onednn_sgemm(benchmark::State& st) {
  const int64_t M = st.range(0), N = st.range(0), K = st.range(0);
  std::vector<float> a(static_cast<size_t>(M * K), 0.5f), b(static_cast<size_t>(K * N), 0.25f),
      c(static_cast<size_t>(M * N));
  // Row-major C[M][N] = A[M][K] . B[N][K]^T: the layout of the matmul node
  // (weights row-major over K, tokens row-major over K).
  for (auto _ : st) {
    if (dnnl_sgemm('N', 'T', M, N, K, 1.0f, a.data(), K, b.data(), K, 0.0f, c.data(), N) != dnnl_success) {
      st.SkipWithError("dnnl_sgemm failed");
      break;
    }
    benchmark::DoNotOptimize(c.data());
  }
  st.counters["FLOPS"] =
      benchmark::Counter(static_cast<double>(2 * M * N * K), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_onednn_sgemm)->Arg(1024)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace
#endif
