// Soak test (issue 20): generates for a bounded time with sessions and
// batches created and destroyed continuously, from several threads sharing
// one model, and checks that memory stays flat.
//
//   soak MODEL.gguf|tiny [--device cpu] [--plugin LIB] [--seconds 60] [--threads 2]
//
// "tiny" is the tiny random llama of the LLM tests (tests/models/tiny_llama.h),
// written to a temporary file.
//
// Every device this runs on here (cpu, lavapipe's Vulkan, the gpuemu plugin)
// keeps its buffers in host memory, so the process's memory covers the
// device pools too. Memory is sampled after every round; the first quarter
// of the run is warm-up (caches fill there). The run fails when any call
// fails, when the C heap in use (mallinfo2: what a leak grows) of the last
// quarter exceeds the second quarter's by more than max(4 MiB, 2%)
// (medians), or the resident set by more than max(64 MiB, 25%) (it settles
// slowly, as the allocator's arenas fragment and keep freed memory).
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tessera/tessera_llm.h"
#include "tests/models/tiny_llama.h"

namespace {

using Clock = std::chrono::steady_clock;

double rss_mib() {
  long pages = 0, resident = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
}

// Bytes the C heap has handed out and not had back, every arena and the
// mmapped chunks included.
double heap_mib() {
  const struct mallinfo2 mi = mallinfo2();
  return static_cast<double>(mi.uordblks + mi.hblkhd) / (1024.0 * 1024.0);
}

struct Sample {
  double t, rss, heap;
};

struct Shared {
  tsr_llm* model = nullptr;
  int32_t n_vocab = 0;
  Clock::time_point start, end;
  std::atomic<bool> failed{false};
  std::atomic<long> rounds{0}, tokens{0}, sessions{0}, batches{0};
  std::mutex mu;  // guards samples and error
  std::vector<Sample> samples;
  std::string error;
};

bool check(Shared& sh, tsr_status_code c, const char* call) {
  if (c == TSR_OK) return true;
  std::lock_guard lock(sh.mu);
  if (sh.error.empty()) sh.error = std::string(call) + ": " + tsr_last_error();
  sh.failed = true;
  return false;
}

int32_t count_tokens(int32_t, const char*, int32_t, void* user) {
  static_cast<std::atomic<long>*>(user)->fetch_add(1);
  return 0;
}

// A batch of two sequences: a prompt each, then four decode steps.
void batch_round(Shared& sh, std::mt19937& rng, const std::vector<int32_t>& prompt) {
  std::uniform_int_distribution<int32_t> tok(0, sh.n_vocab - 1);
  tsr_llm_batch* b = nullptr;
  if (!check(sh, tsr_llm_batch_create(sh.model, 2, &b), "batch_create")) return;
  ++sh.batches;
  const int32_t* seqs[2] = {prompt.data(), prompt.data() + 1};
  const int32_t lens[2] = {static_cast<int32_t>(prompt.size()), static_cast<int32_t>(prompt.size()) - 1};
  check(sh, tsr_llm_batch_eval(b, seqs, lens), "batch_eval");
  for (int step = 0; step < 4 && !sh.failed; ++step) {
    const int32_t next[2] = {tok(rng), tok(rng)};
    const int32_t* one[2] = {&next[0], &next[1]};
    const int32_t ones[2] = {1, 1};
    check(sh, tsr_llm_batch_eval(b, one, ones), "batch_eval (decode)");
  }
  sh.tokens += 8;
  tsr_llm_batch_free(b);
}

// A session with its own sampling generates from the prompt; every other
// one is truncated and continued.
void session_round(Shared& sh, std::mt19937& rng, const std::vector<int32_t>& prompt, bool truncate) {
  tsr_llm_sampling sp{sizeof sp};
  sp.temperature = 0.8f;
  sp.top_k = 40;
  sp.seed = rng();
  sp.ignore_eos = 1;
  tsr_llm_session* s = nullptr;
  if (!check(sh, tsr_llm_session_create(sh.model, &sp, &s), "session_create")) return;
  ++sh.sessions;
  const int32_t n = static_cast<int32_t>(prompt.size());
  if (check(sh, tsr_llm_generate(s, prompt.data(), n, 12, count_tokens, &sh.tokens, nullptr), "generate") &&
      truncate) {
    check(sh, tsr_llm_session_truncate(s, n / 2), "session_truncate");
    check(sh, tsr_llm_generate(s, prompt.data(), 2, 6, count_tokens, &sh.tokens, nullptr),
          "generate (continued)");
  }
  tsr_llm_session_free(s);
}

void worker(Shared& sh, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int32_t> tok(0, sh.n_vocab - 1);
  for (long n = 0; Clock::now() < sh.end && !sh.failed; ++n) {
    std::vector<int32_t> prompt(4 + rng() % 24);
    for (int32_t& t : prompt) t = tok(rng);
    if (n % 3 == 2)
      batch_round(sh, rng, prompt);
    else
      session_round(sh, rng, prompt, n % 2 == 1);
    ++sh.rounds;
    const Sample x{std::chrono::duration<double>(Clock::now() - sh.start).count(), rss_mib(), heap_mib()};
    std::lock_guard lock(sh.mu);
    sh.samples.push_back(x);
  }
}

// Median of field over the samples taken in [t0, t1); -1 when none.
double median_between(const std::vector<Sample>& s, double Sample::*field, double t0, double t1) {
  std::vector<double> v;
  for (const Sample& x : s)
    if (x.t >= t0 && x.t < t1) v.push_back(x.*field);
  if (v.empty()) return -1.0;
  std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
  return v[v.size() / 2];
}

int usage() {
  std::fprintf(stderr,
               "usage: soak MODEL.gguf|tiny [--device D] [--plugin LIB] [--seconds S] [--threads N]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string model_path, device = "cpu", plugin;
  double seconds = 60.0;
  int threads = 2;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool more = i + 1 < argc;
    if (a == "--device" && more)
      device = argv[++i];
    else if (a == "--seconds" && more)
      seconds = std::atof(argv[++i]);
    else if (a == "--threads" && more)
      threads = std::max(1, std::atoi(argv[++i]));
    else if (a == "--plugin" && more)
      plugin = argv[++i];
    else if (model_path.empty() && a[0] != '-')
      model_path = a;
    else
      return usage();
  }
  if (model_path.empty() || seconds <= 0) return usage();
  std::string tiny_file;
  if (model_path == "tiny") {
    tiny_file = "/tmp/tessera_soak_tiny_" + std::to_string(getpid()) + ".gguf";
    if (!tessera::test::write_tiny_llama(tiny_file)) {
      std::fprintf(stderr, "soak: cannot write %s\n", tiny_file.c_str());
      return 1;
    }
    model_path = tiny_file;
  }
  tsr_context* ctx = nullptr;
  if (tsr_context_create(nullptr, &ctx) != TSR_OK ||
      (!plugin.empty() && tsr_context_load_plugin(ctx, plugin.c_str()) != TSR_OK)) {
    std::fprintf(stderr, "soak: %s\n", tsr_last_error());
    return 1;
  }
  Shared sh;
  const char* devs[] = {device.c_str()};
  tsr_llm_options o{sizeof o};
  o.devices = devs;
  o.n_devices = 1;
  o.n_ctx = 256;
  o.n_batch = 32;
  tsr_llm_info info{sizeof info};
  if (tsr_llm_load(ctx, model_path.c_str(), &o, &sh.model) != TSR_OK ||
      tsr_llm_get_info(sh.model, &info) != TSR_OK) {
    std::fprintf(stderr, "soak: %s\n", tsr_last_error());
    return 1;
  }
  sh.n_vocab = info.n_vocab;
  const double rss_loaded = rss_mib(), heap_loaded = heap_mib();
  sh.start = Clock::now();
  sh.end = sh.start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back(worker, std::ref(sh), 1234u + t);
  for (std::thread& t : pool) t.join();
  const double took = std::chrono::duration<double>(Clock::now() - sh.start).count();
  tsr_llm_free(sh.model);
  tsr_context_destroy(ctx);
  if (!tiny_file.empty()) std::remove(tiny_file.c_str());

  auto quarter = [&](double Sample::*f, int q) {
    return median_between(sh.samples, f, (q - 1) * took / 4, q == 4 ? took + 1.0 : q * took / 4);
  };
  const double h2 = quarter(&Sample::heap, 2), h4 = quarter(&Sample::heap, 4);
  const double r2 = quarter(&Sample::rss, 2), r4 = quarter(&Sample::rss, 4);
  std::printf("soak: %s on %s, %d threads, %.1f s: %ld rounds, %ld sessions, %ld batches, %ld tokens\n",
              model_path.c_str(), device.c_str(), threads, took, sh.rounds.load(), sh.sessions.load(),
              sh.batches.load(), sh.tokens.load());
  std::printf(
      "soak: heap in use MiB: %.1f after load, %.1f second-quarter median, %.1f last-quarter median\n",
      heap_loaded, h2, h4);
  std::printf("soak: RSS MiB: %.1f after load, %.1f second-quarter median, %.1f last-quarter median\n",
              rss_loaded, r2, r4);
  for (const auto& [f, what] : {std::pair{&Sample::heap, "heap"}, std::pair{&Sample::rss, "RSS"}}) {
    std::printf("soak: %s MiB median by tenth of the run:", what);
    for (int i = 0; i < 10; ++i)
      std::printf(" %.1f", median_between(sh.samples, f, i * took / 10, (i + 1) * took / 10));
    std::printf("\n");
  }
  if (sh.failed) {
    std::fprintf(stderr, "soak: FAILED: %s\n", sh.error.c_str());
    return 1;
  }
  if (h2 < 0 || h4 < 0) {
    std::fprintf(stderr, "soak: FAILED: too few rounds to compare memory (%zu samples)\n", sh.samples.size());
    return 1;
  }
  const double heap_allowed = std::max(4.0, 0.02 * h2), rss_allowed = std::max(64.0, 0.25 * r2);
  if (h4 - h2 > heap_allowed) {
    std::fprintf(
        stderr,
        "soak: FAILED: the heap grew by %.1f MiB (allowed %.1f) from the second to the last quarter\n",
        h4 - h2, heap_allowed);
    return 1;
  }
  if (r4 - r2 > rss_allowed) {
    std::fprintf(stderr,
                 "soak: FAILED: the resident set grew by %.1f MiB (allowed %.1f) from the second to the last "
                 "quarter\n",
                 r4 - r2, rss_allowed);
    return 1;
  }
  return 0;
}
