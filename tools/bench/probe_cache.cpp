// The CPU's memory roofs: the bandwidth of each cache level and of DRAM, for
// the cache-aware roofline (roofline.cpp). Cache sizes and sharing come from
// sysfs (/sys/devices/system/cpu/cpu*/cache/index*: data and unified caches);
// each level is measured with the same STREAM triad as the DRAM figure
// (a = b + s*c: two arrays read, one written, counted 12 bytes per element),
// so the roofs are comparable, over a per-thread working set well inside the
// level: half of its share per thread (a private cache: half its size; a
// shared one: half of what each of our threads sharing it gets), yet at least
// twice the share of the level below where the level leaves room for that.
// Each thread allocates and first-touches its own arrays and repeats passes
// over them; the threads are started once per level, a calibration sizes a
// timed run to ~20 ms, and the best of five timed runs counts. SIMD width is
// chosen at run time (AVX-512F, AVX2+FMA, else scalar) with per-function
// target attributes, as in probe_native.cpp.
#include <unistd.h>

#include <algorithm>
#include <barrier>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
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

// ---- Cache topology from sysfs ---------------------------------------------

const char* const kCpuDir = "/sys/devices/system/cpu/";

std::string read_word(const std::string& path) {
  std::ifstream f(path);
  std::string s;
  f >> s;
  return s;
}

// "48K", "2048K", "32M", "1G" (sysfs' cache size) -> bytes; 0 when malformed.
uint64_t parse_size(const std::string& s) {
  char* end = nullptr;
  const unsigned long long v = std::strtoull(s.c_str(), &end, 10);
  if (end == s.c_str()) return 0;
  const std::string unit(end);
  if (unit.empty() || unit == "B") return v;
  if (unit == "K" || unit == "KB") return v << 10;
  if (unit == "M" || unit == "MB") return v << 20;
  if (unit == "G" || unit == "GB") return v << 30;
  return 0;
}

// CPUs in a list such as "0-3,8-11" (sysfs' shared_cpu_list); 0 when malformed.
int count_cpus(const std::string& list) {
  int n = 0;
  size_t pos = 0;
  while (pos < list.size()) {
    const size_t comma = std::min(list.find(',', pos), list.size());
    const std::string item = list.substr(pos, comma - pos);
    const size_t dash = item.find('-');
    const int lo = std::atoi(item.c_str());
    const int hi = dash == std::string::npos ? lo : std::atoi(item.c_str() + dash + 1);
    if (hi < lo) return 0;
    n += hi - lo + 1;
    pos = comma + 1;
  }
  return n;
}

struct CacheLevel {
  int level = 0;
  uint64_t size = 0;  // bytes of one instance
  int sharing = 1;    // CPUs sharing one instance
  int instances = 1;  // instances over the online CPUs
};

// cpu0's data and unified caches, ascending level (one entry per level).
std::vector<CacheLevel> sysfs_caches() {
  std::vector<CacheLevel> out;
  for (int idx = 0; idx < 16; ++idx) {
    const std::string dir = std::string(kCpuDir) + "cpu0/cache/index" + std::to_string(idx) + "/";
    const std::string level = read_word(dir + "level");
    if (level.empty()) break;
    const std::string type = read_word(dir + "type");
    if (type != "Data" && type != "Unified") continue;
    CacheLevel c;
    c.level = std::atoi(level.c_str());
    c.size = parse_size(read_word(dir + "size"));
    c.sharing = std::max(1, count_cpus(read_word(dir + "shared_cpu_list")));
    if (c.level <= 0 || c.size == 0) continue;
    // Instances: the distinct CPU lists of this cache over every CPU.
    std::set<std::string> lists;
    for (int cpu = 0; cpu < 8192; ++cpu) {
      const std::string cpu_dir = std::string(kCpuDir) + "cpu" + std::to_string(cpu);
      if (access(cpu_dir.c_str(), F_OK) != 0) break;
      const std::string l = read_word(cpu_dir + "/cache/index" + std::to_string(idx) + "/shared_cpu_list");
      if (!l.empty()) lists.insert(l);
    }
    c.instances = static_cast<int>(lists.size());
    if (c.instances == 0) {
      const long online = sysconf(_SC_NPROCESSORS_ONLN);
      c.instances = std::max<int>(1, static_cast<int>(online > 0 ? online : 1) / c.sharing);
    }
    if (std::none_of(out.begin(), out.end(), [&](const CacheLevel& o) { return o.level == c.level; }))
      out.push_back(c);
  }
  std::sort(out.begin(), out.end(),
            [](const CacheLevel& a, const CacheLevel& b) { return a.level < b.level; });
  return out;
}

