// tessera-bench e2e: prefill and decode tokens per second of a GGUF model
// through tessera_llm.h, named as llama.cpp's llama-bench names them:
//   ppP        reset the session (empty KV cache), evaluate P random tokens
//              in steps of n_batch tokens, timed end to end;
//   tgN        reset, then evaluate N tokens one at a time (as llama-bench's
//              tg, from an empty context; no sampling);
//   ppP+tgN    (-pg P,N) the two in a row from one reset: a prompt and its
//              answer, tokens/s = (P + N) / seconds.
// Every list option sweeps (threads, devices, batch sizes, prompt and
// generation lengths): every combination is one row. One warm-up run of each
// test, then --reps timed runs.
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <set>

#include "tools/bench/bench.h"

namespace tessera_bench {
namespace {

using Clock = std::chrono::steady_clock;

void usage(FILE* f) {
  std::fprintf(
      f,
      "usage: tessera-bench e2e -m MODEL.gguf [--device LIST]... [-t LIST] [-p LIST] [-n LIST] [-pg P,N]...\n"
      "                         [-b LIST] [--plugin PATH]... [--reps N] [--json F] [--csv F]\n"
      "  -m MODEL          a llama-family GGUF file\n"
      "  --device LIST     devices (cpu, vulkan:0, ...), comma-separated or repeated; default: every device\n"
      "                    but test devices\n"
      "  --plugin PATH     load a backend plugin first (repeatable); its devices can then be named\n"
      "  -t, --threads LIST  CPU worker threads (0 = all cores, the default)\n"
      "  -p LIST           prompt lengths of the prefill tests ppP (default 128,512; 0 = none)\n"
      "  -n LIST           generated tokens of the decode tests tgN (default 128; 0 = none)\n"
      "  -pg P,N           a prompt of P tokens then N generated, timed together (ppP+tgN); repeatable\n"
      "  -b, --batch-size LIST  tokens per prefill step (default: the longest prompt, one step)\n"
      "  --reps N          timed runs per test after one warm-up (default 3)\n"
      "  --noise-threshold F  warn when a row's relative standard deviation exceeds F (default 0.05)\n"
      "  --fail-on-noise   exit with status 3 when a row was too noisy\n"
      "  --no-probe        do not measure the devices' peaks (written as null)\n"
      "  --json F, --csv F  write the results (schema tessera-bench/1)\n"
      "LIST: comma-separated values and ranges first-last, first-last+step, first-last*factor\n"
      "(as llama-bench); every combination of the lists is one row.\n");
}

std::string basename_of(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

struct Test {
  std::string name;
  int n_prompt = 0, n_gen = 0;
};

// One run of a test, in seconds; false with *err on a C API failure.
bool run_test(tsr_llm_session* s, const Test& t, int n_batch, const std::vector<int32_t>& tokens,
              double* seconds, std::string* err) {
  if (tsr_llm_session_reset(s) != TSR_OK) return *err = api_error("session_reset"), false;
  const auto t0 = Clock::now();
  for (int done = 0; done < t.n_prompt;) {
    const int n = std::min(n_batch, t.n_prompt - done);
    if (tsr_llm_session_eval(s, tokens.data() + done, n, 0) != TSR_OK)
      return *err = api_error("session_eval"), false;
    done += n;
  }
  for (int i = 0; i < t.n_gen; ++i)
    if (tsr_llm_session_eval(s, &tokens[t.n_prompt + i], 1, 0) != TSR_OK)
      return *err = api_error("session_eval"), false;
  *seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return true;
}

// "<n> nodes: ...; <k> fallbacks; <c> copies": a device that ran part of the
// model elsewhere says so in every row.
int fallback_nodes_of(tsr_llm* llm) {
  const std::string placement = tsr_llm_placement(llm);
  const size_t at = placement.rfind(" fallbacks;");
  if (at == std::string::npos) return 0;
  size_t b = at;
  while (b > 0 && std::isdigit(static_cast<unsigned char>(placement[b - 1]))) --b;
  return std::atoi(placement.c_str() + b);
}

struct Options {
  std::string model_path;
  std::vector<int64_t> threads, batches;
  std::vector<Test> tests;
  int64_t reps = 3;
  double noise_threshold = 0.05;
};

// The rows of one model load (one thread count, device and batch size).
// Returns 0, or 1 after printing a C API failure.
int run_device(tsr_context* ctx, const DeviceRecord& d, int nthreads, int n_batch, const Options& o,
               std::vector<E2eResult>* out) {
  int max_tokens = 1;
  for (const Test& t : o.tests) max_tokens = std::max(max_tokens, t.n_prompt + t.n_gen);
  const char* names[] = {d.name.c_str()};
  tsr_llm_options lo{};
  lo.struct_size = sizeof lo;
  lo.devices = names;
  lo.n_devices = 1;
  lo.n_ctx = max_tokens + 16;  // tests start from an empty cache
  lo.n_batch = n_batch;
  tsr_llm* raw = nullptr;
  if (tsr_llm_load(ctx, o.model_path.c_str(), &lo, &raw) != TSR_OK) {
    std::fprintf(stderr, "tessera-bench e2e: %s: %s\n", d.name.c_str(), api_error("llm_load").c_str());
    return 1;
  }
  LlmPtr llm(raw);
  const int fallback_nodes = fallback_nodes_of(llm.get());
  tsr_llm_info info{};
  info.struct_size = sizeof info;
  if (tsr_llm_get_info(llm.get(), &info) != TSR_OK) {
    std::fprintf(stderr, "tessera-bench e2e: %s\n", api_error("llm_get_info").c_str());
    return 1;
  }
  tsr_llm_sampling sp{};
  sp.struct_size = sizeof sp;
  tsr_llm_session* rs = nullptr;
  if (tsr_llm_session_create(llm.get(), &sp, &rs) != TSR_OK) {
    std::fprintf(stderr, "tessera-bench e2e: %s\n", api_error("session_create").c_str());
    return 1;
  }
  SessionPtr session(rs);
  // Random valid token ids, fixed seed: the same tokens on every device and run.
  std::mt19937 rng(1234);
  std::uniform_int_distribution<int32_t> tok(0, info.n_vocab - 1);
  std::vector<int32_t> tokens(static_cast<size_t>(max_tokens));
  for (auto& t : tokens) t = tok(rng);

  for (const Test& t : o.tests) {
    std::string err;
    double s = 0;
    std::vector<double> samples;
    for (int64_t r = -1; r < o.reps; ++r) {  // r = -1: the warm-up
      if (!run_test(session.get(), t, n_batch, tokens, &s, &err)) {
        std::fprintf(stderr, "tessera-bench e2e: %s %s: %s\n", d.name.c_str(), t.name.c_str(), err.c_str());
        return 1;
      }
      if (r >= 0) samples.push_back(s);
    }
    E2eResult e;
    e.device = d.name;
    e.backend = d.backend;
    e.model = basename_of(o.model_path);
    e.test = t.name;
    e.n_prompt = t.n_prompt;
    e.n_gen = t.n_gen;
    e.threads = nthreads;
    e.n_batch = n_batch;
    e.t = summarize(samples);
    std::vector<double> tps;
    for (double x : samples) tps.push_back((t.n_prompt + t.n_gen) / x);
    e.tps_summary = summarize(tps);
    e.fallback_nodes = fallback_nodes;
    e.noisy = e.t.cv > o.noise_threshold;
    print_e2e_row(e);
    out->push_back(std::move(e));
  }
  return 0;
}

}  // namespace

int e2e_main(int argc, char** argv, const std::string& command_line) {
  std::vector<std::string> devices, plugins;
  std::string json_path, csv_path;
  std::vector<int64_t> prompts, gens;
  std::vector<std::pair<int64_t, int64_t>> pgs;
  bool prompts_given = false, gens_given = false, probe = true, fail_on_noise = false;
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    if (k == "-h" || k == "--help") {
      usage(stdout);
      return 0;
    }
    if (k == "--no-probe" || k == "--fail-on-noise") {
      (k == "--no-probe" ? probe : fail_on_noise) = k == "--fail-on-noise";
      continue;
    }
    static const std::set<std::string> kValued = {
        "-m",         "--model", "--device",         "--plugin", "--threads", "-t",           "-p",
        "--n-prompt", "-n",      "--n-gen",          "-pg",      "-b",        "--batch-size", "--reps",
        "--json",     "--csv",   "--noise-threshold"};
    if (!kValued.count(k)) return usage_error("e2e", "unknown option " + k);
    if (i + 1 >= argc) return usage_error("e2e", k + " needs a value");
    const char* v = argv[++i];
    bool ok = true;
    std::string why;
    if (k == "-m" || k == "--model") {
      o.model_path = v;
    } else if (k == "--device") {
      for (const std::string& n : split_list(v)) devices.push_back(n);
    } else if (k == "--plugin") {
      plugins.push_back(v);
    } else if (k == "--threads" || k == "-t") {
      ok = parse_int_list(v, 0, 4096, &o.threads, &why);
    } else if (k == "-p" || k == "--n-prompt") {
      prompts_given = true;
      ok = parse_int_list(v, 0, 1 << 20, &prompts, &why);
    } else if (k == "-n" || k == "--n-gen") {
      gens_given = true;
      ok = parse_int_list(v, 0, 1 << 20, &gens, &why);
    } else if (k == "-pg") {
      std::vector<int64_t> pair;
      ok = parse_int_list(v, 1, 1 << 20, &pair, &why) && pair.size() == 2 &&
           std::string(v).find(',') != std::string::npos;
      if (ok)
        pgs.push_back({pair[0], pair[1]});
      else if (why.empty())
        why = "expected P,N (two positive numbers)";
    } else if (k == "-b" || k == "--batch-size") {
      ok = parse_int_list(v, 1, 1 << 20, &o.batches, &why);
    } else if (k == "--reps") {
      ok = parse_int(v, 1, 1000, &o.reps);
    } else if (k == "--noise-threshold") {
      ok = parse_double(v, 0.0, 100.0, &o.noise_threshold);
    } else if (k == "--json") {
      json_path = v;
    } else if (k == "--csv") {
      csv_path = v;
    } else {
      return usage_error("e2e", "unknown option " + k);
    }
    if (!ok)
      return usage_error("e2e",
                         "bad value '" + std::string(v) + "' for " + k + (why.empty() ? "" : ": " + why));
  }
  if (o.model_path.empty()) return usage_error("e2e", "-m MODEL.gguf is required");
  if (!prompts_given) prompts = {128, 512};
  if (!gens_given) gens = {128};
  if (o.threads.empty()) o.threads = {0};
  int max_prompt = 1;
  for (int64_t p : prompts)
    if (p > 0) o.tests.push_back({"pp" + std::to_string(p), static_cast<int>(p), 0});
  for (int64_t n : gens)
    if (n > 0) o.tests.push_back({"tg" + std::to_string(n), 0, static_cast<int>(n)});
  for (const auto& [p, n] : pgs)
    o.tests.push_back(
        {"pp" + std::to_string(p) + "+tg" + std::to_string(n), static_cast<int>(p), static_cast<int>(n)});
  if (o.tests.empty()) return usage_error("e2e", "nothing to run (-p 0 and -n 0, no -pg)");
  for (const Test& t : o.tests) max_prompt = std::max(max_prompt, t.n_prompt);
  if (o.batches.empty()) o.batches = {max_prompt};
  const size_t rows =
      o.threads.size() * std::max<size_t>(devices.size(), 1) * o.batches.size() * o.tests.size();
  if (rows > 10000)
    return usage_error("e2e", "the lists make " + std::to_string(rows) + " combinations (at most 10000)");

