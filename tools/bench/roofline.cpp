// Each device's description and peaks. A peak the backend declares
// (tsr_device_props.peak_flops / peak_bandwidth) is used as is; a missing one
// is measured: natively for the CPU backend (probe_native.cpp), otherwise
// with op probes on the device itself (workloads.cpp: a large f32 add and f16
// matrix-vector product for bandwidth, f32 and f16-weight 1024^3 GEMMs for
// FLOP/s), the best run of the best probe. An op probe measures Tessera's own
// kernels, so a workload may beat it: a share above 1 says the probe, not the
// device, was the limit.
#include <algorithm>
#include <cstdio>
#include <cstring>

#include "tools/bench/bench.h"

namespace tessera_bench {
namespace {

// Best (fastest) run of a probe workload on the device; 0 when it cannot run.
double probe_best_seconds(tsr_context* ctx, const DeviceRecord& dev, const Workload& w, std::string* why) {
  TimingOptions o;
  o.min_time = 0.3;
  o.reps = 3;
  o.warmup = 0.05;
  const OpResult r = run_workload(ctx, dev, w, o, 0);
  if (r.status != "ok") {
    *why = r.status + ": " + r.reason;
    return 0;
  }
  return r.t.min;
}

}  // namespace

bool describe_device(tsr_context* ctx, int32_t index, DeviceRecord* out, std::string* err) {
  tsr_device_info info{};
  info.struct_size = sizeof info;
  if (tsr_device_get_info(ctx, index, &info) != TSR_OK) {
    *err = api_error("device_get_info");
    return false;
  }
  DeviceRecord d;
  d.index = index;
  d.name = info.name;
  d.backend = info.backend;
  d.description = info.props.name;
  d.vendor = info.props.vendor;
  d.driver = info.props.driver;
  d.details = info.props.details;
  d.memory_bytes = info.props.memory_bytes;
  d.peak_gflops = info.props.peak_flops / 1e9;
  d.peak_gbps = info.props.peak_bandwidth / 1e9;
  *out = std::move(d);
  return true;
}

void measure_peaks(tsr_context* ctx, DeviceRecord* dev, int threads, bool probe_allowed) {
  const bool declared_flops = dev->peak_gflops > 0, declared_bw = dev->peak_gbps > 0;
  std::string probe;
  if (probe_allowed && (!declared_flops || !declared_bw)) {
    std::fprintf(stderr, "tessera-bench: probing the peaks of %s ...\n", dev->name.c_str());
    if (dev->backend == "cpu") {
      probe = "probe:native";
      if (!declared_bw) dev->peak_gbps = native_triad_gbps(threads);
      if (!declared_flops) dev->peak_gflops = native_fma_gflops(threads);
    } else {
      probe = "probe:op";
      std::string why;
      if (!declared_bw)
        for (const Workload& w : bandwidth_probe_workloads()) {
          const double s = probe_best_seconds(ctx, *dev, w, &why);
          if (s > 0) dev->peak_gbps = std::max(dev->peak_gbps, w.bytes / s / 1e9);
        }
      if (!declared_flops)
        for (const Workload& w : flops_probe_workloads()) {
          const double s = probe_best_seconds(ctx, *dev, w, &why);
          if (s > 0) dev->peak_gflops = std::max(dev->peak_gflops, w.flop / s / 1e9);
        }
      if (dev->peak_gbps <= 0 || dev->peak_gflops <= 0)
        std::fprintf(stderr, "tessera-bench: %s: a peak probe could not run (%s); no roofline share\n",
                     dev->name.c_str(), why.c_str());
    }
  }
  if (dev->peak_gflops <= 0 && dev->peak_gbps <= 0)
    dev->peak_source.clear();  // nothing known: written as null
  else if (declared_flops && declared_bw)
    dev->peak_source = "declared";
  else if (declared_flops || declared_bw)
    dev->peak_source = probe.empty() ? "declared" : "declared+" + probe;
  else
    dev->peak_source = probe;
}

void derive_rates(const DeviceRecord& dev, OpResult* r) {
  const Workload& w = *r->w;
  if (r->t.median <= 0) return;
  r->gflops = w.flop / r->t.median / 1e9;
  r->gbps = w.bytes / r->t.median / 1e9;
  // Roofline: attainable = min(peak FLOP/s, intensity * peak bandwidth).
  if (dev.peak_gflops > 0 && dev.peak_gbps > 0 && w.bytes > 0) {
    const double roof = std::min(dev.peak_gflops, w.flop / w.bytes * dev.peak_gbps);
    r->roofline_share = roof > 0 ? r->gflops / roof : 0;
  }
}

}  // namespace tessera_bench
