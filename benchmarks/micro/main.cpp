// tessera-microbench: Google Benchmark microbenchmarks of the CPU kernels.
//   tessera-microbench --benchmark_filter=matvec --benchmark_min_time=0.2
// Counters: bytes_per_second (GB/s of weight+activation traffic) for the
// memory-bound kernels, FLOPS (multiply-adds x 2) for the compute-bound ones,
// so a regression shows up as a number rather than a feeling.
#include <benchmark/benchmark.h>

BENCHMARK_MAIN();
