// The charts of tessera-bench compare, as hand-written SVG:
//   PREFIX-ops.svg         horizontal bars grouped per op workload, one bar per
//                          source: share of that device's own roofline (%)
//   PREFIX-throughput.svg  the same groups, what each source attained in one
//                          absolute unit per workload kind (GFLOP/s for the
//                          compute-bound kinds, GB/s for the rest), log axis
//   PREFIX-e2e.svg         bars grouped per e2e test, one per source: tokens/s
//   PREFIX-roofline.svg    log-log arithmetic intensity (FLOP/byte) vs GFLOP/s:
//                          each source's memory roofs (one per level, labelled
//                          at its ridge), its compute ceiling and its op
//                          results as labelled points
// Marks carry class="bar|point|roof|ceiling" and data-source="<index>" (roofs
// also data-level, points data-name); text labels class="label|roof-label|key"
// so tests (and scripts) can find them.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include "tools/bench/bench.h"

namespace tessera_bench {
namespace {

const char* const kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                               "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
const char* color(size_t i) { return kColors[i % (sizeof kColors / sizeof kColors[0])]; }

std::string fmt_num(double v, const char* f = "%.3g") {
  char buf[32];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

class Svg {
 public:
  Svg(int w, int h) : w_(w), h_(h) {}
  std::ostringstream& body() { return b_; }
  void text(double x, double y, const std::string& s, const char* anchor = "start", int size = 12,
            const char* extra = "") {
    b_ << "<text x=\"" << fmt_num(x, "%.1f") << "\" y=\"" << fmt_num(y, "%.1f") << "\" font-size=\"" << size
       << "\" text-anchor=\"" << anchor << "\"" << extra << ">" << xml_escape(s) << "</text>\n";
  }
  void line(double x1, double y1, double x2, double y2, const char* stroke, const char* extra = "") {
    b_ << "<line x1=\"" << fmt_num(x1, "%.1f") << "\" y1=\"" << fmt_num(y1, "%.1f") << "\" x2=\""
       << fmt_num(x2, "%.1f") << "\" y2=\"" << fmt_num(y2, "%.1f") << "\" stroke=\"" << stroke << "\""
       << extra << "/>\n";
  }
  std::string str() const {
    std::ostringstream o;
    o << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << w_ << "\" height=\"" << h_
      << "\" viewBox=\"0 0 " << w_ << " " << h_
      << "\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n"
      << "<rect x=\"0\" y=\"0\" width=\"" << w_ << "\" height=\"" << h_ << "\" fill=\"white\"/>\n"
      << b_.str() << "</svg>\n";
    return o.str();
  }

 private:
  int w_, h_;
  std::ostringstream b_;
};

void legend(Svg& svg, const std::vector<ChartSource>& sources, const std::vector<size_t>& used, double x,
            double y) {
  for (size_t k = 0; k < used.size(); ++k) {
    const double yy = y + 18.0 * k;
    svg.body() << "<rect x=\"" << x << "\" y=\"" << yy - 10 << "\" width=\"12\" height=\"12\" fill=\""
               << color(used[k]) << "\"/>\n";
    svg.text(x + 18, yy, source_tag(used[k]) + " " + sources[used[k]].label);
  }
}

struct Bar {
  size_t source;
  double value;      // <= 0: no bar, the note is shown instead
  std::string note;  // "unsupported", ...
};
struct Group {
  std::string label;
  std::vector<Bar> bars;
  std::string unit;     // after each bar's value ("GB/s"); empty: none
  std::string section;  // a heading row where it changes ("Memory-bound kinds: GB/s")
};

// At most the decades a double spans: a value of infinity (a file's 1e999)
// or one that underflows to 0 would otherwise give an infinite bound, and a
// grid loop would never end (found by fuzz_bench_json). NaN draws no grid.
double decade(double e) { return std::clamp(e, -324.0, 309.0); }

// Horizontal grouped bars: a label column, one bar per source in each group;
// a linear axis from 0, or (log_axis) whole decades covering the values.
Svg bar_chart(const std::string& title, const std::string& unit, const std::vector<Group>& groups,
              const std::vector<ChartSource>& sources, const std::vector<size_t>& used,
              bool log_axis = false) {
  const double label_w = 380, plot_w = 560, bar_h = 12, gap = 10, section_h = 22,
               top = 60 + 18.0 * used.size();
  double height = top + 40;
  for (size_t i = 0; i < groups.size(); ++i) {
    height += std::max<size_t>(groups[i].bars.size(), 1) * bar_h + gap;
    if (!groups[i].section.empty() && (i == 0 || groups[i].section != groups[i - 1].section))
      height += section_h;
  }
  double vmax = 0, vmin = 1e308;
  for (const Group& g : groups)
    for (const Bar& b : g.bars)
      if (b.value > 0) vmax = std::max(vmax, b.value), vmin = std::min(vmin, b.value);
  if (vmax <= 0) vmax = 1, vmin = 1;
  // Linear: a round axis end, 1, 2 or 5 times a power of ten. Log: decades.
  const double p10 = std::pow(10.0, std::floor(std::log10(vmax)));
  double axis = p10;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * p10 >= vmax) {
      axis = m * p10;
      break;
    }
  const double l0 = decade(std::floor(std::log10(vmin))),
               l1 = decade(std::max(l0 + 1, std::ceil(std::log10(vmax))));
  // The bar length of v, 0 .. plot_w.
  auto length = [&](double v) {
    const double px = plot_w * (log_axis ? (std::log10(v) - l0) / (l1 - l0) : v / axis);
    return px >= 1 ? std::min(px, plot_w) : 1.0;  // NaN (an infinite value's): 1
  };
  Svg svg(static_cast<int>(label_w + plot_w + 110), static_cast<int>(height));
  svg.text(10, 22, title, "start", 16, " font-weight=\"bold\"");
  legend(svg, sources, used, 10, 46);
  const double x0 = label_w;
  // Grid and axis labels.
  if (log_axis) {
    for (double e = l0; e <= l1; ++e) {
      const double x = x0 + plot_w * (e - l0) / (l1 - l0);
      svg.line(x, top - 6, x, height - 34, "#dddddd");
      svg.text(x, height - 20, fmt_num(std::pow(10.0, e), "%g"), "middle", 11);
      for (int m = 2; m < 10 && e < l1 && l1 - l0 <= 12; ++m) {
        const double xm = x0 + plot_w * (e + std::log10(m) - l0) / (l1 - l0);
        svg.line(xm, top - 6, xm, height - 34, "#f3f3f3");
      }
    }
  } else {
    for (int t = 0; t <= 5; ++t) {
      const double x = x0 + plot_w * t / 5.0;
      svg.line(x, top - 6, x, height - 34, "#dddddd");
      svg.text(x, height - 20, fmt_num(axis * t / 5.0, "%.4g"), "middle", 11);
    }
  }
  svg.text(x0 + plot_w / 2, height - 6, unit, "middle", 12);
  double y = top;
  for (size_t i = 0; i < groups.size(); ++i) {
    const Group& g = groups[i];
    if (!g.section.empty() && (i == 0 || g.section != groups[i - 1].section)) {
      svg.text(10, y + 14, g.section, "start", 12, " font-weight=\"bold\" class=\"section\"");
      y += section_h;
    }
    const std::string suffix = g.unit.empty() ? "" : " " + g.unit;
    const double gh = std::max<size_t>(g.bars.size(), 1) * bar_h;
    svg.text(x0 - 8, y + gh / 2 + 4, g.label, "end", 11);
    for (const Bar& b : g.bars) {
      if (b.value > 0) {
        const double w = length(b.value);
        svg.body() << "<rect class=\"bar\" data-source=\"" << b.source << "\" x=\"" << x0 << "\" y=\""
                   << fmt_num(y + 1, "%.1f") << "\" width=\"" << fmt_num(w, "%.1f") << "\" height=\""
                   << bar_h - 2 << "\" fill=\"" << color(b.source) << "\"><title>"
                   << xml_escape(sources[b.source].label + ": " + fmt_num(b.value, "%.4g") + " " +
                                 (g.unit.empty() ? unit : g.unit))
                   << "</title></rect>\n";
        svg.text(x0 + w + 4, y + bar_h - 2, fmt_num(b.value, "%.3g") + suffix, "start", 10);
      } else {
        svg.text(x0 + 4, y + bar_h - 2, source_tag(b.source) + " " + b.note, "start", 10,
                 " fill=\"#888888\"");
      }
      y += bar_h;
    }
    y += gap;
    svg.line(x0 - 380, y - gap / 2, x0 + plot_w, y - gap / 2, "#f0f0f0");
  }
  svg.line(x0, top - 6, x0, height - 34, "#333333");
  return svg;
}

// Groups of one kind, in order of first appearance.
std::vector<Group> groups_of(const std::vector<ChartSource>& sources, const char* kind,
                             std::vector<size_t>* used, double (*value)(const Json&),
                             std::string (*key)(const Json&)) {
  std::vector<Group> groups;
  std::map<std::string, size_t> index;
  for (size_t s = 0; s < sources.size(); ++s) {
    bool any = false;
    for (const Json* r : sources[s].results) {
      if (r->str("kind") != kind) continue;
      any = true;
      const std::string k = key(*r);
      auto [it, fresh] = index.try_emplace(k, groups.size());
      if (fresh) groups.push_back({k, {}, "", ""});
      const double v = value(*r);
      const std::string status = r->str("status", "ok");
      groups[it->second].bars.push_back({s, v, v > 0 ? "" : (status == "ok" ? "no roofline peaks" : status)});
    }
    if (any) used->push_back(s);
  }
  return groups;
}

double op_share_percent(const Json& r) {
  const Json* v = r.find("roofline_share");
  return r.str("status", "ok") == "ok" && v && v->is_number() ? 100.0 * v->number() : 0;
}
double e2e_tps(const Json& r) { return r.num("tokens_per_second"); }
std::string op_key(const Json& r) { return r.str("name"); }
std::string e2e_key(const Json& r) { return r.str("model") + " " + r.str("test"); }

// Compute-bound kinds, charted in GFLOP/s: a matmul over several columns
// (n > 1), a GEMM, attention prefill (n_tokens > 1); the rest in GB/s.
bool compute_bound(const Json& r) {
  const std::string name = r.str("name"), op = r.str("op", name.substr(0, name.find(' ')));
  const Json* shape = r.find("shape");
  auto dim = [&](const char* k) { return shape ? shape->num(k) : 0.0; };
  return op == "gemm" || (op == "matmul" && dim("n") > 1) || (op == "attention" && dim("n_tokens") > 1);
}

// Per op workload, one bar per source: what it attained, GFLOP/s for the
// compute-bound kinds (listed first), GB/s for the rest.
std::vector<Group> throughput_groups(const std::vector<ChartSource>& sources, std::vector<size_t>* used) {
  std::vector<Group> groups;
  std::vector<bool> compute;
  std::map<std::string, size_t> index;
  for (size_t s = 0; s < sources.size(); ++s) {
    bool any = false;
    for (const Json* r : sources[s].results) {
      if (r->str("kind") != "op") continue;
      any = true;
      auto [it, fresh] = index.try_emplace(r->str("name"), groups.size());
      if (fresh) {
        const bool c = compute_bound(*r);
        groups.push_back({r->str("name"),
                          {},
                          c ? "GFLOP/s" : "GB/s",
                          c ? "Compute-bound kinds: GFLOP/s" : "Memory-bound kinds: GB/s"});
        compute.push_back(c);
      }
      const Json* v = r->find(compute[it->second] ? "gflops" : "gbps");
      const std::string status = r->str("status", "ok");
      const double value = status == "ok" && v && v->is_number() ? v->number() : 0;
      groups[it->second].bars.push_back({s, value, value > 0 ? "" : (status == "ok" ? "no rate" : status)});
    }
    if (any) used->push_back(s);
  }
  std::vector<Group> ordered;
  for (bool first : {true, false})
    for (size_t i = 0; i < groups.size(); ++i)
      if (compute[i] == first) ordered.push_back(std::move(groups[i]));
  return ordered;
}

// ---- Roofline --------------------------------------------------------------------

struct Box {
  double x0, y0, x1, y1;
  bool overlaps(const Box& o) const { return x0 < o.x1 && o.x0 < x1 && y0 < o.y1 && o.y0 < y1; }
};

// Characters of UTF-8 text (what its width goes by).
size_t glyphs(const std::string& s) {
  size_t n = 0;
  for (const unsigned char c : s) n += (c & 0xc0) != 0x80;
  return n;
}

// Text placed where it overlaps no mark or text placed before, inside an area.
class Placer {
 public:
  explicit Placer(Box area) : area_(area) {}
  void block(const Box& b) { taken_.push_back(b); }
  bool free(const Box& b) const {
    if (!(b.x0 >= area_.x0 && b.x1 <= area_.x1 && b.y0 >= area_.y0 && b.y1 <= area_.y1)) return false;
    for (const Box& t : taken_)
      if (b.overlaps(t)) return false;
    return true;
  }
  // The box of text at size whose left edge is x and centre line cy.
  static Box text_box(double x, double cy, const std::string& s, int size) {
    const double w = 0.6 * size * static_cast<double>(glyphs(s));
    return {x, cy - size / 2.0, x + w, cy + size / 2.0};
  }

