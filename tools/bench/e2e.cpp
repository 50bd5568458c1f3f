// tessera-bench e2e: prefill and decode tokens per second of a GGUF model
// through tessera_llm.h, named as llama.cpp's llama-bench names them:
//   ppP  reset the session (empty KV cache), evaluate P random tokens in one
//        step (n_batch = P), timed end to end;
//   tgN  reset, then evaluate N tokens one at a time (as llama-bench's tg,
//        from an empty context; no sampling).
// One warm-up run of each test, then --reps timed runs.
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
      "usage: tessera-bench e2e -m MODEL.gguf [--device NAME]... [--threads N] [-p 128,512] [-n 128]\n"
      "                         [--plugin PATH]... [--reps N] [--json F] [--csv F]\n"
      "  -m MODEL        a llama-family GGUF file\n"
      "  --device NAME   a device (cpu, vulkan...); repeatable; default: every device\n"
      "  --plugin PATH   load a backend plugin first (repeatable); its devices can then be named\n"
      "  -t, --threads N CPU worker threads (0 = all cores, the default)\n"
      "  -p LIST         prompt lengths for the prefill tests ppP (default 128,512; 0 = none)\n"
      "  -n N            tokens for the decode test tgN (default 128; 0 = none)\n"
      "  --reps N        timed runs per test after one warm-up (default 3)\n"
      "  --no-probe      do not measure the devices' peaks (written as null)\n"
      "  --json F, --csv F  write the results (schema tessera-bench/1)\n");
}

bool parse_list(const char* s, std::vector<int>* out) {
  std::string str = s;
  size_t i = 0;
  while (i <= str.size()) {
    const size_t j = std::min(str.find(',', i), str.size());
    int64_t v;
    if (!parse_int(str.substr(i, j - i).c_str(), 0, 1 << 20, &v)) return false;
    if (v > 0) out->push_back(static_cast<int>(v));
    i = j + 1;
  }
  return true;
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
bool run_test(tsr_llm_session* s, const Test& t, const std::vector<int32_t>& tokens, double* seconds,
              std::string* err) {
  if (tsr_llm_session_reset(s) != TSR_OK) return *err = api_error("session_reset"), false;
  const auto t0 = Clock::now();
  if (t.n_prompt > 0) {
    if (tsr_llm_session_eval(s, tokens.data(), t.n_prompt, 0) != TSR_OK)
      return *err = api_error("session_eval"), false;
  } else {
    for (int i = 0; i < t.n_gen; ++i)
      if (tsr_llm_session_eval(s, &tokens[i], 1, 0) != TSR_OK) return *err = api_error("session_eval"), false;
  }
  *seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return true;
}

}  // namespace

