// Reports: the op x dtype matrix, one line per case, and JSON for tooling.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "ops/op_schema.h"
#include "tessera/kit/dtype.h"
#include "tools/common/cli.h"
#include "tools/conformance/conformance.h"

namespace tsr::conformance {
namespace {

using tessera_tools::json_escape;

const char* outcome_name(Outcome o) {
  switch (o) {
    case Outcome::kPass:
      return "pass";
    case Outcome::kFail:
      return "fail";
    case Outcome::kUnsupported:
      return "unsupported";
  }
  return "?";
}

// JSON has no NaN/inf: they become null.
std::string json_number(double v) { return std::isfinite(v) ? fmt::format("{:.6g}", v) : "null"; }

}  // namespace

const std::vector<int32_t>& matrix_columns() {
  static const std::vector<int32_t> cols = {TSR_DTYPE_F32,  TSR_DTYPE_F16,  TSR_DTYPE_BF16, TSR_DTYPE_Q8_0,
                                            TSR_DTYPE_Q4_0, TSR_DTYPE_Q4_1, TSR_DTYPE_Q5_0, TSR_DTYPE_Q5_1,
                                            TSR_DTYPE_Q2_K, TSR_DTYPE_Q3_K, TSR_DTYPE_Q4_K, TSR_DTYPE_Q5_K,
                                            TSR_DTYPE_Q6_K};
  return cols;
}

std::string format_matrix(const std::vector<CaseResult>& results) {
  // Rows in first-seen order; per cell the count of each outcome.
  struct Counts {
    int pass = 0, unsup = 0, fail = 0;
  };
  std::vector<std::string> rows;
  std::map<std::pair<std::string, int32_t>, Counts> cell;
  for (const CaseResult& r : results) {
    if (std::find(rows.begin(), rows.end(), r.c->row) == rows.end()) rows.push_back(r.c->row);
    Counts& n = cell[{r.c->row, r.c->column}];
    ++(r.outcome == Outcome::kFail ? n.fail : r.outcome == Outcome::kUnsupported ? n.unsup : n.pass);
  }
  size_t w0 = 4;
  for (const std::string& row : rows) w0 = std::max(w0, row.size());
  std::string s = fmt::format("{:<{}}", "op", w0);
  for (int32_t col : matrix_columns()) s += fmt::format("  {:<6}", dtype_name(col));
  while (s.back() == ' ') s.pop_back();
  s += "\n";
  for (const std::string& row : rows) {
    std::string line = fmt::format("{:<{}}", row, w0);
    for (int32_t col : matrix_columns()) {
      auto it = cell.find({row, col});
      std::string text;
      if (it != cell.end()) {
        const Counts& n = it->second;
        text = n.fail     ? "FAIL"
               : !n.unsup ? "pass"
               : !n.pass  ? "unsup"
                          : fmt::format("{}/{}", n.pass, n.pass + n.unsup);  // some unsupported, none failed
      }
      line += fmt::format("  {:<6}", text);
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    s += line + "\n";
  }
  return s;
}

std::string format_result(const CaseResult& r) {
  const Case& c = *r.c;
  std::string s = fmt::format("{:<5} {} [{}] {}",
                              r.outcome == Outcome::kFail          ? "FAIL"
                              : r.outcome == Outcome::kUnsupported ? "unsup"
                                                                   : "pass",
                              c.row, dtype_name(c.column), c.name);
  if (r.outcome != Outcome::kUnsupported && r.cmp.max_err_index >= 0)
    s += fmt::format(": NMSE {:.3g} (tol {:.3g}{}), max abs error {:.3g} at {}", r.cmp.nmse, r.tol.nmse,
                     r.tol.exact ? ", exact" : "", r.cmp.max_abs_err, r.cmp.max_err_index);
  if (r.outcome != Outcome::kPass && !r.message.empty()) s += "\n      " + r.message;
  if (!r.first_mismatch_at.empty() && r.outcome == Outcome::kFail)
    s += "\n      first mismatch at output element " + r.first_mismatch_at;
  if (r.outcome == Outcome::kFail && !r.detail.empty()) s += "\n      node: " + r.detail;
  return s;
}

std::string results_json(const std::string& device, const tsr_device_props& props,
                         const std::vector<CaseResult>& results) {
  int counts[3] = {0, 0, 0};
  for (const CaseResult& r : results) ++counts[static_cast<int>(r.outcome)];
  std::string s = "{\n";
  s += fmt::format("  \"device\": \"{}\",\n", json_escape(device));
  s += fmt::format(
      "  \"props\": {{\"name\": \"{}\", \"vendor\": \"{}\", \"driver\": \"{}\", \"type\": {}, "
      "\"memory_bytes\": {}, \"peak_flops\": {}, \"peak_bandwidth\": {}}},\n",
      json_escape(props.name), json_escape(props.vendor), json_escape(props.driver), props.type,
      props.memory_bytes, json_number(props.peak_flops), json_number(props.peak_bandwidth));
  s += fmt::format("  \"summary\": {{\"passed\": {}, \"failed\": {}, \"unsupported\": {}}},\n", counts[0],
                   counts[1], counts[2]);
  s += "  \"cases\": [";
  for (size_t i = 0; i < results.size(); ++i) {
    const CaseResult& r = results[i];
    const Case& c = *r.c;
    s += i ? ",\n    " : "\n    ";
    s += fmt::format(
        "{{\"op\": \"{}\", \"row\": \"{}\", \"dtype\": \"{}\", \"case\": \"{}\", \"result\": \"{}\", "
        "\"nmse\": {}, \"max_abs_err\": {}, \"max_err_index\": {}, \"first_mismatch\": {}, "
        "\"tol_nmse\": {}, \"exact\": {}, \"seconds\": {}, \"message\": \"{}\", "
        "\"first_mismatch_at\": \"{}\", \"node\": \"{}\"}}",
        c.op == TSR_OP_NONE ? "subgraph" : ops::op_name(c.op), json_escape(c.row), dtype_name(c.column),
        json_escape(c.name), outcome_name(r.outcome), json_number(r.cmp.nmse), json_number(r.cmp.max_abs_err),
        r.cmp.max_err_index, r.cmp.first_mismatch, json_number(r.tol.nmse), r.tol.exact ? "true" : "false",
        json_number(r.seconds), json_escape(r.message), r.first_mismatch_at, json_escape(r.detail));
  }
  s += "\n  ]\n}\n";
  return s;
}

}  // namespace tsr::conformance
