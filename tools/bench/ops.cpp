// tessera-bench ops: the workload catalogue on every requested device.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "tools/bench/bench.h"

namespace tessera_bench {
namespace {

void usage(FILE* f) {
  std::fprintf(
      f,
      "usage: tessera-bench ops [--device LIST]... [--plugin PATH]... [-t LIST] [--suite S] [--filter "
      "REGEX]\n"
      "                         [--min-time S] [--reps N] [--max-mem GIB] [--list] [--json F] [--csv F]\n"
      "  --device LIST   devices to run on (cpu, vulkan, vulkan:1...), comma-separated or repeated;\n"
      "                  default: every device but test devices\n"
      "  --plugin PATH   load a backend plugin first (repeatable); its devices can then be named\n"
      "  -t, --threads LIST  CPU worker threads (0 = all cores, the default); a list sweeps\n"
      "  --suite S       smollm2 (default), llama3-8b, qwen2-7b or all; every suite adds 'gemm f32 1024'.\n"
      "                  The 7B/8B suites hold up to ~1 GiB per workload and take long on a small CPU.\n"
      "  --filter REGEX  only workloads whose name matches (ECMAScript regex, searched)\n"
      "  --min-time S    timed seconds per workload, at least (default 0.5)\n"
      "  --reps N        timed runs per workload, at least (default 5; at most 1000 runs)\n"
      "  --max-mem GIB   skip workloads holding more (default: half the available memory)\n"
      "  --noise-threshold F  warn when a result's relative standard deviation exceeds F (default 0.05)\n"
      "  --fail-on-noise exit with status 3 when a result was too noisy\n"
      "  --list          print the selected workloads and exit\n"
      "  --no-probe      do not measure undeclared peaks (no roofline share)\n"
      "  --json F        write the results (schema tessera-bench/1) to F\n"
      "  --csv F         write one CSV row per result to F\n");
}

// Half of MemAvailable: the host holds every workload's data (and the CPU
// device uses it in place); 0 when unknown.
uint64_t host_budget() {
  std::ifstream f("/proc/meminfo");
  std::string key;
  uint64_t kb = 0;
  std::string unit;
  while (f >> key >> kb >> unit)
    if (key == "MemAvailable:") return kb * 1024 / 2;
  return 0;
}

uint64_t device_budget(const DeviceRecord& d, uint64_t host) {
  uint64_t b = host;
  if (d.backend != "cpu" && d.memory_bytes > 0) {
    const uint64_t dev = d.memory_bytes / 2;
    b = b == 0 ? dev : std::min(b, dev);
  }
  return b;
}

}  // namespace

int ops_main(int argc, char** argv, const std::string& command_line) {
  std::vector<std::string> devices, plugins;
  std::string suite = "smollm2", filter, json_path, csv_path;
  std::vector<int64_t> threads;
  int64_t reps = 5;
  double min_time = 0.5, max_mem_gib = 0, noise_threshold = 0.05;
  bool list = false, probe = true, fail_on_noise = false;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    if (k == "-h" || k == "--help") {
      usage(stdout);
      return 0;
    }
    if (k == "--list") {
      list = true;
      continue;
    }
    if (k == "--no-probe" || k == "--fail-on-noise") {
      (k == "--no-probe" ? probe : fail_on_noise) = k == "--fail-on-noise";
      continue;
    }
    static const std::set<std::string> kValued = {"--device",  "--plugin", "--threads",  "-t",
                                                  "--suite",   "--filter", "--min-time", "--reps",
                                                  "--max-mem", "--json",   "--csv",      "--noise-threshold"};
    if (!kValued.count(k)) return usage_error("ops", "unknown option " + k);
    if (i + 1 >= argc) return usage_error("ops", k + " needs a value");
    const char* v = argv[++i];
    bool ok = true;
    std::string why;
    if (k == "--device") {
      for (const std::string& n : split_list(v)) devices.push_back(n);
    } else if (k == "--plugin") {
      plugins.push_back(v);
    } else if (k == "--threads" || k == "-t") {
      ok = parse_int_list(v, 0, 4096, &threads, &why);
    } else if (k == "--suite") {
      suite = v;
      if (!is_suite(suite))
        return usage_error("ops", "unknown suite '" + suite + "' (smollm2, llama3-8b, qwen2-7b, all)");
    } else if (k == "--filter") {
      filter = v;
    } else if (k == "--min-time") {
      ok = parse_double(v, 0.0, 3600.0, &min_time);
    } else if (k == "--reps") {
      ok = parse_int(v, 1, 1000, &reps);
    } else if (k == "--max-mem") {
      ok = parse_double(v, 0.001, 1 << 20, &max_mem_gib);
    } else if (k == "--noise-threshold") {
      ok = parse_double(v, 0.0, 100.0, &noise_threshold);
    } else if (k == "--json") {
      json_path = v;
    } else if (k == "--csv") {
      csv_path = v;
    } else {
      return usage_error("ops", "unknown option " + k);
    }
    if (!ok)
      return usage_error("ops",
                         "bad value '" + std::string(v) + "' for " + k + (why.empty() ? "" : ": " + why));
  }

