// tessera-bench: op workloads and end-to-end LLM speed on every device, with
// one result schema (benchmarks/README.md); compare merges result files
// (tessera-bench's and llama-bench's) into a table and SVG charts, report
// into a static HTML page.
//
//   tessera-bench ops [--device LIST]... [-t LIST] [--suite smollm2] [--json F] [--csv F]
//   tessera-bench e2e -m MODEL.gguf [--device LIST]... [-t LIST] [-p LIST] [-n LIST] [-pg P,N]
//   tessera-bench compare FILE... [--baseline X] [--svg PREFIX] [--csv F]
//   tessera-bench report FILE... -o DIR [--baseline X]
//
// Exit codes: 0 ok, 1 a run failed (a C API error), 2 usage or input error,
// 3 a noisy result with --fail-on-noise.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "tools/bench/bench.h"
#include "tools/bench/bench_git.h"
#include "tools/common/cli.h"

namespace tessera_bench {

int usage_error(const char* sub, const std::string& msg) {
  std::fprintf(stderr, "tessera-bench %s: %s\n(tessera-bench %s --help for usage)\n", sub, msg.c_str(), sub);
  return 2;
}

int open_devices(const char* sub, int threads, const std::vector<std::string>& plugins,
                 const std::vector<std::string>& names, ContextPtr* ctx, std::vector<DeviceRecord>* out) {
  std::vector<const char*> paths;
  for (const std::string& p : plugins) paths.push_back(p.c_str());
  tsr_context_options o{sizeof o, threads, paths.data(), static_cast<int32_t>(paths.size())};
  tsr_context* raw = nullptr;
  if (tsr_context_create(&o, &raw) != TSR_OK) {
    std::fprintf(stderr, "tessera-bench %s: %s\n", sub, api_error("context_create").c_str());
    return 1;
  }
  ctx->reset(raw);
  std::vector<int32_t> indices;
  if (names.empty()) {
    // Every device but test devices (the null backend): those run when named.
    for (int32_t i = 0; i < tsr_device_count(raw); ++i) {
      tsr_device_info info{};
      info.struct_size = sizeof info;
      if (tsr_device_get_info(raw, i, &info) == TSR_OK && info.props.type != TSR_DEVICE_TYPE_TEST)
        indices.push_back(i);
    }
  } else {
    for (const std::string& n : names) {
      int32_t idx = -1;
      if (tsr_device_find(raw, n.c_str(), &idx) != TSR_OK) {
        std::string known;
        for (int32_t i = 0; i < tsr_device_count(raw); ++i) {
          tsr_device_info info{};
          info.struct_size = sizeof info;
          if (tsr_device_get_info(raw, i, &info) == TSR_OK)
            known += std::string(known.empty() ? "" : ", ") + info.name;
        }
        for (int32_t i = 0; i < tsr_context_note_count(raw); ++i)
          std::fprintf(stderr, "note: %s\n", tsr_context_note(raw, i));
        return usage_error(sub, "unknown device '" + n + "' (" + tsr_last_error() +
                                    "; devices here: " + (known.empty() ? "none" : known) + ")");
      }
      bool dup = false;
      for (int32_t k : indices) dup = dup || k == idx;
      if (!dup) indices.push_back(idx);
    }
  }
  for (int32_t i : indices) {
    DeviceRecord d;
    std::string err;
    if (!describe_device(raw, i, &d, &err)) {
      std::fprintf(stderr, "tessera-bench %s: %s\n", sub, err.c_str());
      return 1;
    }
    out->push_back(std::move(d));
  }
  if (out->empty()) {
    std::fprintf(stderr, "tessera-bench %s: no devices\n", sub);
    return 1;
  }
  return 0;
}

}  // namespace tessera_bench

namespace {

void usage(FILE* f) {
  std::fprintf(
      f,
      "usage: tessera-bench ops [--device LIST]... [-t LIST] [--suite S] [--filter REGEX]\n"
      "                         [--min-time S] [--reps N] [--max-mem GIB] [--list] [--json F] [--csv F]\n"
      "       tessera-bench e2e -m MODEL.gguf [--device LIST]... [-t LIST] [-p LIST] [-n LIST] [-pg P,N]...\n"
      "                         [-b LIST] [--reps N] [--json F] [--csv F]\n"
      "       tessera-bench compare FILE... [--baseline FILE|DEVICE|ENGINE] [--svg PREFIX] [--csv F]\n"
      "       tessera-bench report FILE... -o DIR [--baseline FILE|DEVICE|ENGINE]   (an HTML page)\n"
      "Each subcommand takes --help. Schema and usage: benchmarks/README.md.\n");
}

std::string join_command_line(int argc, char** argv) {
  std::string s;
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    const bool plain = !a.empty() && a.find_first_of(" \t\n'\"\\$`*?|&;<>()") == std::string::npos;
    if (!plain) {
      std::string q = "'";
      for (char c : a) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
      a = q + "'";
    }
    s += (i ? " " : "") + a;
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  if (tessera_tools::version_asked(argc, argv))
    return tessera_tools::print_version("tessera-bench", TSR_BENCH_GIT_COMMIT);
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  const std::string sub = argv[1];
  const std::string cmd = join_command_line(argc, argv);
  if (sub == "ops") return tessera_bench::ops_main(argc - 1, argv + 1, cmd);
  if (sub == "e2e") return tessera_bench::e2e_main(argc - 1, argv + 1, cmd);
  if (sub == "compare") return tessera_bench::compare_main(argc - 1, argv + 1);
  if (sub == "report") return tessera_bench::report_main(argc - 1, argv + 1, cmd);
  if (sub == "-h" || sub == "--help") {
    usage(stdout);
    return 0;
  }
  std::fprintf(stderr, "tessera-bench: unknown subcommand '%s'\n", sub.c_str());
  usage(stderr);
  return 2;
}
