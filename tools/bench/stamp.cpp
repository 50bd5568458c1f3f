// What every result file is stamped with: tool, Tessera version, git commit,
// build, compiler, date, host, CPU, threads, the command line; and each
// device's description, driver and peaks.
#include <sys/utsname.h>
#include <unistd.h>

#include <ctime>
#include <fstream>
#include <string>

#include "tools/bench/bench.h"
#include "tools/bench/bench_git.h"

namespace tessera_bench {
namespace {

std::string hostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

std::string trim(const std::string& s) {
  const size_t a = s.find_first_not_of(" \t"), b = s.find_last_not_of(" \t");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

// "model name" on x86, "Hardware"/"CPU part" style keys elsewhere.
std::string cpu_model() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  std::string fallback;
  while (std::getline(f, line)) {
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string key = trim(line.substr(0, colon)), value = trim(line.substr(colon + 1));
    if (key == "model name") return value;
    if (fallback.empty() && (key == "Hardware" || key == "cpu model" || key == "uarch")) fallback = value;
  }
  return fallback.empty() ? "unknown" : fallback;
}

std::string kernel() {
  utsname u{};
  if (uname(&u) != 0) return "unknown";
  return std::string(u.sysname) + " " + u.release + " " + u.machine;
}

}  // namespace

std::string utc_now_iso8601() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Json run_json(const RunStamp& s) {
  Json r = Json::object();
  r.set("tool", "tessera-bench");
  r.set("subcommand", s.subcommand);
  r.set("tessera_version", tsr_version());
  r.set("git_commit", TSR_BENCH_GIT_COMMIT);
  r.set("build_type", TSR_BENCH_BUILD_TYPE);
  r.set("compiler", TSR_BENCH_COMPILER);
  r.set("date", utc_now_iso8601());
  r.set("hostname", hostname());
  r.set("os", kernel());
  r.set("cpu_model", cpu_model());
  r.set("cpu_simd", native_simd_name());
  r.set("threads", s.threads);
  r.set("command_line", s.command_line);
  return r;
}

Json device_json(const DeviceRecord& d) {
  Json j = Json::object();
  j.set("name", d.name);
  j.set("backend", d.backend);
  j.set("description", d.description);
  j.set("driver", d.driver);
  j.set("peak_gflops", d.peak_gflops > 0 ? Json(d.peak_gflops) : Json());
  j.set("peak_gbps", d.peak_gbps > 0 ? Json(d.peak_gbps) : Json());
  j.set("peak_source", d.peak_source.empty() ? Json() : Json(d.peak_source));
  j.set("threads", d.threads);
  j.set("vendor", d.vendor);
  j.set("memory_bytes", d.memory_bytes);
  j.set("details", d.details);
  Json roofs = Json::array();
  for (const MemoryRoof& m : d.roofs) {
    Json r = Json::object();
    r.set("level", m.level);
    r.set("capacity_bytes", m.capacity > 0 ? Json(m.capacity) : Json());
    r.set("gbps", m.gbps);
    roofs.push(std::move(r));
  }
  j.set("memory_roofs", std::move(roofs));
  return j;
}

}  // namespace tessera_bench