  std::vector<Workload> all = catalogue(suite), selected;
  try {
    const std::regex re(filter.empty() ? std::string(".") : filter, std::regex::ECMAScript);
    for (Workload& w : all)
      if (std::regex_search(w.name, re)) selected.push_back(std::move(w));
  } catch (const std::regex_error& e) {
    return usage_error("ops", "bad --filter regex '" + filter + "': " + e.what());
  }
  if (selected.empty())
    return usage_error("ops", "no workload of suite " + suite + " matches '" + filter + "'");
  if (list) {
    for (const Workload& w : selected)
      std::printf("%-52s flop %.4g bytes %.4g memory %.1f MiB\n", w.name.c_str(), w.flop, w.bytes,
                  w.memory / 1048576.0);
    return 0;
  }

  if (threads.empty()) threads = {0};
  TimingOptions topt;
  topt.min_time = min_time;
  topt.reps = static_cast<int>(reps);
  topt.noise_threshold = noise_threshold;
  const uint64_t host = max_mem_gib > 0 ? 0 : host_budget();
  std::vector<Json> results;
  std::vector<DeviceRecord> all_devs;
  int errors = 0, noisy = 0, ok_rows = 0, max_threads = 0;
  // One context per thread count (its CPU workers), one at a time; each
  // device is described and its peaks measured with that many threads.
  for (const int64_t th : threads) {
    ContextPtr ctx;
    std::vector<DeviceRecord> devs;
    const int nthreads = effective_threads(static_cast<int>(th));
    max_threads = std::max(max_threads, nthreads);
    if (const int rc = open_devices("ops", static_cast<int>(th), plugins, devices, &ctx, &devs); rc != 0)
      return rc;
    for (DeviceRecord& d : devs) {
      d.threads = nthreads;
      measure_peaks(ctx.get(), &d, nthreads, probe);
      print_device(d);
    }
    topt.threads = nthreads;
    print_op_header();
    for (const DeviceRecord& d : devs) {
      const uint64_t budget =
          max_mem_gib > 0 ? static_cast<uint64_t>(max_mem_gib * 1073741824.0) : device_budget(d, host);
      for (const Workload& w : selected) {
        const OpResult r = run_workload(ctx.get(), d, w, topt, budget);
        print_op_row(r);
        if (r.status == "error") ++errors;
        if (r.status == "ok") ++ok_rows;
        noisy += r.noisy ? 1 : 0;
        results.push_back(op_result_json(r));
      }
    }
    all_devs.insert(all_devs.end(), devs.begin(), devs.end());
  }
  report_noise("ops", noisy, ok_rows, noise_threshold);

  RunStamp stamp{"ops", command_line, max_threads};
  if (!write_outputs("ops", document(stamp, all_devs, std::move(results)), json_path, csv_path)) return 1;
  if (errors > 0) {
    std::fprintf(stderr, "tessera-bench ops: %d workload(s) failed with an error\n", errors);
    return 1;
  }
  return fail_on_noise && noisy > 0 ? 3 : 0;
}

}  // namespace tessera_bench
