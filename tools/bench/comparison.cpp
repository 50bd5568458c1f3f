// Merging result files into one comparison: sources (engine, device, thread
// count, host of one file) as columns, workloads and e2e tests as rows, each
// cell with its 95% interval and its speed ratio to a reference source (the
// --baseline, else the first source that has the row).
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include "tools/bench/bench.h"

namespace tessera_bench {
namespace {

// Result files are small; this bounds what a wrong path (a model, a disk
// image) makes compare read.
constexpr std::streamoff kMaxFileBytes = std::streamoff{256} << 20;

std::string basename_of(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Checks the fields compare relies on.
bool validate(const std::string& path, const Json& doc, std::string* err) {
  if (!doc.is_object())
    return *err = path + ": not a tessera-bench result (the top level is not an object)", false;
  const std::string schema = doc.str("schema");
  if (schema != "tessera-bench/1")
    return *err = path + ": unsupported schema '" + schema +
                  "' (expected tessera-bench/1 or llama-bench JSON/JSONL)",
           false;
  const Json* results = doc.find("results");
  if (!results || !results->is_array()) return *err = path + ": 'results' is missing or not an array", false;
  for (size_t i = 0; i < results->items().size(); ++i) {
    const Json& r = results->items()[i];
    const std::string kind = r.str("kind");
    const std::string where = path + ": results[" + std::to_string(i) + "]";
    if (!r.is_object() || (kind != "op" && kind != "e2e"))
      return *err = where + ": not an op or e2e result (kind '" + kind + "')", false;
    if (r.str("device").empty()) return *err = where + ": no 'device'", false;
    if (kind == "op" && r.str("name").empty()) return *err = where + ": an op result without 'name'", false;
    if (kind == "e2e" &&
        (r.str("test").empty() || !r.find("tokens_per_second") || !r.find("tokens_per_second")->is_number()))
      return *err = where + ": an e2e result needs 'test' and a numeric 'tokens_per_second'", false;
  }
  const Json* devices = doc.find("devices");
  if (devices && !devices->is_array()) return *err = path + ": 'devices' is not an array", false;
  return true;
}

std::string row_key(const Json& r) {
  if (r.str("kind") == "op") return r.str("name");
  std::string k = r.str("model") + " " + r.str("test");
  // A prompt computed in several steps is another test than one step.
  const double b = r.num("n_batch"), p = r.num("n_prompt");
  if (b > 0 && p > 0 && b < p) k += " b" + json_number(b);
  return k;
}

int threads_of(const Json& r) {
  const double t = r.num("threads");
  return t >= 1 && t <= 1e6 ? static_cast<int>(t) : 0;
}

std::vector<double> positive_numbers(const Json* a) {
  std::vector<double> v;
  if (a && a->is_array())
    for (const Json& x : a->items())
      if (x.is_number() && x.number() > 0 && std::isfinite(x.number())) v.push_back(x.number());
  return v;
}

void fill_cell(const std::string& kind, const Json& r, CompareCell* c) {
  c->result = &r;
  const Json* noisy = r.find("noisy");
  c->noisy = noisy && noisy->is_bool() && noisy->boolean();
  if (kind == "op") {
    c->status = r.str("status", "ok");
    const Json* m = r.find("median_s");
    c->ok = c->status == "ok" && m && m->is_number() && m->number() > 0 && std::isfinite(m->number());
    c->value = c->ok ? m->number() : 0;
    c->seconds = positive_numbers(r.find("samples_s"));
    if (c->ok && c->seconds.size() > 1) {
      const Summary s = summarize(c->seconds);
      c->low = s.ci95_low, c->high = s.ci95_high;
    }
  } else {
    c->status = "ok";
    c->value = r.num("tokens_per_second");
    c->ok = c->value > 0 && std::isfinite(c->value);
    c->seconds = positive_numbers(r.find("samples_seconds"));
    const double tokens = r.num("n_prompt") + r.num("n_gen");
    if (c->ok && c->seconds.size() > 1 && tokens > 0) {
      std::vector<double> tps;
      for (double s : c->seconds) tps.push_back(tokens / s);
      const Summary s = summarize(tps);
      c->low = s.ci95_low, c->high = s.ci95_high;
    }
  }
  // Files without per-run times (older ones): the median as the one sample,
  // so a ratio exists, without an interval.
  if (c->ok && c->seconds.empty()) {
    if (kind == "op") {
      c->seconds = {c->value};
    } else if (const double tokens = r.num("n_prompt") + r.num("n_gen"); tokens > 0) {
      c->seconds = {tokens / c->value};
    }
  }
}

bool matches_one(const ChartSource& s, const std::string& word) {
  if (word == s.path || word == basename_of(s.path)) return true;
  if (word == s.engine || word == s.device_name || word == s.label) return true;
  if (s.threads > 0 && word == "t=" + std::to_string(s.threads)) return true;
  if (!s.host.empty() && word == "@" + s.host) return true;
  const size_t colon = s.device_name.find(':');
  return colon != std::string::npos && word == s.device_name.substr(0, colon);
}

// A spec is one of those, or several separated by spaces that must all
// match ("cpu t=1", "llama.cpp t=2").
bool matches(const ChartSource& s, const std::string& spec) {
  if (matches_one(s, spec)) return true;
  bool any = false;
  for (size_t i = 0; i < spec.size();) {
    const size_t j = std::min(spec.find(' ', i), spec.size());
    if (j > i) {
      if (!matches_one(s, spec.substr(i, j - i))) return false;
      any = true;
    }
    i = j + 1;
  }
  return any;
}

}  // namespace

bool load_result_file(const std::string& path, ResultFile* out, std::string* err) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return *err = path + ": cannot read the file", false;
  f.seekg(0, std::ios::end);
  const std::streamoff size = f.tellg();
  if (size > kMaxFileBytes)
    return *err = path + ": " + std::to_string(size) + " bytes, more than a result file holds (at most " +
                  std::to_string(kMaxFileBytes >> 20) + " MiB)",
           false;
  f.seekg(0);
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string text = ss.str();
  out->path = path;
  std::string lerr;
  if (read_llama_bench(text, &out->doc, &out->format, &lerr)) {
    if (!lerr.empty()) return *err = path + ": " + out->format + ": " + lerr, false;
  } else {
    std::string perr;
    if (!Json::parse(text, &out->doc, &perr)) return *err = path + ": " + perr, false;
    out->format = "tessera-bench/1";
  }
  return validate(path, out->doc, err);
}

bool build_comparison(const std::vector<std::string>& paths, const std::string& baseline, Comparison* out,
                      std::string* err) {
  out->files.resize(paths.size());
  for (size_t i = 0; i < paths.size(); ++i)
    if (!load_result_file(paths[i], &out->files[i], err)) return false;

  // Sources in order of appearance.
  std::vector<std::string> keys;
  for (const ResultFile& f : out->files) {
    const Json* run = f.doc.find("run");
    std::string host = run ? run->str("hostname") : "";
    for (const Json& r : f.doc.find("results")->items()) {
      const std::string engine = r.str("engine", "tessera"), device = r.str("device");
      const int threads = threads_of(r);
      const std::string key =
          engine + "|" + device + "|" + std::to_string(threads) + "|" + host + "|" + f.path;
      size_t s = 0;
      while (s < keys.size() && keys[s] != key) ++s;
      if (s == keys.size()) {
        keys.push_back(key);
        ChartSource cs;
        cs.engine = engine;
        cs.device_name = device;
        cs.host = host;
        cs.path = f.path;
        cs.threads = threads;
        cs.label = engine + " " + device + (threads > 0 ? " t=" + std::to_string(threads) : "") +
                   (host.empty() || host == "unknown" ? "" : " @" + host);
        // The device record of this thread count when the file has one per count.
        if (const Json* devs = f.doc.find("devices"))
          for (const Json& d : devs->items())
            if (d.str("name") == device && (cs.device.is_null() || threads_of(d) == threads)) cs.device = d;
        out->sources.push_back(std::move(cs));
      }
      out->sources[s].results.push_back(&r);
    }
  }
  // The same label from two files (before/after runs on one machine): name the file.
  std::vector<bool> clash(out->sources.size(), false);
  for (size_t a = 0; a < out->sources.size(); ++a)
    for (size_t b = 0; b < out->sources.size(); ++b)
      clash[a] = clash[a] || (a != b && out->sources[a].label == out->sources[b].label);
  for (size_t a = 0; a < out->sources.size(); ++a)
    if (clash[a]) out->sources[a].label += " (" + basename_of(out->sources[a].path) + ")";

  if (!baseline.empty()) {
    for (size_t s = 0; s < out->sources.size(); ++s)
      if (matches(out->sources[s], baseline)) out->baseline.push_back(static_cast<int>(s));
    if (out->baseline.empty()) {
      std::string known;
      for (const ChartSource& s : out->sources) known += (known.empty() ? "" : "; ") + s.label;
      return *err = "--baseline '" + baseline +
                    "' matches no file, device or engine (sources: " + (known.empty() ? "none" : known) + ")",
             false;
    }
  }

  // Rows: ops then e2e, in order of appearance.
  std::map<std::string, size_t> index;
  for (const char* kind : {"op", "e2e"})
    for (size_t s = 0; s < out->sources.size(); ++s)
      for (const Json* r : out->sources[s].results) {
        if (r->str("kind") != kind) continue;
        const std::string key = std::string(kind) + "|" + row_key(*r);
        auto [it, fresh] = index.try_emplace(key, out->rows.size());
        if (fresh) out->rows.push_back({row_key(*r), kind, std::vector<CompareCell>(out->sources.size())});
        CompareCell& c = out->rows[it->second].cells[s];
        if (!c.result) fill_cell(kind, *r, &c);  // the first result of a source for a row counts
      }

  // References and ratios.
  for (CompareRow& row : out->rows) {
    int first = -1;
    for (size_t s = 0; s < row.cells.size() && first < 0; ++s)
      if (row.cells[s].ok) first = static_cast<int>(s);
    for (size_t s = 0; s < row.cells.size(); ++s) {
      CompareCell& c = row.cells[s];
      if (!c.ok) continue;
      int ref = -1;
      if (out->baseline.empty()) {
        ref = first;
      } else {
        // The baseline source of the same thread count, else the first with the row.
        for (int b : out->baseline)
          if (row.cells[b].ok && (ref < 0 || (out->sources[b].threads == out->sources[s].threads &&
                                              out->sources[ref].threads != out->sources[s].threads)))
            ref = b;
      }
      if (ref < 0) continue;
      c.reference = ref;
      c.ratio = speed_ratio(row.cells[ref].seconds, c.seconds);
    }
  }
  return true;
}

std::string cell_text(const CompareRow& row, size_t source) {
  const CompareCell& c = row.cells[source];
  if (!c.result) return "-";
  if (!c.ok) return c.status;
  char buf[128];
  std::string t;
  if (row.kind == "op")
    std::snprintf(buf, sizeof buf, "%.4g", c.value * 1e3);
  else
    std::snprintf(buf, sizeof buf, "%.1f", c.value);
  t = buf;
  if (c.noisy) t += "!";
  if (c.reference >= 0 && c.reference != static_cast<int>(source) && c.ratio.ratio > 0) {
    if (c.ratio.has_interval)
      std::snprintf(buf, sizeof buf, " (x%.2f %.2f-%.2f%s)", c.ratio.ratio, c.ratio.low, c.ratio.high,
                    c.ratio.overlap ? "~" : "");
    else
      std::snprintf(buf, sizeof buf, " (x%.2f)", c.ratio.ratio);
    t += buf;
  } else if (c.reference == static_cast<int>(source)) {
    t += " (=)";
  }
  return t;
}

}  // namespace tessera_bench