// ---- The triad kernels -----------------------------------------------------------

// passes x (a = b + s*c) over n floats, n a multiple of 64, arrays 64-byte
// aligned. The empty asm keeps the compiler from merging passes.
#ifdef TSR_BENCH_X86
__attribute__((target("avx512f"))) void triad_avx512(float* a, const float* b, const float* c, size_t n,
                                                     float s, int64_t passes) {
  const __m512 vs = _mm512_set1_ps(s);
  for (int64_t p = 0; p < passes; ++p) {
    for (size_t i = 0; i < n; i += 64) {
      _mm512_store_ps(a + i, _mm512_fmadd_ps(vs, _mm512_load_ps(c + i), _mm512_load_ps(b + i)));
      _mm512_store_ps(a + i + 16,
                      _mm512_fmadd_ps(vs, _mm512_load_ps(c + i + 16), _mm512_load_ps(b + i + 16)));
      _mm512_store_ps(a + i + 32,
                      _mm512_fmadd_ps(vs, _mm512_load_ps(c + i + 32), _mm512_load_ps(b + i + 32)));
      _mm512_store_ps(a + i + 48,
                      _mm512_fmadd_ps(vs, _mm512_load_ps(c + i + 48), _mm512_load_ps(b + i + 48)));
    }
    asm volatile("" ::: "memory");
  }
}

__attribute__((target("avx2,fma"))) void triad_avx2(float* a, const float* b, const float* c, size_t n,
                                                    float s, int64_t passes) {
  const __m256 vs = _mm256_set1_ps(s);
  for (int64_t p = 0; p < passes; ++p) {
    for (size_t i = 0; i < n; i += 32) {
      _mm256_store_ps(a + i, _mm256_fmadd_ps(vs, _mm256_load_ps(c + i), _mm256_load_ps(b + i)));
      _mm256_store_ps(a + i + 8, _mm256_fmadd_ps(vs, _mm256_load_ps(c + i + 8), _mm256_load_ps(b + i + 8)));
      _mm256_store_ps(a + i + 16,
                      _mm256_fmadd_ps(vs, _mm256_load_ps(c + i + 16), _mm256_load_ps(b + i + 16)));
      _mm256_store_ps(a + i + 24,
                      _mm256_fmadd_ps(vs, _mm256_load_ps(c + i + 24), _mm256_load_ps(b + i + 24)));
    }
    asm volatile("" ::: "memory");
  }
}
#endif

void triad_scalar(float* __restrict a, const float* __restrict b, const float* __restrict c, size_t n,
                  float s, int64_t passes) {
  for (int64_t p = 0; p < passes; ++p) {
    for (size_t i = 0; i < n; ++i) a[i] = b[i] + s * c[i];
    asm volatile("" ::: "memory");
  }
}

using TriadFn = void (*)(float*, const float*, const float*, size_t, float, int64_t);

TriadFn pick_triad() {
#ifdef TSR_BENCH_X86
  const std::string simd = native_simd_name();
  if (simd == "avx512f") return triad_avx512;
  if (simd == "avx2+fma") return triad_avx2;
#endif
  return triad_scalar;
}

// ---- One level's measurement -------------------------------------------------------

