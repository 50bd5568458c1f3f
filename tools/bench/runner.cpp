// Running one workload on one device: compile strictly (a workload the
// device cannot run is "unsupported", never timed elsewhere), warm up, time
// repeated executions and summarise them.
#include <algorithm>
#include <chrono>
#include <cmath>

#include "tools/bench/bench.h"

namespace tessera_bench {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

OpResult with_status(OpResult r, const char* status, std::string reason) {
  r.status = status;
  r.reason = std::move(reason);
  return r;
}

}  // namespace

OpResult run_workload(tsr_context* ctx, const DeviceRecord& dev, const Workload& w, const TimingOptions& o,
                      uint64_t budget) {
  OpResult r;
  r.w = &w;
  r.device = dev.name;
  r.backend = dev.backend;
  r.threads = o.threads;
  if (budget > 0 && w.memory > budget)
    return with_status(r, "skipped",
                       "too large: needs " + std::to_string(w.memory >> 20) + " MiB, budget " +
                           std::to_string(budget >> 20) + " MiB (--max-mem)");

  BuiltGraph bg;
  std::string err;
  if (!build_graph(ctx, w, &bg, &err)) return with_status(r, "error", err);

  const char* devices[] = {dev.name.c_str()};
  tsr_compile_options co{sizeof co, devices, 1, TSR_COMPILE_STRICT};
  tsr_model* raw = nullptr;
  if (const tsr_status_code s = tsr_compile(ctx, bg.graph.get(), &co, &raw); s != TSR_OK) {
    // Strict compilation refuses what the device cannot run; other failures
    // (out of memory, a driver error) are errors.
    return with_status(r, s == TSR_ERR_UNSUPPORTED ? "unsupported" : "error", api_error("compile"));
  }
  ModelPtr model(raw);
  tsr_model_stats st{};
  st.struct_size = sizeof st;
  if (tsr_model_get_stats(model.get(), &st) != TSR_OK) return with_status(r, "error", api_error("get_stats"));
  if (st.n_fallbacks > 0)
    return with_status(r, "unsupported",
                       std::to_string(st.n_fallbacks) + " node(s) fell back from " + dev.name + ":\n" +
                           tsr_model_placement(model.get()));

  for (const auto& [t, data] : bg.inputs)
    if (tsr_model_set_input(model.get(), t, data.data(), data.size()) != TSR_OK)
      return with_status(r, "error", api_error("set_input"));

  auto run_once = [&](double* seconds) {
    const auto t0 = Clock::now();
    const tsr_status_code s = tsr_model_execute(model.get(), nullptr, 0);
    *seconds = seconds_since(t0);
    return s == TSR_OK;
  };

  // Warm-up: one run (first-use costs: caches, pipelines), then until o.warmup seconds.
  const auto w0 = Clock::now();
  double dt = 0;
  do {
    if (!run_once(&dt)) return with_status(r, "error", api_error("execute"));
  } while (seconds_since(w0) < o.warmup);

  std::vector<double> samples;
  const auto t0 = Clock::now();
  while (static_cast<int>(samples.size()) < o.max_runs &&
         (static_cast<int>(samples.size()) < o.reps || seconds_since(t0) < o.min_time)) {
    if (!run_once(&dt)) return with_status(r, "error", api_error("execute"));
    samples.push_back(dt);
  }
  r.t = summarize(std::move(samples));
  r.noisy = r.t.cv > o.noise_threshold;
  derive_rates(dev, &r);
  return r;
}

}  // namespace tessera_bench