  // One context per thread count (its CPU workers), one at a time; each
  // device described and its peaks measured with that many threads.
  std::vector<DeviceRecord> described;
  std::vector<E2eResult> results;
  int max_threads = 0;
  for (const int64_t th : o.threads) {
    ContextPtr ctx;
    std::vector<DeviceRecord> devs;
    const int nthreads = effective_threads(static_cast<int>(th));
    max_threads = std::max(max_threads, nthreads);
    if (const int rc = open_devices("e2e", static_cast<int>(th), plugins, devices, &ctx, &devs); rc != 0)
      return rc;
    for (DeviceRecord& d : devs) {
      d.threads = nthreads;
      measure_peaks(ctx.get(), &d, nthreads, probe);
      print_device(d);
    }
    described.insert(described.end(), devs.begin(), devs.end());
    print_e2e_header();
    for (const DeviceRecord& d : devs)
      for (const int64_t b : o.batches)
        if (const int rc = run_device(ctx.get(), d, nthreads, static_cast<int>(b), o, &results); rc != 0)
          return rc;
  }

  int noisy = 0;
  std::vector<Json> rows_json;
  for (const E2eResult& e : results) {
    noisy += e.noisy ? 1 : 0;
    rows_json.push_back(e2e_result_json(e));
  }
  report_noise("e2e", noisy, static_cast<int>(results.size()), o.noise_threshold);
  RunStamp stamp{"e2e", command_line, max_threads};
  if (!write_outputs("e2e", document(stamp, described, std::move(rows_json)), json_path, csv_path)) return 1;
  return fail_on_noise && noisy > 0 ? 3 : 0;
}

}  // namespace tessera_bench
