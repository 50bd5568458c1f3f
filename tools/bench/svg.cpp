// The charts of tessera-bench compare, as hand-written SVG:
//   PREFIX-ops.svg       horizontal bars grouped per op workload, one bar per
//                        source: roofline share in percent
//   PREFIX-e2e.svg       bars grouped per e2e test, one per source: tokens/s
//   PREFIX-roofline.svg  log-log arithmetic intensity (FLOP/byte) vs GFLOP/s:
//                        each source's roof and its op results as points
// Marks carry class="bar|point|roof" and data-source="<index>" so tests (and
// scripts) can find them.
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

std::string esc(const std::string& s) {
  std::string o;
  for (const char c : s) switch (c) {
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
        o += "&apos;";
        break;
      default:
        o += c;
    }
  return o;
}

// "[i] ": how a source is tagged on charts and tables.
std::string tag(size_t i) {
  std::string s(1, '[');
  s += std::to_string(i);
  s += "] ";
  return s;
}

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
       << "\" text-anchor=\"" << anchor << "\"" << extra << ">" << esc(s) << "</text>\n";
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
    svg.text(x + 18, yy, tag(used[k]) + sources[used[k]].label);
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
};

// Horizontal grouped bars: a label column, one bar per source in each group.
Svg bar_chart(const std::string& title, const std::string& unit, const std::vector<Group>& groups,
              const std::vector<ChartSource>& sources, const std::vector<size_t>& used) {
  const double label_w = 380, plot_w = 560, bar_h = 12, gap = 10, top = 60 + 18.0 * used.size();
  double height = top + 40;
  for (const Group& g : groups) height += std::max<size_t>(g.bars.size(), 1) * bar_h + gap;
  double vmax = 0;
  for (const Group& g : groups)
    for (const Bar& b : g.bars) vmax = std::max(vmax, b.value);
  if (vmax <= 0) vmax = 1;
  // A round axis end: 1, 2 or 5 times a power of ten.
  const double p10 = std::pow(10.0, std::floor(std::log10(vmax)));
  double axis = p10;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * p10 >= vmax) {
      axis = m * p10;
      break;
    }
  Svg svg(static_cast<int>(label_w + plot_w + 90), static_cast<int>(height));
  svg.text(10, 22, title, "start", 16, " font-weight=\"bold\"");
  legend(svg, sources, used, 10, 46);
  const double x0 = label_w;
  // Grid and axis labels.
  for (int t = 0; t <= 5; ++t) {
    const double x = x0 + plot_w * t / 5.0;
    svg.line(x, top - 6, x, height - 34, "#dddddd");
    svg.text(x, height - 20, fmt_num(axis * t / 5.0, "%.4g"), "middle", 11);
  }
  svg.text(x0 + plot_w / 2, height - 6, unit, "middle", 12);
  double y = top;
  for (const Group& g : groups) {
    const double gh = std::max<size_t>(g.bars.size(), 1) * bar_h;
    svg.text(x0 - 8, y + gh / 2 + 4, g.label, "end", 11);
    for (const Bar& b : g.bars) {
      if (b.value > 0) {
        const double w = std::max(1.0, plot_w * b.value / axis);
        svg.body() << "<rect class=\"bar\" data-source=\"" << b.source << "\" x=\"" << x0 << "\" y=\""
                   << fmt_num(y + 1, "%.1f") << "\" width=\"" << fmt_num(w, "%.1f") << "\" height=\""
                   << bar_h - 2 << "\" fill=\"" << color(b.source) << "\"><title>"
                   << esc(sources[b.source].label + ": " + fmt_num(b.value, "%.4g") + " " + unit)
                   << "</title></rect>\n";
        svg.text(x0 + w + 4, y + bar_h - 2, fmt_num(b.value, "%.3g"), "start", 10);
      } else {
        svg.text(x0 + 4, y + bar_h - 2, tag(b.source) + b.note, "start", 10, " fill=\"#888888\"");
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
      if (fresh) groups.push_back({k, {}});
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
  // Axes: whole decades covering the points and the roofs' ridge points.
  double xmin = 1e30, xmax = 0, ymin = 1e30, ymax = 0;
  for (const Point& p : points) {
    xmin = std::min(xmin, p.x), xmax = std::max(xmax, p.x);
    ymin = std::min(ymin, p.y), ymax = std::max(ymax, p.y);
  }
  for (size_t s : used) {
    const double pf = sources[s].device.num("peak_gflops"), bw = sources[s].device.num("peak_gbps");
    if (pf > 0 && bw > 0) {
      xmin = std::min(xmin, pf / bw / 10), xmax = std::max(xmax, pf / bw * 10);
      ymax = std::max(ymax, pf), ymin = std::min(ymin, pf / 100);
    }
  }
  if (xmax <= 0) xmin = 0.1, xmax = 1000, ymin = 1, ymax = 1000;
  // At most the decades a double spans: a peak or a point of infinity (a
  // file's 1e999) or one whose ratio underflows to 0 would otherwise give an
  // infinite bound, and the grid loops below would never end (found by
  // fuzz_bench_json). NaN bounds draw no grid lines.
  const auto decade = [](double e) { return std::clamp(e, -324.0, 309.0); };
  const double lx0 = decade(std::floor(std::log10(xmin))), lx1 = decade(std::ceil(std::log10(xmax)));
  const double ly0 = decade(std::floor(std::log10(ymin)));
  const double ly1 = decade(std::max(ly0 + 1, std::ceil(std::log10(ymax * 1.5))));
  const double left = 80, top = 60 + 18.0 * used.size(), pw = 640, ph = 420;
  Svg svg(static_cast<int>(left + pw + 40), static_cast<int>(top + ph + 60));
  auto X = [&](double x) { return left + pw * (std::log10(x) - lx0) / (lx1 - lx0); };
  auto Y = [&](double y) { return top + ph - ph * (std::log10(y) - ly0) / (ly1 - ly0); };
  svg.text(10, 22, "Roofline: attained GFLOP/s vs arithmetic intensity (log-log)", "start", 16,
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
  // Roofs: min(peak, intensity * bandwidth), sampled along x (a line and a flat top).
  for (size_t s : used) {
    const double pf = sources[s].device.num("peak_gflops"), bw = sources[s].device.num("peak_gbps");
    if (pf <= 0 || bw <= 0) continue;
    const double x_lo = std::pow(10, lx0), x_hi = std::pow(10, lx1), ridge = pf / bw;
    std::ostringstream pts;
    auto pt = [&](double x) {
      const double y = std::max(std::min(pf, x * bw), std::pow(10, ly0));
      pts << fmt_num(X(x), "%.1f") << "," << fmt_num(Y(y), "%.1f") << " ";
    };
    pt(std::max(x_lo, std::pow(10, ly0) / bw));
    if (ridge > x_lo && ridge < x_hi) pt(ridge);
    pt(x_hi);
    svg.body() << "<polyline class=\"roof\" data-source=\"" << s << "\" points=\"" << pts.str()
               << "\" fill=\"none\" stroke=\"" << color(s)
               << "\" stroke-width=\"2\" stroke-dasharray=\"6,3\"><title>"
               << esc(sources[s].label + ": " + fmt_num(pf, "%.4g") + " GFLOP/s, " + fmt_num(bw, "%.4g") +
                      " GB/s (" + sources[s].device.str("peak_source") + ")")
               << "</title></polyline>\n";
  }
  for (const Point& p : points)
    svg.body() << "<circle class=\"point\" data-source=\"" << p.source << "\" cx=\""
               << fmt_num(X(p.x), "%.1f") << "\" cy=\"" << fmt_num(Y(p.y), "%.1f") << "\" r=\"4\" fill=\""
               << color(p.source)
               << "\" fill-opacity=\"0.75\" stroke=\"#333333\" stroke-width=\"0.5\"><title>"
               << esc(p.name + " [" + std::to_string(p.source) + "]: " + fmt_num(p.y, "%.4g") + " GFLOP/s")
               << "</title></circle>\n";
  return svg;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> render_svgs(const std::vector<ChartSource>& sources) {
  std::vector<size_t> used_ops, used_e2e;
  const std::vector<Group> ops = groups_of(sources, "op", &used_ops, op_share_percent, op_key);
  const std::vector<Group> e2e = groups_of(sources, "e2e", &used_e2e, e2e_tps, e2e_key);
  return {{"ops", bar_chart("Op workloads: share of the device's roofline", "roofline share (%)", ops,
                            sources, used_ops)
                      .str()},
          {"e2e", bar_chart("End to end: tokens per second (pp = prefill, tg = decode)", "tokens/s", e2e,
                            sources, used_e2e)
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
