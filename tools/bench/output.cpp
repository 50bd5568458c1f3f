// The result schema ("tessera-bench/1", benchmarks/README.md) and its three
// forms: a human table on stdout, a JSON document, a CSV with one row per
// result.
#include <cstdio>
#include <fstream>

#include "tools/bench/bench.h"

namespace tessera_bench {
namespace {

Json positive_or_null(double v) { return v > 0 ? Json(v) : Json(); }

std::string first_line(const std::string& s, size_t max) {
  std::string l = s.substr(0, s.find('\n'));
  if (l.size() > max) l = l.substr(0, max - 3) + "...";
  return l;
}

// Columns of the CSV: op fields, e2e fields, then run stamps. A result
// without a column leaves it empty.
const char* const kCsvColumns[] = {"kind",
                                   "engine",
                                   "device",
                                   "backend",
                                   "name",
                                   "op",
                                   "dtype",
                                   "shape",
                                   "status",
                                   "reason",
                                   "reps",
                                   "median_s",
                                   "min_s",
                                   "max_s",
                                   "spread",
                                   "mean_s",
                                   "stddev_s",
                                   "ci95_low_s",
                                   "ci95_high_s",
                                   "cv",
                                   "noisy",
                                   "flop",
                                   "bytes",
                                   "gflops",
                                   "gbps",
                                   "roofline_share",
                                   "model",
                                   "test",
                                   "n_prompt",
                                   "n_gen",
                                   "threads",
                                   "n_batch",
                                   "tokens_per_second",
                                   "tokens_per_second_min",
                                   "tokens_per_second_max",
                                   "tokens_per_second_mean",
                                   "tokens_per_second_stddev",
                                   "tokens_per_second_ci95_low",
                                   "tokens_per_second_ci95_high",
                                   "hostname",
                                   "git_commit",
                                   "date"};

std::string csv_value(const Json& j) {
  switch (j.type()) {
    case Json::Type::kNull:
      return "";
    case Json::Type::kString:
      return j.string();
    case Json::Type::kNumber:
      return json_number(j.number());
    case Json::Type::kBool:
      return j.dump();
    case Json::Type::kObject: {  // shape: "k=576;m=1536;n=1"
      std::string s;
      for (const auto& [k, v] : j.members()) s += (s.empty() ? "" : ";") + k + "=" + v.dump();
      return s;
    }
    case Json::Type::kArray:
      return j.dump();
  }
  return "";
}

}  // namespace

// Text and attribute values: & < > " ' escaped, control characters (which
// HTML does not allow) replaced.
std::string xml_escape(std::string_view s) {
  std::string o;
  o.reserve(s.size() + 16);
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '&':
        o += "&amp;";
        break;
      case '<':
        o += "&lt;";
        break;
      case '>':
        o += "&gt;";
        break;
      case '"':
        o += "&quot;";
        break;
      case '\'':
        o += "&#39;";
        break;
      default:
        if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f)
          o += "&#xFFFD;";
        else
          o += ch;
    }
  }
  return o;
}

std::string source_tag(size_t i) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "[%zu]", i);
  return buf;
}

std::string csv_escape(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string o = "\"";
  for (const char c : s) o += c == '"' ? std::string("\"\"") : std::string(1, c);
  return o + "\"";
}

namespace {

// The fields every result starts with.
Json result_head(const char* kind, const std::string& device, const std::string& backend) {
  Json j = Json::object();
  j.set("kind", kind);
  j.set("engine", "tessera");
  j.set("device", device);
  j.set("backend", backend);
  return j;
}

}  // namespace

