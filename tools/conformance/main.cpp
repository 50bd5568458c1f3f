// tessera-conformance: runs every op over the case table on one device and
// compares with the reference. Exit codes: 0 all ran cases passed, 1 a case
// failed (or, with --expect-all-unsupported, a case ran), 2 usage, plugin or
// device error.
//
//   tessera-conformance --device cpu
//   tessera-conformance --plugin ./libmy_backend.so --device my_backend --json out.json
//   tessera-conformance --plugin ./libmy_backend.so --device my_backend --model SmolLM2.gguf
// With --model, the op cases are followed by the model gate (model_gate.h)
// and a certificate; the exit code is 0 only when the device is certified.
#include <fmt/format.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "backends/builtin_backends.h"
#include "core/registry.h"
#include "ops/op_schema.h"
#include "tessera/kit/dtype.h"
#include "tools/common/cli.h"
#include "tools/conformance/certificate.h"
#include "tools/conformance/conformance.h"
#include "tools/conformance/conformance_git.h"
#include "tools/conformance/model_gate.h"

namespace {

using namespace tsr;
using namespace tsr::conformance;

constexpr const char* kUsage =
    "usage: tessera-conformance [--device NAME] [--plugin PATH]... [--op NAME] [--case TEXT] [--verbose]\n"
    "                           [--list] [--json PATH] [--expect-all-unsupported]\n"
    "                           [--model FILE.gguf [--prompt TEXT] [--greedy N]]\n"
    "  --device NAME   device to certify (\"cpu\", \"cpu:0\", a plugin's name); default cpu\n"
    "  --plugin PATH   load a backend plugin (repeatable)\n"
    "  --op NAME       only the cases of this op (\"matmul\")\n"
    "  --case TEXT     only the cases whose name contains TEXT (\"inplace_\", \"block_\")\n"
    "  --verbose       one line per case, not only failures\n"
    "  --list          list the cases and their tolerances, run nothing\n"
    "  --json PATH     write the device, its props and every case result\n"
    "  --expect-all-unsupported  fail if any case ran (for the null backend: unsupported, never passed)\n"
    "  --model FILE    after the op cases, run this GGUF model on the device against the cpu (prompt\n"
    "                  logits: mean KL <= 1e-3, max KL <= 5e-2, top-1 agreement >= 0.98; N greedy\n"
    "                  tokens identical up to a near tie, gap < 0.05) and print a certificate;\n"
    "                  --json then writes the certificate\n"
    "  --prompt TEXT   the gate's prompt (default: an English paragraph of ~100 tokens)\n"
    "  --greedy N      greedy tokens compared (default 16)\n";

struct Args {
  std::string device = "cpu";
  std::vector<std::string> plugins;
  std::string op, case_text, json, model, prompt;
  int64_t greedy = 16;
  bool verbose = false, list = false, expect_all_unsupported = false;
};

bool parse(int argc, char** argv, Args* a) {
  for (int i = 1; i < argc; ++i) {
    const std::string s = argv[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "tessera-conformance: %s needs a value\n", s.c_str());
        return false;
      }
      *out = argv[++i];
      return true;
    };
    std::string plugin;
    if (s == "--device") {
      if (!value(&a->device)) return false;
    } else if (s == "--plugin") {
      if (!value(&plugin)) return false;
      a->plugins.push_back(plugin);
    } else if (s == "--op") {
      if (!value(&a->op)) return false;
    } else if (s == "--case") {
      if (!value(&a->case_text)) return false;
    } else if (s == "--json") {
      if (!value(&a->json)) return false;
    } else if (s == "--model") {
      if (!value(&a->model)) return false;
    } else if (s == "--prompt") {
      if (!value(&a->prompt)) return false;
    } else if (s == "--greedy") {
      std::string v;
      if (!value(&v)) return false;
      if (!tessera_tools::parse_int(v.c_str(), 1, 256, &a->greedy)) {
        std::fprintf(stderr, "tessera-conformance: --greedy '%s' is not an integer in [1, 256]\n", v.c_str());
        return false;
      }
    } else if (s == "--verbose" || s == "-v") {
      a->verbose = true;
    } else if (s == "--list") {
      a->list = true;
    } else if (s == "--expect-all-unsupported") {
      a->expect_all_unsupported = true;
    } else if (s == "--help" || s == "-h") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    } else {
      std::fprintf(stderr, "tessera-conformance: unknown argument '%s'\n%s", s.c_str(), kUsage);
      return false;
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (tessera_tools::version_asked(argc, argv))
    return tessera_tools::print_version("tessera-conformance", TSR_CONFORMANCE_GIT_COMMIT);
  Args args;
  if (!parse(argc, argv, &args)) return 2;

  std::vector<Case> cases = all_cases();
  if (!args.op.empty()) {
    const int32_t op = ops::op_from_name(args.op);
    if (op < 0) {
      std::fprintf(stderr, "tessera-conformance: unknown op '%s'\n", args.op.c_str());
      return 2;
    }
    std::erase_if(cases, [&](const Case& c) { return c.op != op; });
    if (cases.empty()) {
      std::fprintf(stderr, "tessera-conformance: no cases for op '%s' (view ops are exercised as inputs)\n",
                   args.op.c_str());
      return 2;
    }
  }
  if (!args.case_text.empty()) {
    std::erase_if(cases, [&](const Case& c) { return c.name.find(args.case_text) == std::string::npos; });
    if (cases.empty()) {
      std::fprintf(stderr, "tessera-conformance: no case name contains '%s' (--list shows them)\n",
                   args.case_text.c_str());
      return 2;
    }
  }
  if (args.list) {
    for (const Case& c : cases) {
      const Tolerance t = tolerance_for(c);
      fmt::print("{} [{}] {}: {}\n", c.row, dtype_name(c.column), c.name,
                 t.exact ? std::string("exact") : fmt::format("NMSE <= {:.3g}", t.nmse));
      if (args.verbose) fmt::print("    {}\n", t.why);
    }
    fmt::print("{} cases\n", cases.size());
    return 0;
  }

  tsr_backend_options options{};
  options.struct_size = sizeof(options);
  Registry registry(options);
  for (const tsr_backend_iface* iface : builtin_backends()) {
    if (Status s = registry.add_backend(iface, "built-in"); !s.is_ok())
      std::fprintf(stderr, "tessera-conformance: built-in backend: %s\n", s.message().c_str());
  }
  for (const std::string& path : args.plugins) {
    if (Status s = registry.load_plugin(path); !s.is_ok()) {
      std::fprintf(stderr, "tessera-conformance: plugin %s: %s\n", path.c_str(), s.message().c_str());
      return 2;
    }
  }
  auto dev = registry.find_device(args.device);
  if (!dev.is_ok()) {
    std::fprintf(stderr, "tessera-conformance: device '%s': %s\n", args.device.c_str(),
                 dev.status().message().c_str());
    return 2;
  }
  const Device& device = registry.devices()[dev.value()];
  fmt::print("device {} ({}, {}, driver {}) from {}\n", device.name, device.props.name, device.props.vendor,
             device.props.driver, device.backend->origin());

  std::vector<CaseResult> results;
  results.reserve(cases.size());
  int n_pass = 0, n_fail = 0, n_unsup = 0;
  for (const Case& c : cases) {
    results.push_back(run_case(registry, device.name, c));
    const CaseResult& r = results.back();
    n_pass += r.outcome == Outcome::kPass;
    n_fail += r.outcome == Outcome::kFail;
    n_unsup += r.outcome == Outcome::kUnsupported;
    if (args.verbose || r.outcome == Outcome::kFail) fmt::print("{}\n", format_result(r));
  }
  fmt::print("\n{}\n", format_matrix(results));
  fmt::print("{} passed, {} failed, {} unsupported\n", n_pass, n_fail, n_unsup);

  ModelGateResult gate;
  Certificate cert{device.name, device.backend->origin(), device.props, &results, &gate, {}};
  if (!args.model.empty()) {
    ModelGateOptions mo;
    mo.model_path = args.model;
    mo.device = device.name;
    mo.plugins = args.plugins;
    mo.prompt = args.prompt;
    mo.n_greedy = static_cast<int32_t>(args.greedy);
    gate = run_model_gate(mo);
    cert.thresholds = mo.thresholds;
    fmt::print("\n{}", format_certificate(cert));
  }

  if (!args.json.empty()) {
    std::ofstream f(args.json);
    f << (args.model.empty() ? results_json(device.name, device.props, results) : certificate_json(cert));
    if (!f) {
      std::fprintf(stderr, "tessera-conformance: cannot write %s\n", args.json.c_str());
      return 2;
    }
  }
  if (args.expect_all_unsupported && n_pass + n_fail > 0) {
    std::fprintf(stderr, "tessera-conformance: expected every case to be unsupported on %s, but %d ran\n",
                 device.name.c_str(), n_pass + n_fail);
    return 1;
  }
  if (!args.model.empty()) return certified(cert) ? 0 : 1;
  return n_fail > 0 ? 1 : 0;
}
