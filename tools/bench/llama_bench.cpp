// llama.cpp's llama-bench results read as tessera-bench/1 documents, so that
// compare takes them directly beside Tessera's files. llama-bench writes one
// object per test, either as a JSON array (-o json) or one per line (-o
// jsonl), with per-run times in samples_ns (avg_ns / stddev_ns in older
// builds). Each becomes an e2e result: engine "llama.cpp", the test named as
// llama-bench names it (pp512, tg128, pp512+tg128, "... @ d512" with a
// depth), tokens/s from the runs as Tessera's rows compute it.
#include <algorithm>
#include <cctype>
#include <cmath>

#include "tools/bench/bench.h"

namespace tessera_bench {
namespace {

constexpr size_t kMaxTests = 100000, kMaxSamples = 100000;

std::string basename_of(const std::string& path) {
  const size_t slash = path.find_last_of("/\\");
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// A whole number field in [0, hi]; false when absent or not one.
bool count_field(const Json& t, const char* key, double hi, int64_t* out) {
  const Json* v = t.find(key);
  if (!v || !v->is_number() || !(v->number() >= 0) || v->number() > hi ||
      v->number() != std::floor(v->number()))
    return false;
  *out = static_cast<int64_t>(v->number());
  return true;
}

// The device a test ran on: its first backend that is not the CPU's (or
// BLAS, which serves the CPU) when layers were offloaded to it, else "cpu".
std::string device_of(const Json& t) {
  const double ngl = t.num("n_gpu_layers");
  if (ngl != 0 && !t.str("gpu_info").empty()) {
    for (const std::string& b : split_list(t.str("backends"))) {
      const std::string n = lower(b);
      if (n != "cpu" && n != "blas") return n;
    }
  }
  return "cpu";
}

bool convert_test(const Json& t, size_t index, Json* result, std::string* err) {
  const std::string where = "test " + std::to_string(index);
  if (!t.is_object()) return *err = where + ": not an object", false;
  int64_t n_prompt = 0, n_gen = 0, n_depth = 0, threads = 0, n_batch = 0, n_ubatch = 0;
  if (!count_field(t, "n_prompt", 1e9, &n_prompt) || !count_field(t, "n_gen", 1e9, &n_gen))
    return *err = where + ": 'n_prompt' and 'n_gen' must be whole numbers >= 0", false;
  if (n_prompt + n_gen == 0) return *err = where + ": n_prompt and n_gen are both 0", false;
  count_field(t, "n_depth", 1e9, &n_depth);
  count_field(t, "n_threads", 1e6, &threads);
  const bool has_batch = count_field(t, "n_batch", 1e9, &n_batch);
  if (count_field(t, "n_ubatch", 1e9, &n_ubatch) && n_ubatch > 0 && (!has_batch || n_ubatch < n_batch))
    n_batch = n_ubatch;  // the tokens one step computes
  std::vector<double> seconds;
  if (const Json* s = t.find("samples_ns"); s && s->is_array()) {
    if (s->items().size() > kMaxSamples)
      return *err = where + ": more than " + std::to_string(kMaxSamples) + " samples", false;
    for (const Json& v : s->items()) {
      if (!v.is_number() || !(v.number() > 0) || !std::isfinite(v.number()))
        return *err = where + ": samples_ns holds a value that is not a positive number", false;
      seconds.push_back(v.number() / 1e9);
    }
  } else if (const Json* a = t.find("avg_ns");
             a && a->is_number() && a->number() > 0 && std::isfinite(a->number())) {
    seconds.push_back(a->number() / 1e9);  // only the mean is known: one "run", no interval
  }
  if (seconds.empty()) return *err = where + ": no 'samples_ns' or 'avg_ns'", false;

  std::string test;
  if (n_prompt > 0) test = "pp" + std::to_string(n_prompt);
  if (n_gen > 0) test += std::string(test.empty() ? "tg" : "+tg") + std::to_string(n_gen);
  if (n_depth > 0) test += " @ d" + std::to_string(n_depth);

  const double tokens = static_cast<double>(n_prompt + n_gen);
  std::vector<double> tps;
  for (double s : seconds) tps.push_back(tokens / s);
  const Summary ts = summarize(tps), ss = summarize(seconds);
  const std::string device = device_of(t);
  Json r = Json::object();
  r.set("kind", "e2e");
  r.set("engine", "llama.cpp");
  r.set("device", device);
  r.set("backend", device);
  r.set("model", basename_of(t.str("model_filename", "unknown")));
  r.set("test", test);
  r.set("n_prompt", n_prompt);
  r.set("n_gen", n_gen);
  r.set("threads", threads);
  r.set("n_batch", n_batch);
  r.set("reps", static_cast<int64_t>(seconds.size()));
  r.set("tokens_per_second", ts.median);
  r.set("tokens_per_second_min", ts.min);
  r.set("tokens_per_second_max", ts.max);
  r.set("tokens_per_second_mean", ts.mean);
  r.set("tokens_per_second_stddev", ts.stddev);
  r.set("tokens_per_second_ci95_low", seconds.size() > 1 ? Json(ts.ci95_low) : Json());
  r.set("tokens_per_second_ci95_high", seconds.size() > 1 ? Json(ts.ci95_high) : Json());
  r.set("cv", ss.cv);
  Json samples = Json::array();
  for (double s : seconds) samples.push(s);
  r.set("samples_seconds", std::move(samples));
  *result = std::move(r);
  return true;
}

bool looks_like_test(const Json& j) {
  return j.is_object() && j.find("n_prompt") && j.find("n_gen") && (j.find("samples_ns") || j.find("avg_ns"));
}

}  // namespace

bool read_llama_bench(std::string_view text, Json* doc, std::string* format, std::string* err) {
  std::vector<Json> tests;
  Json whole;
  std::string perr;
  if (Json::parse(text, &whole, &perr)) {
    if (whole.is_array() && !whole.items().empty() && looks_like_test(whole.items()[0])) {
      *format = "llama-bench JSON";
      tests = whole.items();
    } else if (looks_like_test(whole)) {
      *format = "llama-bench JSONL";
      tests.push_back(std::move(whole));
    } else {
      return false;  // JSON, but not llama-bench's
    }
  } else {
    // JSONL: every non-blank line one test object.
    size_t i = 0, line = 0;
    while (i < text.size()) {
      const size_t j = std::min(text.find('\n', i), text.size());
      const std::string_view l = text.substr(i, j - i);
      ++line;
      i = j + 1;
      if (l.find_first_not_of(" \t\r") == std::string_view::npos) continue;
      Json t;
      if (!Json::parse(l, &t, &perr) || !looks_like_test(t)) {
        if (tests.empty()) return false;  // not JSONL at all: the caller reports the JSON error
        *err = "line " + std::to_string(line) + ": not a llama-bench test object" +
               (perr.empty() ? "" : " (" + perr + ")");
        return true;
      }
      if (tests.size() >= kMaxTests) return *err = "more than " + std::to_string(kMaxTests) + " tests", true;
      tests.push_back(std::move(t));
    }
    if (tests.empty()) return false;
    *format = "llama-bench JSONL";
  }
  if (tests.size() > kMaxTests) return *err = "more than " + std::to_string(kMaxTests) + " tests", true;

  Json results = Json::array(), devices = Json::array();
  for (size_t k = 0; k < tests.size(); ++k) {
    Json r;
    if (!convert_test(tests[k], k, &r, err)) return true;
    bool listed = false;
    for (const Json& d : devices.items()) listed = listed || d.str("name") == r.str("device");
    if (!listed) {
      Json d = Json::object();
      d.set("name", r.str("device"));
      d.set("backend", r.str("device"));
      d.set("description", r.str("device") == "cpu" ? tests[k].str("cpu_info") : tests[k].str("gpu_info"));
      d.set("driver", tests[k].str("backends"));
      devices.push(std::move(d));
    }
    results.push(std::move(r));
  }
  const Json& first = tests.front();
  Json run = Json::object();
  run.set("tool", "llama-bench");
  run.set("git_commit", first.str("build_commit", "unknown"));
  run.set("date", first.str("test_time"));
  run.set("cpu_model", first.str("cpu_info"));
  Json d = Json::object();
  d.set("schema", "tessera-bench/1");
  d.set("run", std::move(run));
  d.set("devices", std::move(devices));
  d.set("results", std::move(results));
  *doc = std::move(d);
  err->clear();
  return true;
}

}  // namespace tessera_bench
