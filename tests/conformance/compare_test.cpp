// The conformance metrics: what passes, what fails and what is reported.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "tools/conformance/conformance.h"

namespace tsr::conformance {
namespace {

std::vector<float> ramp(int n) {
  std::vector<float> v(n);
  for (int i = 0; i < n; ++i) v[i] = std::sin(0.37f * i) * 3.0f;
  return v;
}

const Tolerance kTight{1e-10, 1e-4, false, "test"};

TEST(ConformanceCompare, identical_arrays_pass_with_zero_error) {
  const std::vector<float> ref = ramp(100);
  const CompareResult r = compare(ref.data(), ref.data(), 100, kTight);
  EXPECT_TRUE(r.pass) << r.message;
  EXPECT_EQ(r.nmse, 0.0);
  EXPECT_EQ(r.max_abs_err, 0.0);
  EXPECT_EQ(r.first_mismatch, -1);
  EXPECT_TRUE(compare(ref.data(), ref.data(), 100, Tolerance{0, 0, true, "exact"}).pass);
}

TEST(ConformanceCompare, single_nan_fails_and_is_located) {
  const std::vector<float> ref = ramp(100);
  std::vector<float> y = ref;
  y[41] = std::numeric_limits<float>::quiet_NaN();
  const CompareResult r = compare(y.data(), ref.data(), 100, Tolerance{1.0, 0.0, false, "loose"});
  EXPECT_FALSE(r.pass);
  EXPECT_EQ(r.n_nonfinite, 1);
  EXPECT_EQ(r.first_mismatch, 41);
  EXPECT_NE(r.message.find("non-finite"), std::string::npos) << r.message;
}

TEST(ConformanceCompare, inf_where_reference_is_finite_fails) {
  const std::vector<float> ref = ramp(10);
  std::vector<float> y = ref;
  y[3] = std::numeric_limits<float>::infinity();
  EXPECT_FALSE(compare(y.data(), ref.data(), 10, Tolerance{1.0, 0.0, false, "loose"}).pass);
}

TEST(ConformanceCompare, matching_non_finite_values_agree) {
  std::vector<float> ref = ramp(10);
  ref[2] = -std::numeric_limits<float>::infinity();
  ref[5] = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> y = ref;
  const CompareResult r = compare(y.data(), ref.data(), 10, kTight);
  EXPECT_TRUE(r.pass) << r.message;
  std::vector<float> flipped = ref;
  flipped[2] = std::numeric_limits<float>::infinity();  // -inf expected, +inf got
  EXPECT_FALSE(compare(flipped.data(), ref.data(), 10, kTight).pass);
}

TEST(ConformanceCompare, perturbed_array_exceeds_tolerance_with_metrics) {
  const std::vector<float> ref = ramp(200);
  std::vector<float> y = ref;
  for (size_t i = 0; i < y.size(); ++i) y[i] *= 1.0f + 1e-3f;  // NMSE 1e-6
  const CompareResult r = compare(y.data(), ref.data(), 200, kTight);
  EXPECT_FALSE(r.pass);
  EXPECT_NEAR(r.nmse, 1e-6, 1e-7);
  EXPECT_GT(r.max_abs_err, 0.0);
  EXPECT_GE(r.first_mismatch, 0);
  EXPECT_NE(r.message.find("NMSE"), std::string::npos) << r.message;
  // The same perturbation is within a bf16-style tolerance.
  EXPECT_TRUE(compare(y.data(), ref.data(), 200, Tolerance{5e-5, 0.07, false, "bf16"}).pass);
}

TEST(ConformanceCompare, one_outlier_fails_the_max_error_bound_though_nmse_passes) {
  std::vector<float> ref(10000, 1.0f);
  std::vector<float> y = ref;
  y[1234] = 1.5f;  // NMSE 2.5e-5, max error 0.5 of max|ref| 1
  const CompareResult r = compare(y.data(), ref.data(), 10000, Tolerance{1e-4, 0.1, false, "t"});
  EXPECT_FALSE(r.pass);
  EXPECT_EQ(r.max_err_index, 1234);
  EXPECT_EQ(r.first_mismatch, 1234);
}

TEST(ConformanceCompare, exact_tolerance_rejects_one_ulp) {
  const std::vector<float> ref = {0.0f, 1.0f, 2.0f, 3.0f};
  std::vector<float> y = ref;
  y[2] = std::nextafter(2.0f, 3.0f);
  const CompareResult r = compare(y.data(), ref.data(), 4, Tolerance{0, 0, true, "exact"});
  EXPECT_FALSE(r.pass);
  EXPECT_EQ(r.first_mismatch, 2);
}

TEST(ConformanceCompare, all_zero_reference_needs_all_zero_output) {
  const std::vector<float> ref(8, 0.0f);
  std::vector<float> y = ref;
  EXPECT_TRUE(compare(y.data(), ref.data(), 8, kTight).pass);
  y[7] = 1e-3f;
  EXPECT_FALSE(compare(y.data(), ref.data(), 8, kTight).pass);
}

// Collectives are run by core, never by a backend: they have no cases (the
// comm tests cover them).
TEST(ConformanceCases, every_non_view_op_has_cases_and_seeds_are_distinct) {
  const std::vector<Case> cases = all_cases();
  std::vector<int> per_op(TSR_OP_COUNT, 0);
  for (const Case& c : cases) ++per_op[c.op];
  for (int op = TSR_OP_GET_ROWS; op < TSR_OP_COUNT; ++op) {
    const bool none = op == TSR_OP_RESHAPE || op == TSR_OP_VIEW || op == TSR_OP_PERMUTE ||
                      op == TSR_OP_ALL_REDUCE || op == TSR_OP_ALL_GATHER;
    EXPECT_EQ(per_op[op] == 0, none) << "op " << op;
  }
  for (size_t i = 1; i < cases.size(); ++i) EXPECT_NE(cases[i].seed, cases[i - 1].seed) << cases[i].name;
}

}  // namespace
}  // namespace tsr::conformance
