// Native CPU peaks for the roofline: a STREAM triad over arrays far larger
// than the last-level cache, and an f32 FMA-throughput loop with enough
// independent accumulators to cover the FMA latency. SIMD width is chosen at
// run time (AVX-512F, AVX2+FMA, else scalar) with per-function target
// attributes, so the tool itself needs no special compiler flags.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define TSR_BENCH_X86 1
#endif

#include "tools/bench/bench.h"

namespace tessera_bench {
namespace {

using Clock = std::chrono::steady_clock;

// Runs fn(thread_index) on n threads and returns the wall time of the slowest.
template <typename Fn>
double run_threads(int n, Fn fn) {
  std::vector<std::thread> pool;
  const auto t0 = Clock::now();
  for (int i = 1; i < n; ++i) pool.emplace_back(fn, i);
  fn(0);
  for (auto& t : pool) t.join();
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// ---- FMA throughput --------------------------------------------------------

constexpr int kAccumulators = 12;  // >= latency x FMA ports on current x86 cores

#ifdef TSR_BENCH_X86
__attribute__((target("avx512f"))) float fma_avx512(int64_t iters) {
  __m512 acc[kAccumulators];
  for (int k = 0; k < kAccumulators; ++k) acc[k] = _mm512_set1_ps(1.0f + 0.001f * k);
  const __m512 a = _mm512_set1_ps(0.9999999f), b = _mm512_set1_ps(1e-7f);
  for (int64_t i = 0; i < iters; ++i) {
#pragma GCC unroll 12
    for (int k = 0; k < kAccumulators; ++k) acc[k] = _mm512_fmadd_ps(acc[k], a, b);
  }
  __m512 s = acc[0];
  for (int k = 1; k < kAccumulators; ++k) s = _mm512_add_ps(s, acc[k]);
  float out[16];
  _mm512_storeu_ps(out, s);
  float sum = 0;
  for (float v : out) sum += v;
  return sum;
}

__attribute__((target("avx2,fma"))) float fma_avx2(int64_t iters) {
  __m256 acc[kAccumulators];
  for (int k = 0; k < kAccumulators; ++k) acc[k] = _mm256_set1_ps(1.0f + 0.001f * k);
  const __m256 a = _mm256_set1_ps(0.9999999f), b = _mm256_set1_ps(1e-7f);
  for (int64_t i = 0; i < iters; ++i) {
#pragma GCC unroll 12
    for (int k = 0; k < kAccumulators; ++k) acc[k] = _mm256_fmadd_ps(acc[k], a, b);
  }
  __m256 s = acc[0];
  for (int k = 1; k < kAccumulators; ++k) s = _mm256_add_ps(s, acc[k]);
  float out[8];
  _mm256_storeu_ps(out, s);
  return out[0] + out[1] + out[2] + out[3] + out[4] + out[5] + out[6] + out[7];
}
#endif

float fma_scalar(int64_t iters) {
  float acc[kAccumulators];
  for (int k = 0; k < kAccumulators; ++k) acc[k] = 1.0f + 0.001f * k;
  for (int64_t i = 0; i < iters; ++i)
    for (int k = 0; k < kAccumulators; ++k) acc[k] = acc[k] * 0.9999999f + 1e-7f;
  float s = 0;
  for (float v : acc) s += v;
  return s;
}

enum class Simd { kScalar, kAvx2, kAvx512 };

Simd detect_simd() {
#ifdef TSR_BENCH_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return Simd::kAvx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Simd::kAvx2;
#endif
  return Simd::kScalar;
}

}  // namespace

// The worker threads a run uses (declared in bench.h): here, beside the
// probes that size their thread teams by it.
int effective_threads(int threads) {
  if (threads > 0) return threads;
  const unsigned hc = std::thread::hardware_concurrency();
  return hc > 0 ? static_cast<int>(hc) : 1;
}

const char* native_simd_name() {
  switch (detect_simd()) {
    case Simd::kAvx512:
      return "avx512f";
    case Simd::kAvx2:
      return "avx2+fma";
    default:
      return "scalar";
  }
}

double native_fma_gflops(int threads) {
  const int n = effective_threads(threads);
  const Simd simd = detect_simd();
  const int lanes = simd == Simd::kAvx512 ? 16 : simd == Simd::kAvx2 ? 8 : 1;
  const int64_t iters = simd == Simd::kScalar ? 20'000'000 : 10'000'000;
  std::vector<float> sink(static_cast<size_t>(n));
  auto body = [&](int t) {
    switch (simd) {
#ifdef TSR_BENCH_X86
      case Simd::kAvx512:
        sink[t] = fma_avx512(iters);
        break;
      case Simd::kAvx2:
        sink[t] = fma_avx2(iters);
        break;
#endif
      default:
        sink[t] = fma_scalar(iters);
    }
  };
  double best = 1e30;
  for (int rep = 0; rep < 3; ++rep) best = std::min(best, run_threads(n, body));
  volatile float keep = sink[0];  // the results are used
  (void)keep;
  const double flop = 2.0 * lanes * kAccumulators * static_cast<double>(iters) * n;
  return flop / best / 1e9;
}

// ---- STREAM triad --------------------------------------------------------------

namespace {

// The L3 (else L2) size of cpu0's caches from sysfs: sysconf reports the
// whole package's L3 on some systems, many times what one core shares.
size_t last_level_cache_bytes() {
  for (const char* index : {"index3", "index2"}) {
    std::ifstream f(std::string("/sys/devices/system/cpu/cpu0/cache/") + index + "/size");
    size_t v = 0;
    std::string unit;
    if (f >> v) {
      f >> unit;
      return unit == "M" || unit == "MB"                   ? v << 20
             : unit == "K" || unit == "KB" || unit.empty() ? v << 10
                                                           : v;
    }
  }
  const long llc = sysconf(_SC_LEVEL3_CACHE_SIZE);
  return llc > 0 ? static_cast<size_t>(llc) : size_t{32} << 20;
}

}  // namespace

double native_triad_gbps(int threads) {
  const int n_threads = effective_threads(threads);
  // Each array at least 4x the last-level cache this core sees (and 64 MiB),
  // at most 256 MiB.
  const size_t bytes = std::clamp<size_t>(last_level_cache_bytes() * 4, size_t{64} << 20, size_t{256} << 20);
  const size_t n = bytes / sizeof(float);
  std::unique_ptr<float[]> a(new float[n]), b(new float[n]), c(new float[n]);
  auto range = [&](int t) {
    const size_t per = (n + n_threads - 1) / n_threads;
    return std::pair<size_t, size_t>{std::min(n, per * t), std::min(n, per * (t + 1))};
  };
  // First touch by the thread that will stream the range (NUMA placement).
  run_threads(n_threads, [&](int t) {
    const auto [lo, hi] = range(t);
    for (size_t i = lo; i < hi; ++i) a[i] = 0.0f, b[i] = 1.0f, c[i] = 2.0f;
  });
  const float s = 3.0f;
  double best = 1e30;
  for (int rep = 0; rep < 8; ++rep) {
    best = std::min(best, run_threads(n_threads, [&](int t) {
                      const auto [lo, hi] = range(t);
                      float* __restrict pa = a.get();
                      const float* __restrict pb = b.get();
                      const float* __restrict pc = c.get();
                      for (size_t i = lo; i < hi; ++i) pa[i] = pb[i] + s * pc[i];
                    }));
  }
  volatile float keep = a[n / 2];
  (void)keep;
  // STREAM's count: two arrays read, one written, 4 bytes each.
  return 3.0 * sizeof(float) * static_cast<double>(n) / best / 1e9;
}

}  // namespace tessera_bench
