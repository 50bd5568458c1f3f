// tessera-bench compare: merges result files (from different machines or
// engines) into one table. A source is (engine, device, host) of one file;
// rows are op workload names and e2e tests; each source's column holds its
// number (ops: median ms; e2e: tokens/s) and its ratio to the first source
// (ops: first median / this median; e2e: this tokens/s / first tokens/s: above
// 1 is faster than the first source either way).
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include "tools/bench/bench.h"

namespace tessera_bench {
namespace {

void usage(FILE* f) {
  std::fprintf(f,
               "usage: tessera-bench compare A.json [B.json ...] [--svg PREFIX] [--csv F]\n"
               "  --svg PREFIX  write PREFIX-ops.svg, PREFIX-e2e.svg and PREFIX-roofline.svg\n"
               "  --csv F       write the merged table, one row per (row, source)\n");
}

struct Loaded {
  std::string path;
  Json doc;
};

// Reads and validates one result file; on failure *err says why.
bool load(const std::string& path, Loaded* out, std::string* err) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return *err = path + ": cannot read the file", false;
  std::stringstream ss;
  ss << f.rdbuf();
  Json doc;
  std::string perr;
  if (!Json::parse(ss.str(), &doc, &perr)) return *err = path + ": " + perr, false;
  if (!doc.is_object())
    return *err = path + ": not a tessera-bench result (the top level is not an object)", false;
  const std::string schema = doc.str("schema");
  if (schema != "tessera-bench/1")
    return *err = path + ": unsupported schema '" + schema + "' (expected tessera-bench/1)", false;
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
  out->path = path;
  out->doc = std::move(doc);
  return true;
}

std::string basename_of(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string row_key(const Json& r) {
  return r.str("kind") == "op" ? r.str("name") : r.str("model") + " " + r.str("test");
}

struct Cell {
  bool ok = false;
  double value = 0;  // ops: median seconds; e2e: tokens/s
  std::string status;
  const Json* result = nullptr;
};

}  // namespace

int compare_main(int argc, char** argv) {
  std::vector<std::string> files;
  std::string svg_prefix, csv_path;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    if (k == "-h" || k == "--help") {
      usage(stdout);
      return 0;
    }
    if (k == "--svg" || k == "--csv") {
      if (i + 1 >= argc) return usage_error("compare", k + " needs a value");
      (k == "--svg" ? svg_prefix : csv_path) = argv[++i];
    } else if (!k.empty() && k[0] == '-') {
      return usage_error("compare", "unknown option " + k);
    } else {
      files.push_back(k);
    }
  }
  if (files.empty()) return usage_error("compare", "no result files given");

  std::vector<Loaded> docs(files.size());
  for (size_t i = 0; i < files.size(); ++i) {
    std::string err;
    if (!load(files[i], &docs[i], &err)) {
      std::fprintf(stderr, "tessera-bench compare: %s\n", err.c_str());
      return 2;
    }
  }

  // Sources in order of appearance: (engine, device, host), per file.
  std::vector<ChartSource> sources;
  std::vector<std::string> source_keys;
  for (const Loaded& l : docs) {
    const Json* run = l.doc.find("run");
    const std::string host = run ? run->str("hostname", "unknown") : "unknown";
    for (const Json& r : l.doc.find("results")->items()) {
      const std::string engine = r.str("engine", "tessera"), device = r.str("device");
      const std::string key = engine + "|" + device + "|" + host + "|" + l.path;
      size_t s = 0;
      while (s < source_keys.size() && source_keys[s] != key) ++s;
      if (s == source_keys.size()) {
        source_keys.push_back(key);
        ChartSource cs;
        cs.label = engine + " " + device + " @" + host;
        if (const Json* devs = l.doc.find("devices"))
          for (const Json& d : devs->items())
            if (d.str("name") == device) cs.device = d;
        sources.push_back(std::move(cs));
      }
      sources[s].results.push_back(&r);
    }
  }
  // The same engine/device/host from two files (before/after runs): name the file.
  std::vector<bool> clash(sources.size(), false);
  for (size_t a = 0; a < sources.size(); ++a)
    for (size_t b = 0; b < sources.size(); ++b)
      clash[a] = clash[a] || (a != b && sources[a].label == sources[b].label);
  for (size_t a = 0; a < sources.size(); ++a)
    if (clash[a])
      sources[a].label += " (" + basename_of(source_keys[a].substr(source_keys[a].rfind('|') + 1)) + ")";