Json op_result_json(const OpResult& r) {
  const Workload& w = *r.w;
  const bool ok = r.status == "ok";
  Json j = result_head("op", r.device, r.backend);
  j.set("name", w.name);
  j.set("op", w.op);
  j.set("dtype", w.dtype);
  Json shape = Json::object();
  for (const auto& [k, v] : w.shape) shape.set(k, v);
  j.set("shape", std::move(shape));
  j.set("suite", w.suite);
  j.set("status", r.status);
  j.set("reason", r.reason);
  j.set("reps", static_cast<int>(r.t.samples.size()));
  j.set("median_s", ok ? Json(r.t.median) : Json());
  j.set("min_s", ok ? Json(r.t.min) : Json());
  j.set("max_s", ok ? Json(r.t.max) : Json());
  j.set("spread", ok ? Json(r.t.spread) : Json());
  j.set("mean_s", ok ? Json(r.t.mean) : Json());
  j.set("stddev_s", ok ? Json(r.t.stddev) : Json());
  j.set("ci95_low_s", ok && r.t.samples.size() > 1 ? Json(r.t.ci95_low) : Json());
  j.set("ci95_high_s", ok && r.t.samples.size() > 1 ? Json(r.t.ci95_high) : Json());
  j.set("cv", ok ? Json(r.t.cv) : Json());
  j.set("noisy", ok && r.noisy);
  Json samples = Json::array();
  if (ok)
    for (double v : r.t.samples) samples.push(v);
  j.set("samples_s", std::move(samples));
  j.set("threads", r.threads);
  j.set("flop", w.flop);
  j.set("bytes", w.bytes);
  j.set("gflops", ok ? Json(r.gflops) : Json());
  j.set("gbps", ok ? Json(r.gbps) : Json());
  j.set("roofline_share", ok ? positive_or_null(r.roofline_share) : Json());
  j.set("roof_level", ok && !r.roof_level.empty() ? Json(r.roof_level) : Json());
  j.set("roof_gbps", ok ? positive_or_null(r.roof_gbps) : Json());
  return j;
}

Json e2e_result_json(const E2eResult& r) {
  Json j = result_head("e2e", r.device, r.backend);
  j.set("model", r.model);
  j.set("test", r.test);
  j.set("n_prompt", r.n_prompt);
  j.set("n_gen", r.n_gen);
  j.set("threads", r.threads);
  j.set("n_batch", r.n_batch);
  j.set("reps", static_cast<int>(r.t.samples.size()));
  j.set("tokens_per_second", r.tps_summary.median);
  j.set("tokens_per_second_min", r.tps_summary.min);
  j.set("tokens_per_second_max", r.tps_summary.max);
  const bool interval = r.t.samples.size() > 1;
  j.set("tokens_per_second_mean", r.tps_summary.mean);
  j.set("tokens_per_second_stddev", r.tps_summary.stddev);
  j.set("tokens_per_second_ci95_low", interval ? Json(r.tps_summary.ci95_low) : Json());
  j.set("tokens_per_second_ci95_high", interval ? Json(r.tps_summary.ci95_high) : Json());
  j.set("cv", r.t.cv);
  j.set("noisy", r.noisy);
  Json samples = Json::array();
  for (double s : r.t.samples) samples.push(s);
  j.set("samples_seconds", std::move(samples));
  j.set("fallback_nodes", r.fallback_nodes);
  return j;
}

Json document(const RunStamp& s, const std::vector<DeviceRecord>& devices, std::vector<Json> results) {
  Json doc = Json::object();
  doc.set("schema", "tessera-bench/1");
  doc.set("run", run_json(s));
  Json devs = Json::array();
  for (const DeviceRecord& d : devices) devs.push(device_json(d));
  doc.set("devices", std::move(devs));
  Json res = Json::array();
  for (Json& r : results) res.push(std::move(r));
  doc.set("results", std::move(res));
  return doc;
}

bool write_json_file(const std::string& path, const Json& doc, std::string* err) {
  std::ofstream f(path, std::ios::binary);
  f << doc.dump(1) << "\n";
  f.close();
  if (!f) {
    *err = "cannot write " + path;
    return false;
  }
  return true;
}

