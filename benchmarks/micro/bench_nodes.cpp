// Whole CPU nodes at SmolLM2-135M shapes, 2 threads, as a decode or prefill
// step runs them: matvec (quantize + integer dots + fork-join), prefill
// matmul, the f32 GEMM that the oneDNN target refers to, rms_norm, rope and
// decode attention over a 1024-row f16 KV cache.
#include <benchmark/benchmark.h>

#include "benchmarks/micro/node_fixture.h"
#include "tessera/tessera_types.h"

namespace tsr::cpu::bench {
namespace {

constexpr int kThreads = 2;

// args: weight dtype, K, M, N tokens
void BM_node_matmul(benchmark::State& st) {
  const auto dtype = static_cast<int32_t>(st.range(0));
  const int64_t K = st.range(1), M = st.range(2), N = st.range(3);
  NodeRunner r(TSR_OP_MATMUL, {desc(dtype, {K, M}), desc(TSR_DTYPE_F32, {K, N})}, desc(TSR_DTYPE_F32, {M, N}),
               {}, kThreads);
  for (auto _ : st) r.run();
  st.counters["FLOPS"] =
      benchmark::Counter(static_cast<double>(2 * K * M * N), benchmark::Counter::kIsIterationInvariantRate);
  st.SetBytesProcessed(st.iterations() * r.io_bytes());
}
BENCHMARK(BM_node_matmul)
    ->ArgNames({"dtype", "K", "M", "N"})
    ->Args({TSR_DTYPE_Q4_1, 576, 1536, 1})    // decode ffn_up
    ->Args({TSR_DTYPE_Q4_1, 1536, 576, 1})    // decode ffn_down
    ->Args({TSR_DTYPE_Q8_0, 576, 49152, 1})   // decode lm_head (tied token_embd)
    ->Args({TSR_DTYPE_Q4_1, 576, 1536, 4})    // short batches: integer dots below
    ->Args({TSR_DTYPE_Q4_1, 576, 1536, 11})   // kGemmMinTokens (12), the f32 GEMM
    ->Args({TSR_DTYPE_Q4_1, 576, 1536, 12})   // from there on
    ->Args({TSR_DTYPE_Q4_1, 576, 1536, 16})   // a batch of 16 decoding sequences
    ->Args({TSR_DTYPE_Q8_0, 576, 49152, 16})  // their logits
    ->Args({TSR_DTYPE_Q4_1, 576, 1536, 32})
    ->Args({TSR_DTYPE_Q4_1, 576, 1536, 64})
    ->Args({TSR_DTYPE_Q4_1, 576, 1536, 128})  // prefill ffn_up; kOnednnMinTokens: oneDNN from here on
    ->Args({TSR_DTYPE_Q4_1, 576, 1536, 512})
    ->Args({TSR_DTYPE_F32, 1024, 1024, 1024})  // the f32 GEMM target (oneDNN)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

void BM_node_rms_norm(benchmark::State& st) {
  const int64_t T = st.range(0);
  tsr_op_params p{};
  p.f[0] = 1e-5f;
  NodeRunner r(TSR_OP_RMS_NORM, {desc(TSR_DTYPE_F32, {576, T})}, desc(TSR_DTYPE_F32, {576, T}), p, kThreads);
  for (auto _ : st) r.run();
  st.SetBytesProcessed(st.iterations() * r.io_bytes());
}
BENCHMARK(BM_node_rms_norm)->Arg(1)->Arg(128)->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_node_rope(benchmark::State& st) {
  const int64_t T = st.range(0);
  tsr_op_params p{};
  p.i[0] = 64;
  p.i[1] = TSR_ROPE_NEOX;
  p.f[0] = 100000.0f;
  NodeRunner r(TSR_OP_ROPE, {desc(TSR_DTYPE_F32, {64, 9, T}), desc(TSR_DTYPE_I32, {T})},
               desc(TSR_DTYPE_F32, {64, 9, T}), p, kThreads);
  for (auto _ : st) r.run();
  st.SetBytesProcessed(st.iterations() * r.io_bytes());
}
BENCHMARK(BM_node_rope)->Arg(1)->Arg(128)->Unit(benchmark::kMicrosecond)->UseRealTime();

// Decode attention: 1 query token, 9 heads over 3 kv heads of 64, kv_len rows valid.
void BM_node_attention_decode(benchmark::State& st) {
  const int64_t kv_len = st.range(0), kv_size = 4096;
  tsr_op_params p{};
  p.i[0] = 0;  // not causal: one token sees the whole valid length
  p.i[1] = 0;  // step value 0 holds the kv length
  NodeRunner r(TSR_OP_ATTENTION,
               {desc(TSR_DTYPE_F32, {64, 9, 1}), desc(TSR_DTYPE_F16, {64, 3, kv_size}),
                desc(TSR_DTYPE_F16, {64, 3, kv_size}), desc(TSR_DTYPE_I32, {1})},
               desc(TSR_DTYPE_F32, {64, 9, 1}), p, kThreads);
  for (auto _ : st) r.run({kv_len});
  st.SetBytesProcessed(st.iterations() * kv_len * 3 * 64 * 2 * 2);  // k and v rows read
}
BENCHMARK(BM_node_attention_decode)->Arg(128)->Arg(1024)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace
}  // namespace tsr::cpu::bench
