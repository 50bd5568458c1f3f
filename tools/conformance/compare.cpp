// Comparison metrics: NMSE, max abs error, non-finite checks.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "tools/conformance/conformance.h"

namespace tsr::conformance {
namespace {

// 0 finite, 1 NaN, 2 +inf, 3 -inf.
int fp_class(float v) {
  if (std::isnan(v)) return 1;
  if (std::isinf(v)) return v > 0 ? 2 : 3;
  return 0;
}

}  // namespace

CompareResult compare(const float* y, const float* ref, int64_t n, const Tolerance& tol) {
  CompareResult r;
  double err2 = 0.0, ref2 = 0.0, ref_max = 0.0;
  int64_t first_nonfinite = -1;
  for (int64_t i = 0; i < n; ++i) {
    const int cy = fp_class(y[i]), cr = fp_class(ref[i]);
    if (cy != cr) {
      ++r.n_nonfinite;
      if (first_nonfinite < 0) first_nonfinite = i;
      continue;
    }
    if (cr != 0) continue;  // same non-finite kind: agrees
    const double e = std::fabs(static_cast<double>(y[i]) - ref[i]);
    err2 += e * e;
    ref2 += static_cast<double>(ref[i]) * ref[i];
    ref_max = std::max(ref_max, std::fabs(static_cast<double>(ref[i])));
    if (e > r.max_abs_err || r.max_err_index < 0) {
      r.max_abs_err = e;
      r.max_err_index = i;
    }
  }
  // A reference of all zeros (or all tiny) must be matched to the same tiny level.
  constexpr double kTiny = 1e-30;
  r.nmse = err2 / std::max(ref2, kTiny);

  // Element threshold for "first mismatch": exact equality, or the larger of
  // the max-error bound and the error that alone would use up the NMSE budget
  // spread evenly (rms of the allowed error).
  const double rms_allowed = n > 0 ? std::sqrt(tol.nmse * ref2 / static_cast<double>(n)) : 0.0;
  const double elem_tol = tol.exact ? 0.0 : std::max(tol.max_rel * ref_max, rms_allowed);
  for (int64_t i = 0; i < n; ++i) {
    const int cy = fp_class(y[i]), cr = fp_class(ref[i]);
    const bool bad = cy != cr || (cr == 0 && std::fabs(static_cast<double>(y[i]) - ref[i]) > elem_tol);
    if (bad) {
      r.first_mismatch = i;
      break;
    }
  }

  if (r.n_nonfinite > 0) {
    r.message = fmt::format("{} non-finite mismatches, first at {}: got {}, expected {}", r.n_nonfinite,
                            first_nonfinite, y[first_nonfinite], ref[first_nonfinite]);
  } else if (tol.exact) {
    if (r.max_abs_err > 0.0)
      r.message = fmt::format("not exact: max abs error {:.3g} at {} (got {}, expected {})", r.max_abs_err,
                              r.max_err_index, y[r.max_err_index], ref[r.max_err_index]);
  } else if (!(r.nmse <= tol.nmse)) {
    r.message = fmt::format("NMSE {:.3g} > {:.3g}", r.nmse, tol.nmse);
  } else if (tol.max_rel > 0.0 && r.max_abs_err > tol.max_rel * ref_max) {
    r.message = fmt::format("max abs error {:.3g} at {} > {:.3g} * max|ref| {:.3g}", r.max_abs_err,
                            r.max_err_index, tol.max_rel, ref_max);
  }
  r.pass = r.message.empty();
  if (!r.pass && r.first_mismatch >= 0)
    r.message += fmt::format("; first mismatch at {}: got {}, expected {}", r.first_mismatch,
                             y[r.first_mismatch], ref[r.first_mismatch]);
  return r;
}

}  // namespace tsr::conformance
