// libFuzzer target: tessera-bench's JSON reader (tools/bench/json.h) and the
// compare step that reads result files with it (tools/bench/compare.cpp,
// with its CSV and SVG writers). The input is one result file, or two
// separated by a NUL byte (which JSON text cannot hold) so that merging
// sources is reached too; llama-bench's JSON and JSONL are read as well, and
// an odd-sized input makes the first file the --baseline. Checked:
//   - Json::parse never throws and whatever it accepts dumps to text that
//     parses back to the same dump (compact and indented);
//   - compare_main on the files (when they are JSON) exits 0 (merged) or 2
//     (refused, with a message), writing its table, CSV and charts without
//     crashing or hanging.
// compare's table goes to stdout, which the fuzzer discards.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "tools/bench/bench.h"
#include "tools/bench/json.h"

namespace tessera_bench {
// compare.cpp reports a bad command line through usage_error, which lives in
// tools/bench/main.cpp beside tessera-bench's main(); the fuzzer has its own
// main and passes only well-formed command lines, so this is never called.
int usage_error(const char* sub, const std::string& msg) {
  std::fprintf(stderr, "ERROR: fuzz_bench_json: compare rejected its command line (%s: %s)\n", sub,
               msg.c_str());
  std::abort();
}
}  // namespace tessera_bench

namespace {

using tessera_bench::Json;

std::filesystem::path& work_dir() {
  static std::filesystem::path dir;
  return dir;
}

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "ERROR: fuzz_bench_json: %s\n", what.c_str());
  std::abort();
}

// False when text is not JSON.
bool check_round_trip(std::string_view text) {
  Json doc;
  std::string err;
  if (!Json::parse(text, &doc, &err)) {
    if (err.empty()) fail("parse failed without a message");
    return false;
  }
  for (int indent : {-1, 2}) {
    const std::string once = doc.dump(indent);
    Json again;
    if (!Json::parse(once, &again, &err)) fail("the writer's output does not parse: " + err);
    if (again.dump(indent) != once) fail("dump(parse(dump(x))) differs from dump(x)");
  }
  return true;
}

void write_file(const std::filesystem::path& p, std::string_view text) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(text.data(), static_cast<std::streamsize>(text.size()));
  if (!f) fail("cannot write " + p.string());
}

void run_compare(const std::vector<std::string_view>& files, bool baseline) {
  std::vector<std::string> args = {"compare"};
  // The first file as the baseline reaches the reference matching and the
  // per-thread pairing.
  if (baseline) args.insert(args.end(), {"--baseline", (work_dir() / "result0.json").string()});
  for (size_t i = 0; i < files.size(); ++i) {
    const std::filesystem::path p = work_dir() / ("result" + std::to_string(i) + ".json");
    write_file(p, files[i]);
    args.push_back(p.string());
  }
  args.insert(args.end(),
              {"--csv", (work_dir() / "merged.csv").string(), "--svg", (work_dir() / "chart").string()});
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const int rc = tessera_bench::compare_main(static_cast<int>(args.size()), argv.data());
  if (rc != 0 && rc != 2) fail("compare exited " + std::to_string(rc));
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  // tmpfs where there is one: the files are rewritten hundreds of times a second.
  const std::filesystem::path tmp =
      std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : std::filesystem::temp_directory_path();
  work_dir() = tmp / ("tessera-fuzz-bench-" + std::to_string(getpid()));
  std::filesystem::create_directories(work_dir());
  std::atexit([] {
    std::error_code ec;
    std::filesystem::remove_all(work_dir(), ec);
  });
  if (!std::freopen("/dev/null", "w", stdout)) fail("cannot discard stdout");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t nul = input.find('\0');
  std::vector<std::string_view> files = {input.substr(0, nul)};
  if (nul != std::string_view::npos) files.push_back(input.substr(nul + 1));
  bool all_json = true, jsonl = false;
  for (std::string_view f : files) {
    all_json = check_round_trip(f) && all_json;
    jsonl = jsonl || (!f.empty() && f[0] == '{' && f.find("}\n{") != std::string_view::npos);
  }
  // compare refuses text that is neither JSON nor llama-bench's JSONL with the
  // reader's message (one line on stderr per input); the fuzzer runs it on
  // those two only, so that its log holds more than those lines.
  if (all_json || jsonl) run_compare(files, size % 2 == 1);
  return 0;
}