 private:
  Box area_;
  std::vector<Box> taken_;
};

// A roof read from a device record's memory_roofs.
struct Roof {
  std::string level;
  double gbps;
};

// The source's memory roofs, fastest first; else its single peak bandwidth
// (an older file, or a device whose roofs are unknown), level "".
std::vector<Roof> roofs_of(const Json& device) {
  std::vector<Roof> out;
  if (const Json* m = device.find("memory_roofs"); m && m->is_array())
    for (const Json& r : m->items()) {
      const Json* g = r.find("gbps");
      if (g && g->is_number() && g->number() > 0 && std::isfinite(g->number()))
        out.push_back({r.str("level"), g->number()});
    }
  if (out.empty() && device.num("peak_gbps") > 0) out.push_back({"", device.num("peak_gbps")});
  std::stable_sort(out.begin(), out.end(), [](const Roof& a, const Roof& b) { return a.gbps > b.gbps; });
  return out;
}

// A short form of a workload name for a label beside its point: the op
// abbreviated, the model and its dimensions dropped ("matvec q4_1
// smollm2.ffn_up 576x1536" -> "mv q4_1 ffn_up"); keep_model keeps the model.
std::string short_name(const std::string& name, bool keep_model) {
  static const std::map<std::string, std::string> kAbbrev = {
      {"matvec", "mv"}, {"matmul", "mm"}, {"attention", "attn"}, {"decode", "dec"}, {"prefill", "pf"}};
  static const char* const kModels[] = {"smollm2", "llama3-8b", "qwen2-7b"};
  std::istringstream in(name);
  std::string tok, out;
  bool first = true;
  while (in >> tok) {
    const bool dims =
        tok.find_first_not_of("0123456789x") == std::string::npos && tok.find('x') != std::string::npos;
    const bool count = tok.size() > 1 && (tok[0] == 'n' || tok[0] == 't') &&
                       tok.find_first_not_of("0123456789", 1) == std::string::npos;
    bool model = false;
    for (const char* m : kModels) model = model || tok == m;
    if (!first && (dims || count || tok == "f16kv" || (model && !keep_model))) continue;
    if (const size_t dot = tok.find('.'); dot != std::string::npos && !keep_model) tok = tok.substr(dot + 1);
    if (const auto it = kAbbrev.find(tok); it != kAbbrev.end()) tok = it->second;
    out += (out.empty() ? "" : " ") + tok;
    first = false;
  }
  return out.empty() ? name : out;
}

Svg roofline_chart(const std::vector<ChartSource>& sources) {
  struct Point {
    size_t source;
    double x, y;
    std::string name;
  };
  std::vector<Point> points;
  std::vector<size_t> used;
  for (size_t s = 0; s < sources.size(); ++s) {
    bool any = false;  // sources with op results only (an e2e-only file has no points)
    for (const Json* r : sources[s].results) {
      if (r->str("kind") != "op" || r->str("status", "ok") != "ok") continue;
      const double flop = r->num("flop"), bytes = r->num("bytes"), g = r->num("gflops");
      if (flop <= 0 || bytes <= 0 || g <= 0) continue;
      points.push_back({s, flop / bytes, g, r->str("name")});
      any = true;
    }
    if (any) used.push_back(s);
  }
  std::vector<std::vector<Roof>> roofs(sources.size());
  for (size_t s : used) roofs[s] = roofs_of(sources[s].device);
  // Axes: whole decades covering the points and the roofs' ridge points.
  double xmin = 1e30, xmax = 0, ymin = 1e30, ymax = 0;
  for (const Point& p : points) {
    xmin = std::min(xmin, p.x), xmax = std::max(xmax, p.x);
    ymin = std::min(ymin, p.y), ymax = std::max(ymax, p.y);
  }
  for (size_t s : used) {
    const double pf = sources[s].device.num("peak_gflops");
    if (pf <= 0 || roofs[s].empty()) continue;
    xmin = std::min(xmin, pf / roofs[s].front().gbps / 10),
    xmax = std::max(xmax, pf / roofs[s].back().gbps * 10);
    ymax = std::max(ymax, pf), ymin = std::min(ymin, pf / 100);
  }
  if (xmax <= 0) xmin = 0.1, xmax = 1000, ymin = 1, ymax = 1000;
  // Headroom above the highest ceiling for the roofs' labels.
  const double lx0 = decade(std::floor(std::log10(xmin))), lx1 = decade(std::ceil(std::log10(xmax)));
  const double ly0 = decade(std::floor(std::log10(ymin)));
  const double ly1 = decade(std::max(ly0 + 1, std::ceil(std::log10(ymax * 3))));
  const double left = 80, top = 60 + 18.0 * used.size(), pw = 640, ph = 420;
  auto X = [&](double x) { return left + pw * (std::log10(x) - lx0) / (lx1 - lx0); };
  auto Y = [&](double y) { return top + ph - ph * (std::log10(y) - ly0) / (ly1 - ly0); };

  // Labels: every roof at its ridge, then every point, each where it
  // overlaps no point and no label; when a point's short name finds no free
  // place, every point is numbered instead and the key lists the numbers.
  Placer roof_place({left + 2, top + 2, left + pw - 2, top + ph - 2});
  for (const Point& p : points) roof_place.block({X(p.x) - 4, Y(p.y) - 4, X(p.x) + 4, Y(p.y) + 4});
  struct Label {
    double x, cy;
    std::string text;
    size_t source;
    std::string level;      // roof labels
    std::string name;       // point labels
    double px = 0, py = 0;  // the labelled point
  };
  std::vector<Label> roof_labels;
  for (size_t s : used) {
    const double pf = sources[s].device.num("peak_gflops");
    if (pf <= 0) continue;
    for (const Roof& r : roofs[s]) {
      const std::string text =
          (r.level.empty() ? "" : r.level + " ") + fmt_num(r.gbps, r.gbps >= 100 ? "%.0f" : "%.3g") + " GB/s";
      const double rx = std::min(X(pf / r.gbps), left + pw), ry = Y(pf);
      const double w = 0.6 * 10 * static_cast<double>(glyphs(text));
      Box best = Placer::text_box(rx - 4 - w, ry - 9, text, 10);
      bool found = false;
      // Above the ceiling, ending at the ridge, stacked upwards; else below
      // it, right of the ridge, stacked downwards.
      for (int j = 0; j < 8 && !found; ++j)
        for (const Box& b : {Placer::text_box(rx - 4 - w, ry - 9 - 12 * j, text, 10),
                             Placer::text_box(rx + 4, ry + 9 + 12 * j, text, 10)})
          if (!found && roof_place.free(b)) best = b, found = true;
      roof_place.block(best);
      roof_labels.push_back({best.x0, (best.y0 + best.y1) / 2, text, s, r.level, ""});
    }
  }
  // Short names, made unique (the model kept where two models' would clash).
  std::map<std::string, std::string> shorts;
  {
    std::map<std::string, std::vector<std::string>> by_short;
    for (const Point& p : points)
      if (!shorts.count(p.name))
        shorts[p.name] = short_name(p.name, false), by_short[shorts[p.name]].push_back(p.name);
    for (auto& [sn, names] : by_short)
      if (names.size() > 1)
        for (const std::string& n : names) shorts[n] = short_name(n, true);
  }
  std::map<std::string, int> numbers;  // workload name -> key number, in order of first appearance
  for (const Point& p : points) numbers.try_emplace(p.name, static_cast<int>(numbers.size()) + 1);
  std::vector<Label> point_labels;
  bool numbered = false;
  for (int attempt = 0; attempt < 2; ++attempt) {
    numbered = attempt == 1;
    Placer place = roof_place;
    point_labels.clear();
    bool all_found = true;
    const int size = numbered ? 9 : 10;
    for (const Point& p : points) {
      const double px = X(p.x), py = Y(p.y);
      // One label for the points of one workload drawn on top of each other
      // (two sources alike).
      bool shared = false;
      for (const Label& l : point_labels)
        shared = shared || (l.name == p.name && std::abs(l.px - px) < 2 && std::abs(l.py - py) < 2);
      if (shared) continue;
      const std::string text = numbered ? std::to_string(numbers[p.name]) : shorts[p.name];
      const double w = 0.6 * size * static_cast<double>(glyphs(text)), h = size;
      bool found = false;
      Box best{};
      for (const double gap : numbered ? std::vector<double>{1, 6, 12} : std::vector<double>{1, 7})
        for (const auto& [dx, dy] :
             {std::pair{1, 0}, {-1, 0}, {0, -1}, {0, 1}, {1, -1}, {1, 1}, {-1, -1}, {-1, 1}}) {
          if (found) break;
          const double cx = px + dx * (4 + gap + w / 2), cy = py + dy * (4 + gap + h / 2);
          const Box b{cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2};
          if (place.free(b)) best = b, found = true;
        }
      if (!found) {
        all_found = false;
        if (!numbered) break;
        best = {px + 5, py - h / 2, px + 5 + w, py + h / 2};  // the right, overlapping
      }
      place.block(best);
      point_labels.push_back({best.x0, (best.y0 + best.y1) / 2, text, p.source, "", p.name, px, py});
    }
    if (all_found) break;
  }
  const size_t key_rows = numbered ? (numbers.size() + 1) / 2 : 0;
  Svg svg(static_cast<int>(left + pw + 40),
          static_cast<int>(top + ph + 60 + (key_rows ? 20 + 13.0 * key_rows : 0)));
  svg.text(10, 22, "Roofline: GFLOP/s vs FLOP/byte (log-log), a memory roof per level", "start", 16,
           " font-weight=\"bold\"");
  legend(svg, sources, used, 10, 46);
  for (double e = lx0; e <= lx1; ++e) {
    svg.line(X(std::pow(10, e)), top, X(std::pow(10, e)), top + ph, "#dddddd");
    svg.text(X(std::pow(10, e)), top + ph + 16, fmt_num(std::pow(10, e), "%g"), "middle", 11);
  }
  for (double e = ly0; e <= ly1; ++e) {
    svg.line(left, Y(std::pow(10, e)), left + pw, Y(std::pow(10, e)), "#dddddd");
    svg.text(left - 6, Y(std::pow(10, e)) + 4, fmt_num(std::pow(10, e), "%g"), "end", 11);
  }
  svg.body() << "<rect x=\"" << left << "\" y=\"" << top << "\" width=\"" << pw << "\" height=\"" << ph
             << "\" fill=\"none\" stroke=\"#333333\"/>\n";
  svg.text(left + pw / 2, top + ph + 40, "arithmetic intensity (FLOP/byte)", "middle", 12);
  svg.body() << "<text x=\"16\" y=\"" << top + ph / 2 << "\" font-size=\"12\" text-anchor=\"middle\" "
             << "transform=\"rotate(-90 16 " << top + ph / 2 << ")\">GFLOP/s</text>\n";
  // Roofs: intensity x bandwidth, one per level, from the left edge to where
  // it meets the compute ceiling (its ridge); the ceiling from the fastest
  // level's ridge to the right edge. The slowest level solid, the faster
  // ones dashed, each its own way.
  static const char* const kDashes[] = {"2,3", "8,3,2,3", "10,4", "4,4", "12,3,3,3,3,3"};
  const double x_lo = std::pow(10, lx0), x_hi = std::pow(10, lx1), y_lo = std::pow(10, ly0);
  for (size_t s : used) {
    const double pf = sources[s].device.num("peak_gflops");
    if (pf <= 0) continue;
    const std::string source_note = sources[s].label + " (" + sources[s].device.str("peak_source") + ")";
    for (size_t k = 0; k < roofs[s].size(); ++k) {
      const Roof& r = roofs[s][k];
      const double ridge = pf / r.gbps;
      std::ostringstream pts;
      for (const double x : {std::max(x_lo, y_lo / r.gbps), std::min(ridge, x_hi)})
        pts << fmt_num(X(x), "%.1f") << "," << fmt_num(Y(std::max(std::min(pf, x * r.gbps), y_lo)), "%.1f")
            << " ";
      const bool slowest = k + 1 == roofs[s].size();
      svg.body() << "<polyline class=\"roof\" data-source=\"" << s << "\" data-level=\""
                 << xml_escape(r.level) << "\" points=\"" << pts.str() << "\" fill=\"none\" stroke=\""
                 << color(s) << "\" stroke-width=\"" << (slowest ? 2 : 1.5) << "\""
                 << (slowest ? std::string() : std::string(" stroke-dasharray=\"") + kDashes[k % 5] + "\"")
                 << "><title>"
                 << xml_escape(source_note + ": " + (r.level.empty() ? "memory" : r.level) + " " +
                               fmt_num(r.gbps, "%.4g") + " GB/s")
                 << "</title></polyline>\n";
    }
    const double ridge = roofs[s].empty() ? x_lo : std::max(x_lo, pf / roofs[s].front().gbps);
    if (ridge < x_hi)
      svg.body() << "<line class=\"ceiling\" data-source=\"" << s << "\" x1=\"" << fmt_num(X(ridge), "%.1f")
                 << "\" y1=\"" << fmt_num(Y(pf), "%.1f") << "\" x2=\"" << fmt_num(X(x_hi), "%.1f")
                 << "\" y2=\"" << fmt_num(Y(pf), "%.1f") << "\" stroke=\"" << color(s)
                 << "\" stroke-width=\"2\"><title>"
                 << xml_escape(source_note + ": " + fmt_num(pf, "%.4g") + " GFLOP/s") << "</title></line>\n";
  }
  // Labels are drawn with a white halo, readable over the lines.
  const char* const halo = " stroke=\"white\" stroke-width=\"3\" paint-order=\"stroke\"";
  for (const Label& l : roof_labels)
    svg.body() << "<text class=\"roof-label\" data-source=\"" << l.source << "\" data-level=\""
               << xml_escape(l.level) << "\" x=\"" << fmt_num(l.x, "%.1f") << "\" y=\""
               << fmt_num(l.cy + 3.5, "%.1f") << "\" font-size=\"10\" fill=\"" << color(l.source) << "\""
               << halo << ">" << xml_escape(l.text) << "</text>\n";
  for (const Point& p : points)
    svg.body() << "<circle class=\"point\" data-source=\"" << p.source << "\" data-name=\""
               << xml_escape(p.name) << "\" cx=\"" << fmt_num(X(p.x), "%.1f") << "\" cy=\""
               << fmt_num(Y(p.y), "%.1f") << "\" r=\"4\" fill=\"" << color(p.source)
               << "\" fill-opacity=\"0.75\" stroke=\"#333333\" stroke-width=\"0.5\"><title>"
               << xml_escape(p.name + " [" + std::to_string(p.source) + "]: " + fmt_num(p.y, "%.4g") +
                             " GFLOP/s")
               << "</title></circle>\n";
  for (const Label& l : point_labels)
    svg.body() << "<text class=\"label\" data-source=\"" << l.source << "\" data-name=\""
               << xml_escape(l.name) << "\" x=\"" << fmt_num(l.x, "%.1f") << "\" y=\""
               << fmt_num(l.cy + (numbered ? 3.2 : 3.5), "%.1f") << "\" font-size=\"" << (numbered ? 9 : 10)
               << "\" fill=\"#333333\"" << halo << ">" << xml_escape(l.text) << "</text>\n";
  if (numbered) {
    const double ky = top + ph + 70;
    svg.text(left, ky - 4, "Points by number:", "start", 11, " font-weight=\"bold\"");
    for (const auto& [name, n] : numbers) {
      const size_t i = static_cast<size_t>(n - 1);
      svg.body() << "<text class=\"key\" data-name=\"" << xml_escape(name) << "\" x=\""
                 << fmt_num(i < key_rows ? left : left + pw / 2, "%.1f") << "\" y=\""
                 << fmt_num(ky + 13.0 * (1 + i % key_rows), "%.1f") << "\" font-size=\"10\">" << n << "  "
                 << xml_escape(name) << "</text>\n";
    }
  }
  return svg;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> render_svgs(const std::vector<ChartSource>& sources) {
  std::vector<size_t> used_ops, used_e2e;
  const std::vector<Group> ops = groups_of(sources, "op", &used_ops, op_share_percent, op_key);
  const std::vector<Group> e2e = groups_of(sources, "e2e", &used_e2e, e2e_tps, e2e_key);
  std::vector<size_t> used_tp;
  const std::vector<Group> tp = throughput_groups(sources, &used_tp);
  // Tokens/s on a log axis when they span more than 20x (a GPU beside a CPU,
  // a small model beside a large one): on a linear one the slow bars vanish.
  double lo = 0, hi = 0;
  for (const Group& g : e2e)
    for (const Bar& b : g.bars)
      if (b.value > 0) lo = lo > 0 ? std::min(lo, b.value) : b.value, hi = std::max(hi, b.value);
  const bool e2e_log = lo > 0 && hi > 20 * lo;
  return {
      {"ops", bar_chart("Op workloads: share of each device's own roofline (its roof for the working set)",
                        "roofline share (%)", ops, sources, used_ops)
                  .str()},
      {"throughput", bar_chart("Op workloads: attained throughput (log scale; GFLOP/s or GB/s per kind)",
                               "GFLOP/s (compute-bound kinds) or GB/s (memory-bound kinds), log scale", tp,
                               sources, used_tp, true)
                         .str()},
      {"e2e", bar_chart(std::string("End to end: tokens per second (pp = prefill, tg = decode)") +
                            (e2e_log ? ", log scale" : ""),
                        e2e_log ? "tokens/s, log scale" : "tokens/s", e2e, sources, used_e2e, e2e_log)
                  .str()},
      {"roofline", roofline_chart(sources).str()}};
}

bool write_svgs(const std::string& prefix, const std::vector<ChartSource>& sources, std::string* err) {
  for (const auto& [name, text] : render_svgs(sources)) {
    const std::string path = prefix + "-" + name + ".svg";
    std::ofstream f(path, std::ios::binary);
    f << text;
    f.close();
    if (!f) return *err = "cannot write " + path, false;
  }
  return true;
}

}  // namespace tessera_bench
