#include "tools/conformance/certificate.h"

#include <fmt/format.h>

#include "tessera/tessera.h"
#include "tools/common/cli.h"
#include "tools/conformance/conformance_git.h"

namespace tsr::conformance {
namespace {

struct Counts {
  int pass = 0, fail = 0, unsup = 0;
};

Counts count(const std::vector<CaseResult>& results) {
  Counts n;
  for (const CaseResult& r : results) {
    n.pass += r.outcome == Outcome::kPass;
    n.fail += r.outcome == Outcome::kFail;
    n.unsup += r.outcome == Outcome::kUnsupported;
  }
  return n;
}

}  // namespace

bool certified(const Certificate& c) { return count(*c.ops).fail == 0 && c.model->ran && c.model->pass; }

std::string format_certificate(const Certificate& c) {
  const Counts n = count(*c.ops);
  std::string s = "==== Tessera device certificate ====\n";
  s += fmt::format("device      {} ({}, {}) from {}\n", c.device, c.props.name, c.props.vendor, c.origin);
  s += fmt::format("driver      {}\n", c.props.driver);
  s += fmt::format("tessera     {} (commit {})\n", tsr_version(), TSR_CONFORMANCE_GIT_COMMIT);
  s += fmt::format("op cases    {} passed, {} failed, {} unsupported\n", n.pass, n.fail, n.unsup);
  s += format_matrix(*c.ops) + "\n";
  s += format_model_result(*c.model, c.thresholds);
  s += fmt::format("verdict     {}\n", certified(c) ? "CERTIFIED" : "NOT CERTIFIED");
  return s;
}

std::string certificate_json(const Certificate& c) {
  using tessera_tools::json_escape;
  const Counts n = count(*c.ops);
  return fmt::format(
      "{{\"certificate\": {{\"device\": \"{}\", \"origin\": \"{}\", \"device_name\": \"{}\", \"vendor\": "
      "\"{}\", "
      "\"driver\": \"{}\", \"tessera_version\": \"{}\", \"git_commit\": \"{}\", \"ops_passed\": {}, "
      "\"ops_failed\": {}, \"ops_unsupported\": {}, \"certified\": {}}},\n\"conformance\": {},\n\"model\": "
      "{}}}\n",
      json_escape(c.device), json_escape(c.origin), json_escape(c.props.name), json_escape(c.props.vendor),
      json_escape(c.props.driver), tsr_version(), TSR_CONFORMANCE_GIT_COMMIT, n.pass, n.fail, n.unsup,
      certified(c), results_json(c.device, c.props, *c.ops), model_result_json(*c.model, c.thresholds));
}

}  // namespace tsr::conformance