  // Rows in order of appearance, ops first then e2e; one cell per source.
  std::vector<std::string> rows;
  std::map<std::string, std::string> row_kind;
  std::map<std::string, std::vector<Cell>> cells;
  for (const char* kind : {"op", "e2e"})
    for (size_t s = 0; s < sources.size(); ++s)
      for (const Json* r : sources[s].results) {
        if (r->str("kind") != kind) continue;
        const std::string key = row_key(*r);
        auto [it, fresh] = cells.try_emplace(key, std::vector<Cell>(sources.size()));
        if (fresh) {
          rows.push_back(key);
          row_kind[key] = kind;
        }
        Cell& c = it->second[s];
        c.result = r;
        if (std::string(kind) == "op") {
          c.status = r->str("status", "ok");
          const Json* m = r->find("median_s");
          c.ok = c.status == "ok" && m && m->is_number() && m->number() > 0;
          c.value = c.ok ? m->number() : 0;
        } else {
          c.status = "ok";
          c.value = r->num("tokens_per_second");
          c.ok = c.value > 0;
        }
      }

  auto ratio = [&](const std::string& row, size_t s) -> double {
    const Cell& first = cells[row][0];
    const Cell& c = cells[row][s];
    if (!first.ok || !c.ok) return 0;
    return row_kind[row] == "op" ? first.value / c.value : c.value / first.value;
  };

  // Table.
  for (size_t s = 0; s < sources.size(); ++s) std::printf("[%zu] %s\n", s, sources[s].label.c_str());
  std::printf("values: ops = median ms, e2e = tokens/s; (xR) = ratio to [0], above 1 = faster\n");
  std::printf("%-52s", "workload / test");
  for (size_t s = 0; s < sources.size(); ++s) std::printf(" %18s", ("[" + std::to_string(s) + "]").c_str());
  std::printf("\n");
  for (const std::string& row : rows) {
    std::printf("%-52s", row.c_str());
    for (size_t s = 0; s < sources.size(); ++s) {
      const Cell& c = cells[row][s];
      char buf[64];
      if (!c.result) {
        std::snprintf(buf, sizeof buf, "-");
      } else if (!c.ok) {
        std::snprintf(buf, sizeof buf, "%s", c.status.c_str());
      } else {
        const double v = row_kind[row] == "op" ? c.value * 1e3 : c.value;
        const double rt = ratio(row, s);
        if (s > 0 && rt > 0)
          std::snprintf(buf, sizeof buf, "%.4g (x%.2f)", v, rt);
        else
          std::snprintf(buf, sizeof buf, "%.4g", v);
      }
      std::printf(" %18s", buf);
    }
    std::printf("\n");
  }

  if (!csv_path.empty()) {
    std::ofstream f(csv_path, std::ios::binary);
    f << "kind,row,source,value,unit,ratio_to_first,status,gflops,gbps,roofline_share\n";
    for (const std::string& row : rows)
      for (size_t s = 0; s < sources.size(); ++s) {
        const Cell& c = cells[row][s];
        if (!c.result) continue;
        const bool op = row_kind[row] == "op";
        const double rt = ratio(row, s);
        f << row_kind[row] << "," << csv_escape(row) << "," << csv_escape(sources[s].label) << ","
          << (c.ok ? json_number(c.value) : "") << "," << (op ? "s" : "tokens/s") << ","
          << (rt > 0 ? json_number(rt) : "") << "," << csv_escape(c.status) << ",";
        auto num = [&](const char* k) {
          const Json* v = c.result->find(k);
          return v && v->is_number() ? json_number(v->number()) : std::string();
        };
        f << (op ? num("gflops") : "") << "," << (op ? num("gbps") : "") << ","
          << (op ? num("roofline_share") : "") << "\n";
      }
    f.close();
    if (!f) {
      std::fprintf(stderr, "tessera-bench compare: cannot write %s\n", csv_path.c_str());
      return 1;
    }
  }
  if (!svg_prefix.empty()) {
    std::string err;
    if (!write_svgs(svg_prefix, sources, &err)) {
      std::fprintf(stderr, "tessera-bench compare: %s\n", err.c_str());
      return 1;
    }
    std::printf("wrote %s-ops.svg, %s-e2e.svg, %s-roofline.svg\n", svg_prefix.c_str(), svg_prefix.c_str(),
                svg_prefix.c_str());
  }
  return 0;
}

}  // namespace tessera_bench
