// The conformance report: matrix cells summarise their cases without hiding
// any, and a failure carries what is needed to reproduce it.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tools/conformance/conformance.h"

namespace tsr::conformance {
namespace {

Case make_case(const std::string& row, int32_t column, const std::string& name) {
  Case c;
  c.op = TSR_OP_ADD;
  c.row = row;
  c.column = column;
  c.name = name;
  return c;
}

CaseResult result(const Case& c, Outcome o) {
  CaseResult r;
  r.c = &c;
  r.outcome = o;
  return r;
}

// The cell text of row `row`, column 0 (f32) of the matrix.
std::string f32_cell(const std::string& matrix, const std::string& row) {
  const size_t at = matrix.find("\n" + row + " ");
  if (at == std::string::npos) return "(row missing)";
  const size_t begin = matrix.find_first_not_of(' ', at + 1 + row.size());
  return matrix.substr(begin, matrix.find_first_of(" \n", begin) - begin);
}

TEST(ConformanceReport, a_cell_counts_its_cases) {
  const Case a1 = make_case("add", TSR_DTYPE_F32, "a1"), a2 = make_case("add", TSR_DTYPE_F32, "a2");
  const Case m1 = make_case("mul", TSR_DTYPE_F32, "m1"), m2 = make_case("mul", TSR_DTYPE_F32, "m2");
  const Case m3 = make_case("mul", TSR_DTYPE_F32, "m3");
  const Case s1 = make_case("sub", TSR_DTYPE_F32, "s1"), s2 = make_case("sub", TSR_DTYPE_F32, "s2");
  const Case d1 = make_case("div", TSR_DTYPE_F32, "d1");
  const std::vector<CaseResult> rs = {result(a1, Outcome::kPass), result(a2, Outcome::kPass),
                                      result(m1, Outcome::kPass), result(m2, Outcome::kUnsupported),
                                      result(m3, Outcome::kPass), result(s1, Outcome::kUnsupported),
                                      result(s2, Outcome::kFail), result(d1, Outcome::kUnsupported)};
  const std::string m = format_matrix(rs);
  EXPECT_EQ(f32_cell(m, "add"), "pass") << m;
  EXPECT_EQ(f32_cell(m, "mul"), "2/3") << m;  // one unsupported case no longer hides two passes
  EXPECT_EQ(f32_cell(m, "sub"), "FAIL") << m;
  EXPECT_EQ(f32_cell(m, "div"), "unsup") << m;
}

TEST(ConformanceReport, a_failure_names_the_node_and_the_mismatch_coordinates) {
  const Case c = make_case("add", TSR_DTYPE_F32, "strided_a_rows");
  CaseResult r = result(c, Outcome::kFail);
  r.message = "NMSE 1 > 1e-10";
  r.detail = "a f32 [37, 6] nb [4, 192] +12 -> f32 [37, 6]";
  r.first_mismatch_at = "(3, 1, 0, 0)";
  const std::string s = format_result(r);
  EXPECT_NE(s.find("strided_a_rows"), std::string::npos) << s;
  EXPECT_NE(s.find("node: a f32 [37, 6] nb [4, 192] +12"), std::string::npos) << s;
  EXPECT_NE(s.find("output element (3, 1, 0, 0)"), std::string::npos) << s;
}

}  // namespace
}  // namespace tsr::conformance