constexpr double kCalibrateSeconds = 2e-3;  // a calibration run at least this long sizes the timed runs
constexpr double kTargetSeconds = 20e-3;    // each timed run
constexpr int kReps = 5;                    // timed runs; the best counts

// Triad GB/s of `threads` threads, each over its own arrays of
// bytes_per_thread in all (three arrays).
double triad_level_gbps(int threads, uint64_t bytes_per_thread, TriadFn triad) {
  const size_t n = std::max<size_t>(64, bytes_per_thread / (3 * sizeof(float)) / 64 * 64);
  // The three arrays in one allocation, b and c offset by 128 and 256 bytes
  // so the streams do not alias in 4 KiB.
  const size_t total = 3 * n + 64;
  struct State {
    bool starting = true, calibrating = true, stop = false;
    int reps_left = kReps;
    int64_t passes = 1;
    Clock::time_point t0;
    double best = 1e30;
  } st;
  // Runs once per phase, after every thread arrives and before any leaves:
  // the start phase takes the time, the end phase judges the run.
  auto on_phase = [&st]() noexcept {
    const auto now = Clock::now();
    if (st.starting) {
      st.t0 = now;
      st.starting = false;
      return;
    }
    st.starting = true;
    const double dt = std::chrono::duration<double>(now - st.t0).count();
    if (st.calibrating) {
      if (dt < kCalibrateSeconds && st.passes < (int64_t{1} << 40)) {
        st.passes *= 4;
      } else {
        st.passes = std::max<int64_t>(1, std::llround(st.passes * kTargetSeconds / std::max(dt, 1e-9)));
        st.calibrating = false;
      }
    } else {
      st.best = std::min(st.best, dt);
      st.stop = --st.reps_left == 0;
    }
  };
  std::barrier sync(threads, on_phase);
  auto body = [&](int) {
    float* mem = static_cast<float*>(std::aligned_alloc(64, total * sizeof(float)));
    float *a = mem, *b = mem + n + 32, *c = mem + 2 * n + 64;
    if (mem != nullptr)
      for (size_t i = 0; i < n; ++i) a[i] = 0.0f, b[i] = 1.0f, c[i] = 2.0f;  // first touch by this thread
    for (;;) {
      sync.arrive_and_wait();
      if (mem != nullptr) triad(a, b, c, n, 3.0f, st.passes);
      sync.arrive_and_wait();
      if (st.stop) break;
    }
    std::free(mem);
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(body, t);
  body(0);
  for (auto& t : pool) t.join();
  const double bytes =
      3.0 * sizeof(float) * static_cast<double>(n) * static_cast<double>(st.passes) * threads;
  return bytes / st.best / 1e9;
}

}  // namespace

std::vector<MemoryRoof> native_memory_roofs(int threads) {
  threads = effective_threads(threads);
  const TriadFn triad = pick_triad();
  std::vector<MemoryRoof> roofs;
  uint64_t below_share = 0;  // the level below's bytes per thread
  for (const CacheLevel& c : sysfs_caches()) {
    // Our threads spread over the instances first (as the scheduler places
    // them): those used hold size x used, each thread gets its share.
    const int used = std::min(threads, c.instances);
    const int per_instance = (threads + used - 1) / used;
    const uint64_t capacity = c.size * static_cast<uint64_t>(used);
    const uint64_t share = c.size / static_cast<uint64_t>(per_instance);
    if (!roofs.empty() && capacity <= roofs.back().capacity) continue;  // not a larger level
    uint64_t buffer = share / 2;
    if (below_share > 0) buffer = std::max(buffer, std::min(2 * below_share, share / 4 * 3));
    below_share = share;
    std::string level = "L";  // appended: GCC 12 warns falsely (-Wrestrict) on "L" + std::to_string
    level += std::to_string(c.level);
    roofs.push_back({level, capacity, triad_level_gbps(threads, buffer, triad)});
  }
  roofs.push_back({"DRAM", 0, native_triad_gbps(threads)});
  return roofs;
}

}  // namespace tessera_bench