int e2e_main(int argc, char** argv, const std::string& command_line) {
  std::vector<std::string> devices, plugins;
  std::string model_path, json_path, csv_path;
  std::vector<int> prompts;
  bool prompts_given = false, probe = true;
  int64_t threads = 0, n_gen = 128, reps = 3;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    if (k == "-h" || k == "--help") {
      usage(stdout);
      return 0;
    }
    if (k == "--no-probe") {
      probe = false;
      continue;
    }
    static const std::set<std::string> kValued = {"-m",     "--model", "--device",   "--plugin", "--threads",
                                                  "-t",     "-p",      "--n-prompt", "-n",       "--n-gen",
                                                  "--reps", "--json",  "--csv"};
    if (!kValued.count(k)) return usage_error("e2e", "unknown option " + k);
    if (i + 1 >= argc) return usage_error("e2e", k + " needs a value");
    const char* v = argv[++i];
    bool ok = true;
    if (k == "-m" || k == "--model") {
      model_path = v;
    } else if (k == "--device") {
      devices.push_back(v);
    } else if (k == "--plugin") {
      plugins.push_back(v);
    } else if (k == "--threads" || k == "-t") {
      ok = parse_int(v, 0, 4096, &threads);
    } else if (k == "-p" || k == "--n-prompt") {
      prompts_given = true;
      ok = parse_list(v, &prompts);
    } else if (k == "-n" || k == "--n-gen") {
      ok = parse_int(v, 0, 1 << 20, &n_gen);
    } else if (k == "--reps") {
      ok = parse_int(v, 1, 1000, &reps);
    } else if (k == "--json") {
      json_path = v;
    } else if (k == "--csv") {
      csv_path = v;
    } else {
      return usage_error("e2e", "unknown option " + k);
    }
    if (!ok) return usage_error("e2e", "bad value '" + std::string(v) + "' for " + k);
  }
  if (model_path.empty()) return usage_error("e2e", "-m MODEL.gguf is required");
  if (!prompts_given) prompts = {128, 512};
  std::vector<Test> tests;
  for (int p : prompts) tests.push_back({"pp" + std::to_string(p), p, 0});
  if (n_gen > 0) tests.push_back({"tg" + std::to_string(n_gen), 0, static_cast<int>(n_gen)});
  if (tests.empty()) return usage_error("e2e", "nothing to run (-p 0 and -n 0)");
  const int max_prompt = prompts.empty() ? 1 : *std::max_element(prompts.begin(), prompts.end());

  ContextPtr ctx;
  std::vector<DeviceRecord> devs;
  const int nthreads = effective_threads(static_cast<int>(threads));
  if (const int rc = open_devices("e2e", static_cast<int>(threads), plugins, devices, &ctx, &devs); rc != 0)
    return rc;
  for (DeviceRecord& d : devs) {
    measure_peaks(ctx.get(), &d, nthreads, probe);
    print_device(d);
  }

  std::vector<Json> results;
  print_e2e_header();
  for (const DeviceRecord& d : devs) {
    // n_batch = the longest prompt, so each ppP is one step; n_ctx holds the
    // longest test (tests start from an empty cache).
    const char* names[] = {d.name.c_str()};
    tsr_llm_options o{};
    o.struct_size = sizeof o;
    o.devices = names;
    o.n_devices = 1;
    o.n_ctx = std::max(max_prompt, static_cast<int>(n_gen)) + 16;
    o.n_batch = max_prompt;
    tsr_llm* raw = nullptr;
    if (tsr_llm_load(ctx.get(), model_path.c_str(), &o, &raw) != TSR_OK) {
      std::fprintf(stderr, "tessera-bench e2e: %s: %s\n", d.name.c_str(), api_error("llm_load").c_str());
      return 1;
    }
    LlmPtr llm(raw);
    // "<n> nodes: ...; <k> fallbacks; <c> copies": a device that ran part of
    // the model elsewhere says so in every row.
    int fallback_nodes = 0;
    {
      const std::string placement = tsr_llm_placement(llm.get());
      const size_t at = placement.rfind(" fallbacks;");
      if (at != std::string::npos) {
        size_t b = at;
        while (b > 0 && std::isdigit(static_cast<unsigned char>(placement[b - 1]))) --b;
        fallback_nodes = std::atoi(placement.c_str() + b);
      }
    }
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
    std::vector<int32_t> tokens(static_cast<size_t>(std::max(max_prompt, static_cast<int>(n_gen))));
    for (auto& t : tokens) t = tok(rng);

    for (const Test& t : tests) {
      std::string err;
      double s = 0;
      if (!run_test(session.get(), t, tokens, &s, &err)) {  // warm-up
        std::fprintf(stderr, "tessera-bench e2e: %s %s: %s\n", d.name.c_str(), t.name.c_str(), err.c_str());
        return 1;
      }
      std::vector<double> samples, tps;
      for (int64_t r = 0; r < reps; ++r) {
        if (!run_test(session.get(), t, tokens, &s, &err)) {
          std::fprintf(stderr, "tessera-bench e2e: %s %s: %s\n", d.name.c_str(), t.name.c_str(), err.c_str());
          return 1;
        }
        samples.push_back(s);
        tps.push_back((t.n_prompt + t.n_gen) / s);
      }
      E2eResult e;
      e.device = d.name;
      e.backend = d.backend;
      e.model = basename_of(model_path);
      e.test = t.name;
      e.n_prompt = t.n_prompt;
      e.n_gen = t.n_gen;
      e.threads = nthreads;
      e.t = summarize(samples);
      const Summary ts = summarize(tps);
      e.tps = ts.median;
      e.tps_min = ts.min;
      e.tps_max = ts.max;
      e.fallback_nodes = fallback_nodes;
      print_e2e_row(e);
      results.push_back(e2e_result_json(e));
    }
  }

  RunStamp stamp{"e2e", command_line, nthreads};
  const Json doc = document(stamp, devs, std::move(results));
  std::string err;
  if (!json_path.empty() && !write_json_file(json_path, doc, &err)) {
    std::fprintf(stderr, "tessera-bench e2e: %s\n", err.c_str());
    return 1;
  }
  if (!csv_path.empty() && !write_csv_file(csv_path, doc, &err)) {
    std::fprintf(stderr, "tessera-bench e2e: %s\n", err.c_str());
    return 1;
  }
  return 0;
}

}  // namespace tessera_bench
