// Decode's matrix-vector product: the integer block dot over weight rows
// (qdot4_best), single-threaded, on a weight matrix larger than the caches
// (SmolLM2's ffn rows x enough of them for 64 MiB), and the activation
// quantization and block dequantization around it.
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "kernels/cpu/convert.h"
#include "kernels/cpu/dequant.h"
#include "kernels/cpu/quant_dot.h"
#include "kernels/cpu/quant_dot_k.h"
#include "tessera/kit/dtype.h"
#include "tessera/tessera_types.h"

namespace tsr::cpu {
namespace {

std::vector<uint8_t> random_weights(int32_t dtype, int64_t K, int64_t M) {
  const DtypeTraits* t = dtype_traits(dtype);
  std::mt19937 rng(1);
  std::normal_distribution<float> dist(0.0f, 0.05f);
  std::vector<float> row(static_cast<size_t>(K));
  const int64_t row_bytes = K / t->block_size * t->block_bytes;
  std::vector<uint8_t> w(static_cast<size_t>(row_bytes * M));
  for (int64_t m = 0; m < M; ++m) {
    for (auto& v : row) v = dist(rng);
    t->from_float(row.data(), w.data() + m * row_bytes, K);
  }
  return w;
}

std::vector<BlockQ16Act> random_act(int64_t K) {
  std::mt19937 rng(2);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(K));
  for (auto& v : x) v = dist(rng);
  std::vector<BlockQ16Act> xq(static_cast<size_t>(K / kQK));
  quantize_row_q16_act(x.data(), xq.data(), K);
  return xq;
}

// args: dtype, K, total weight MiB
void BM_matvec(benchmark::State& st) {
  const auto dtype = static_cast<int32_t>(st.range(0));
  const int64_t K = st.range(1);
  const DtypeTraits* t = dtype_traits(dtype);
  const int64_t row_bytes = K / t->block_size * t->block_bytes;
  const int64_t M = (st.range(2) << 20) / row_bytes / 4 * 4;
  const auto w = random_weights(dtype, K, M);
  const auto xq = random_act(K);
  const QDot4Fn dot4 = qdot4_best(dtype);
  std::vector<float> y(static_cast<size_t>(M));
  for (auto _ : st) {
    for (int64_t m = 0; m < M; m += 4) {
      const void* rows[4] = {w.data() + m * row_bytes, w.data() + (m + 1) * row_bytes,
                             w.data() + (m + 2) * row_bytes, w.data() + (m + 3) * row_bytes};
      dot4(K, rows, xq.data(), y.data() + m);
    }
    benchmark::DoNotOptimize(y.data());
  }
  st.SetBytesProcessed(st.iterations() * M * row_bytes);
  st.SetLabel(std::string(t->name) + " " + std::to_string(M) + " rows");
}
BENCHMARK(BM_matvec)
    ->ArgNames({"dtype", "K", "MiB"})
    ->Args({TSR_DTYPE_Q4_1, 576, 64})
    ->Args({TSR_DTYPE_Q4_0, 576, 64})
    ->Args({TSR_DTYPE_Q8_0, 576, 64})
    ->Args({TSR_DTYPE_Q4_1, 576, 1})  // cache-resident: the kernel's compute ceiling
    ->Args({TSR_DTYPE_Q8_0, 576, 1})
    ->Args({TSR_DTYPE_Q4_1, 4096, 64})
    ->Unit(benchmark::kMicrosecond);

// The 5-bit and k-quant kernels one instruction set at a time, one row per
// call (qdot_k) against four (qdot4_k), so a run shows what the four-row
// kernels buy and what AVX-512 adds over AVX2 on this machine.
// args: dtype, QDotIsa, rows per call (1 or 4), total weight MiB; K = 4096.
void BM_matvec_k(benchmark::State& st) {
  const auto dtype = static_cast<int32_t>(st.range(0));
  const auto isa = static_cast<QDotIsa>(st.range(1));
  const bool four = st.range(2) == 4;
  const bool runs = isa == QDotIsa::kScalar || (isa == QDotIsa::kAvx2 ? cpu_has_f16c() : cpu_has_avx512bw());
  const QDotFn dot = qdot_k(dtype, isa);
  QDot4Fn dot4 = qdot4_k(dtype, isa);
  if (four && !dot4 && isa == QDotIsa::kAvx2) dot4 = qdot4_best(dtype);  // q5_0/q5_1's AVX2 kernel
  if (!runs || (four ? !dot4 : !dot)) {
    st.SkipWithError("no such kernel on this machine");
    return;
  }
  const int64_t K = 4096;
  const DtypeTraits* t = dtype_traits(dtype);
  const int64_t row_bytes = K / t->block_size * t->block_bytes;
  const int64_t M = (st.range(3) << 20) / row_bytes / 4 * 4;
  const auto w = random_weights(dtype, K, M);
  const auto xq = random_act(K);
  std::vector<float> y(static_cast<size_t>(M));
  for (auto _ : st) {
    for (int64_t m = 0; m < M; m += 4) {
      const void* rows[4] = {w.data() + m * row_bytes, w.data() + (m + 1) * row_bytes,
                             w.data() + (m + 2) * row_bytes, w.data() + (m + 3) * row_bytes};
      if (four) {
        dot4(K, rows, xq.data(), y.data() + m);
      } else {
        for (int r = 0; r < 4; ++r) y[m + r] = dot(K, rows[r], xq.data());
      }
    }
    benchmark::DoNotOptimize(y.data());
  }
  st.SetBytesProcessed(st.iterations() * M * row_bytes);
  static const char* const kIsa[] = {"scalar", "avx2", "avx512"};
  st.SetLabel(std::string(t->name) + " " + kIsa[st.range(1)] + (four ? " 4 rows" : " 1 row"));
}
void matvec_k_args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"dtype", "isa", "rows", "MiB"});
  for (int64_t dtype : {TSR_DTYPE_Q5_0, TSR_DTYPE_Q4_K, TSR_DTYPE_Q5_K, TSR_DTYPE_Q6_K})
    for (int64_t isa : {static_cast<int64_t>(QDotIsa::kAvx2), static_cast<int64_t>(QDotIsa::kAvx512)})
      for (int64_t rows : {1, 4}) b->Args({dtype, isa, rows, 64});
  b->Args({TSR_DTYPE_Q4_K, static_cast<int64_t>(QDotIsa::kAvx512), 4, 1});  // cache-resident ceiling
}
BENCHMARK(BM_matvec_k)->Apply(matvec_k_args)->Unit(benchmark::kMicrosecond);