bool write_csv_file(const std::string& path, const Json& doc, std::string* err) {
  std::ofstream f(path, std::ios::binary);
  std::string line;
  for (const char* c : kCsvColumns) {
    if (!line.empty()) line += ',';
    line += c;
  }
  f << line << "\n";
  const Json* run = doc.find("run");
  const Json* results = doc.find("results");
  if (results)
    for (const Json& r : results->items()) {
      line.clear();
      bool first = true;
      for (const char* c : kCsvColumns) {
        const Json* v = r.find(c);
        if (!v && run) v = run->find(c);
        if (!first) line += ',';
        line += csv_escape(v ? csv_value(*v) : "");
        first = false;
      }
      f << line << "\n";
    }
  f.close();
  if (!f) {
    *err = "cannot write " + path;
    return false;
  }
  return true;
}

bool write_outputs(const char* sub, const Json& doc, const std::string& json_path,
                   const std::string& csv_path) {
  std::string err;
  if ((!json_path.empty() && !write_json_file(json_path, doc, &err)) ||
      (!csv_path.empty() && !write_csv_file(csv_path, doc, &err))) {
    std::fprintf(stderr, "tessera-bench %s: %s\n", sub, err.c_str());
    return false;
  }
  return true;
}

void print_device(const DeviceRecord& d) {
  std::printf("device %s (%s): %s | driver %s | ", d.name.c_str(), d.backend.c_str(), d.description.c_str(),
              d.driver.c_str());
  if (d.peak_source.empty())
    std::printf("peaks unknown\n");
  else
    std::printf("peak %.1f GFLOP/s, %.1f GB/s (%s)\n", d.peak_gflops, d.peak_gbps, d.peak_source.c_str());
}

void report_noise(const char* sub, int noisy, int rows, double threshold) {
  if (noisy > 0)
    std::fprintf(
        stderr,
        "tessera-bench %s: warning: %d of %d rows noisy (relative standard deviation above %.3g, marked "
        "'!'): the machine was busy or the runs too short; rerun, or raise --reps / --min-time\n",
        sub, noisy, rows, threshold);
}

void print_op_header() {
  std::printf("%-10s %3s %-52s %10s %7s %9s %8s %6s\n", "device", "t", "workload", "median ms", "rsd",
              "GFLOP/s", "GB/s", "roof");
  std::fflush(stdout);
}

void print_op_row(const OpResult& r) {
  if (r.status != "ok") {
    std::printf("%-10s %3d %-52s %s: %s\n", r.device.c_str(), r.threads, r.w->name.c_str(), r.status.c_str(),
                first_line(r.reason, 90).c_str());
  } else {
    char roof[32] = "-";
    if (r.roofline_share > 0)
      std::snprintf(roof, sizeof roof, "%5.1f%%%s%s", 100 * r.roofline_share, r.roof_level.empty() ? "" : " ",
                    r.roof_level.c_str());
    std::printf("%-10s %3d %-52s %10.4f %5.1f%%%s %9.2f %8.2f %s\n", r.device.c_str(), r.threads,
                r.w->name.c_str(), r.t.median * 1e3, 100 * r.t.cv, r.noisy ? "!" : " ", r.gflops, r.gbps,
                roof);
  }
  std::fflush(stdout);
}

void print_e2e_header() {
  std::printf("%-10s %-32s %3s %6s %-14s %4s %10s %21s %7s %5s\n", "device", "model", "t", "batch", "test",
              "reps", "tokens/s", "95% interval", "rsd", "fallb");
  std::fflush(stdout);
}

void print_e2e_row(const E2eResult& r) {
  char ci[48] = "-";
  if (r.tps_summary.samples.size() > 1)
    std::snprintf(ci, sizeof ci, "%.2f .. %.2f", r.tps_summary.ci95_low, r.tps_summary.ci95_high);
  std::printf("%-10s %-32s %3d %6d %-14s %4zu %10.2f %21s %5.1f%%%s %5d\n", r.device.c_str(), r.model.c_str(),
              r.threads, r.n_batch, r.test.c_str(), r.t.samples.size(), r.tps_summary.median, ci,
              100 * r.t.cv, r.noisy ? "!" : " ", r.fallback_nodes);
  std::fflush(stdout);
}

}  // namespace tessera_bench
