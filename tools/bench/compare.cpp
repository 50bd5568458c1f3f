// tessera-bench compare: merges result files (from different machines or
// engines, Tessera's or llama-bench's) into one table with intervals and
// speed ratios (comparison.cpp), a CSV and SVG charts.
#include <algorithm>
#include <cstdio>
#include <fstream>

#include "tools/bench/bench.h"

namespace tessera_bench {
namespace {

void usage(FILE* f) {
  std::fprintf(
      f,
      "usage: tessera-bench compare A.json [B.json ...] [--baseline FILE|DEVICE|ENGINE] [--svg PREFIX]\n"
      "                             [--csv F]\n"
      "  files           tessera-bench results, or llama-bench output (-o json or -o jsonl)\n"
      "  --baseline X    the reference of the ratios: a file (its sources), a device (cpu, vulkan:0)\n"
      "                  or an engine (tessera, llama.cpp), t=N, @HOST, or several of them all to match\n"
      "                  (\"cpu t=1\"); each source is compared with the baseline source of its thread\n"
      "                  count. Default: the first source that has the row\n"
      "  --svg PREFIX    write the charts: PREFIX-ops.svg (share of each device's roofline),\n"
      "                  PREFIX-throughput.svg, PREFIX-e2e.svg, PREFIX-roofline.svg\n"
      "  --csv F         write the merged table, one row per (row, source)\n"
      "A cell: the value (ops: median ms; e2e: median tokens/s), then (xR LO-HI): the speed ratio to\n"
      "the reference (above 1 = faster; geometric means of the run times) and its 95%% interval;\n"
      "'~': the two sources' own 95%% intervals overlap (the difference is not established);\n"
      "'!': a noisy row (relative standard deviation above the run's threshold).\n");
}

void print_table(const Comparison& c) {
  // Each column's usual reference; a cell against another one names it.
  std::vector<int> usual(c.sources.size(), -1);
  for (size_t s = 0; s < c.sources.size(); ++s) {
    std::vector<int> count(c.sources.size(), 0);
    for (const CompareRow& row : c.rows)
      if (const int ref = row.cells[s].reference; ref >= 0 && ref != static_cast<int>(s)) ++count[ref];
    const auto best = std::max_element(count.begin(), count.end());
    if (best != count.end() && *best > 0) usual[s] = static_cast<int>(best - count.begin());
  }
  for (size_t s = 0; s < c.sources.size(); ++s) {
    bool base = false;
    for (int b : c.baseline) base = base || b == static_cast<int>(s);
    std::printf("%s %s%s%s\n", source_tag(s).c_str(), c.sources[s].label.c_str(), base ? "  (baseline)" : "",
                usual[s] >= 0 ? ("  ratios vs " + source_tag(usual[s])).c_str() : "");
  }
  std::printf(
      "values: ops = median ms, e2e = median tokens/s; (xR LO-HI) = speed vs %s and its 95%% interval;"
      " ~ = the intervals overlap; ! = noisy; (=) = the reference\n",
      c.baseline.empty() ? "the first source with the row" : "the baseline");
  size_t key_w = 16;
  std::vector<size_t> w(c.sources.size(), 3);
  std::vector<std::vector<std::string>> texts;
  for (const CompareRow& row : c.rows) {
    key_w = std::max(key_w, row.key.size());
    texts.emplace_back();
    for (size_t s = 0; s < c.sources.size(); ++s) {
      std::string t = cell_text(row, s);
      const int ref = row.cells[s].reference;
      if (ref >= 0 && ref != static_cast<int>(s) && ref != usual[s]) t += " vs" + source_tag(ref);
      w[s] = std::max(w[s], t.size());
      texts.back().push_back(std::move(t));
    }
  }
  std::printf("%-*s", static_cast<int>(key_w), "workload / test");
  for (size_t s = 0; s < c.sources.size(); ++s)
    std::printf("  %*s", static_cast<int>(w[s]), source_tag(s).c_str());
  std::printf("\n");
  for (size_t r = 0; r < c.rows.size(); ++r) {
    std::printf("%-*s", static_cast<int>(key_w), c.rows[r].key.c_str());
    for (size_t s = 0; s < c.sources.size(); ++s)
      std::printf("  %*s", static_cast<int>(w[s]), texts[r][s].c_str());
    std::printf("\n");
  }
}

bool write_csv(const Comparison& c, const std::string& path, std::string* err) {
  std::ofstream f(path, std::ios::binary);
  f << "kind,row,source,value,unit,ci95_low,ci95_high,noisy,reference,ratio,ratio_low,ratio_high,"
       "intervals_overlap,status,gflops,gbps,roofline_share\n";
  auto num = [](double v) { return v > 0 ? json_number(v) : std::string(); };
  for (const CompareRow& row : c.rows)
    for (size_t s = 0; s < c.sources.size(); ++s) {
      const CompareCell& cell = row.cells[s];
      if (!cell.result) continue;
      const bool op = row.kind == "op";
      const bool ratio = cell.reference >= 0 && cell.ratio.ratio > 0;
      f << row.kind << "," << csv_escape(row.key) << "," << csv_escape(c.sources[s].label) << ","
        << (cell.ok ? json_number(cell.value) : "") << "," << (op ? "s" : "tokens/s") << "," << num(cell.low)
        << "," << num(cell.high) << "," << (cell.noisy ? "true" : "false") << ","
        << (cell.reference >= 0 ? csv_escape(c.sources[cell.reference].label) : "") << ","
        << (ratio ? json_number(cell.ratio.ratio) : "") << ","
        << (ratio && cell.ratio.has_interval ? json_number(cell.ratio.low) : "") << ","
        << (ratio && cell.ratio.has_interval ? json_number(cell.ratio.high) : "") << ","
        << (ratio && cell.ratio.has_interval ? (cell.ratio.overlap ? "true" : "false") : "") << ","
        << csv_escape(cell.status) << ",";
      auto field = [&](const char* k) {
        const Json* v = cell.result->find(k);
        return op && v && v->is_number() ? json_number(v->number()) : std::string();
      };
      f << field("gflops") << "," << field("gbps") << "," << field("roofline_share") << "\n";
    }
  f.close();
  if (!f) return *err = "cannot write " + path, false;
  return true;
}

}  // namespace

int compare_main(int argc, char** argv) {
  std::vector<std::string> files;
  std::string svg_prefix, csv_path, baseline;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    if (k == "-h" || k == "--help") {
      usage(stdout);
      return 0;
    }
    if (k == "--svg" || k == "--csv" || k == "--baseline") {
      if (i + 1 >= argc) return usage_error("compare", k + " needs a value");
      (k == "--svg" ? svg_prefix : k == "--csv" ? csv_path : baseline) = argv[++i];
      if (k == "--baseline" && baseline.empty()) return usage_error("compare", "--baseline needs a value");
    } else if (!k.empty() && k[0] == '-') {
      return usage_error("compare", "unknown option " + k);
    } else {
      files.push_back(k);
    }
  }
  if (files.empty()) return usage_error("compare", "no result files given");

  Comparison c;
  std::string err;
  if (!build_comparison(files, baseline, &c, &err)) {
    std::fprintf(stderr, "tessera-bench compare: %s\n", err.c_str());
    return 2;
  }
  print_table(c);
  if (!csv_path.empty() && !write_csv(c, csv_path, &err)) {
    std::fprintf(stderr, "tessera-bench compare: %s\n", err.c_str());
    return 1;
  }
  if (!svg_prefix.empty()) {
    if (!write_svgs(svg_prefix, c.sources, &err)) {
      std::fprintf(stderr, "tessera-bench compare: %s\n", err.c_str());
      return 1;
    }
    std::printf("wrote %s-*.svg\n", svg_prefix.c_str());
  }
  return 0;
}

}  // namespace tessera_bench