void BM_quantize_act(benchmark::State& st) {
  const int64_t K = st.range(0);
  std::vector<float> x(static_cast<size_t>(K), 0.25f);
  std::vector<BlockQ16Act> xq(static_cast<size_t>(K / kQK));
  for (auto _ : st) {
    quantize_row_q16_act(x.data(), xq.data(), K);
    benchmark::DoNotOptimize(xq.data());
  }
  st.SetBytesProcessed(st.iterations() * K * 4);
}
BENCHMARK(BM_quantize_act)->Arg(576)->Arg(4096);

void BM_dequantize(benchmark::State& st) {
  const auto dtype = static_cast<int32_t>(st.range(0));
  const int64_t K = 4096;
  const auto w = random_weights(dtype, K, 1);
  std::vector<float> y(static_cast<size_t>(K));
  for (auto _ : st) {
    dequantize_row_fast(w.data(), dtype, K, y.data());
    benchmark::DoNotOptimize(y.data());
  }
  st.SetItemsProcessed(st.iterations() * K);
  st.SetLabel(dtype_traits(dtype)->name);
}
BENCHMARK(BM_dequantize)->Arg(TSR_DTYPE_Q4_1)->Arg(TSR_DTYPE_Q4_0)->Arg(TSR_DTYPE_Q8_0);

}  // namespace
}  // namespace tsr::cpu
