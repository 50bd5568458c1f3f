// Statistics of repeated runs: order statistics, the mean with its 95%
// Student-t interval, and the speed ratio of two sample sets with a Welch
// interval taken on log times (so a ratio and its inverse get the same
// interval, and the ratio is one of geometric means: robust to one slow run
// more than a ratio of arithmetic means).
#include <algorithm>
#include <cmath>

#include "tools/bench/bench.h"

namespace tessera_bench {
namespace {

// Linear interpolation between order statistics (sorted input).
double percentile(const std::vector<double>& s, double q) {
  if (s.empty()) return 0;
  const double pos = q * static_cast<double>(s.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, s.size() - 1);
  return s[lo] + (s[hi] - s[lo]) * (pos - static_cast<double>(lo));
}

struct MeanVar {
  double mean = 0, var = 0;  // var: the unbiased sample variance (0 for one value)
  size_t n = 0;
};
MeanVar mean_var(const std::vector<double>& v) {
  MeanVar m;
  m.n = v.size();
  if (v.empty()) return m;
  for (double x : v) m.mean += x;
  m.mean /= static_cast<double>(v.size());
  if (v.size() < 2) return m;
  for (double x : v) m.var += (x - m.mean) * (x - m.mean);
  m.var /= static_cast<double>(v.size() - 1);
  return m;
}

std::vector<double> logs(const std::vector<double>& v) {
  std::vector<double> o;
  for (double x : v)
    if (x > 0 && std::isfinite(x)) o.push_back(std::log(x));
  return o;
}

}  // namespace

double t_quantile_975(double df) {
  // Two-sided 95%: exact table to 30 degrees of freedom, then the
  // Cornish-Fisher expansion around the normal quantile (error < 1e-3).
  static const double kTable[] = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
                                  2.201,  2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
                                  2.080,  2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042};
  if (!(df >= 1)) return kTable[0];
  if (df <= 30 && df == std::floor(df)) return kTable[static_cast<int>(df) - 1];
  if (df < 30) {  // Welch's fractional degrees of freedom: interpolate the table
    const int lo = static_cast<int>(std::floor(df));
    return kTable[lo - 1] + (kTable[lo] - kTable[lo - 1]) * (df - lo);
  }
  const double z = 1.959964, z3 = z * z * z, z5 = z3 * z * z;
  return z + (z3 + z) / (4 * df) + (5 * z5 + 16 * z3 + 3 * z) / (96 * df * df);
}

Summary summarize(std::vector<double> samples) {
  Summary s;
  s.samples = samples;
  if (samples.empty()) return s;
  std::sort(samples.begin(), samples.end());
  s.min = samples.front();
  s.max = samples.back();
  s.median = percentile(samples, 0.5);
  s.p10 = percentile(samples, 0.1);
  s.p90 = percentile(samples, 0.9);
  s.spread = s.median > 0 ? (s.p90 - s.p10) / s.median : 0;
  const MeanVar m = mean_var(samples);
  s.mean = m.mean;
  s.stddev = std::sqrt(m.var);
  s.cv = s.mean > 0 ? s.stddev / s.mean : 0;
  // The interval is taken on logs: run times (and rates) are positive and
  // skewed by the odd slow run, and an arithmetic t-interval of three runs
  // with one outlier reaches below zero.
  const MeanVar lm = mean_var(logs(samples));
  s.gmean = lm.n > 0 ? std::exp(lm.mean) : 0;
  if (lm.n >= 2) {
    const double h =
        t_quantile_975(static_cast<double>(lm.n - 1)) * std::sqrt(lm.var / static_cast<double>(lm.n));
    s.ci95_low = std::exp(lm.mean - h);
    s.ci95_high = std::exp(lm.mean + h);
  }
  return s;
}

bool log_interval(const std::vector<double>& seconds, double* lo, double* hi) {
  const MeanVar m = mean_var(logs(seconds));
  if (m.n < 2) return false;
  const double h = t_quantile_975(static_cast<double>(m.n - 1)) * std::sqrt(m.var / static_cast<double>(m.n));
  *lo = m.mean - h;
  *hi = m.mean + h;
  return true;
}

SpeedRatio speed_ratio(const std::vector<double>& base_seconds, const std::vector<double>& seconds) {
  SpeedRatio r;
  const MeanVar a = mean_var(logs(base_seconds)), b = mean_var(logs(seconds));
  if (a.n == 0 || b.n == 0) return r;
  const double d = a.mean - b.mean;  // log(base time / this time): above 0 = faster
  r.ratio = std::exp(d);
  if (a.n < 2 || b.n < 2) return r;
  const double va = a.var / static_cast<double>(a.n), vb = b.var / static_cast<double>(b.n);
  const double se = std::sqrt(va + vb);
  // Welch-Satterthwaite degrees of freedom; identical samples (se = 0) give
  // a zero-width interval.
  const double df =
      se > 0 ? (va + vb) * (va + vb) /
                   (va * va / static_cast<double>(a.n - 1) + vb * vb / static_cast<double>(b.n - 1))
             : static_cast<double>(a.n + b.n - 2);
  const double h = t_quantile_975(df) * se;
  r.low = std::exp(d - h);
  r.high = std::exp(d + h);
  r.has_interval = true;
  double alo, ahi, blo, bhi;
  r.overlap =
      log_interval(base_seconds, &alo, &ahi) && log_interval(seconds, &blo, &bhi) && alo <= bhi && blo <= ahi;
  return r;
}

}  // namespace tessera_bench
