// Each device's description, peaks and memory roofs. A peak the backend
// declares (tsr_device_props.peak_flops / peak_bandwidth) is used as is, a
// declared bandwidth as one unbounded roof; a missing one is measured:
// natively for the CPU backend (probe_native.cpp: FMA loop and STREAM triad;
// probe_cache.cpp: the triad inside each cache level), otherwise with op
// probes on the device itself (workloads.cpp: a large f32 add and f16
// matrix-vector product for bandwidth, the same at 1 and 8 MiB working sets
// for smaller roofs, f32 and f16-weight 1024^3 GEMMs for FLOP/s), the best run
// of the best probe. A workload is placed under the smallest roof whose
// capacity holds its bytes. An op probe measures Tessera's own kernels, so a
// workload may beat it: a share above 1 says the probe, not the device, was
// the limit.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

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

// Working sets of the op probes' smaller roofs (the largest is
// bandwidth_probe_workloads(), unbounded).
constexpr uint64_t kProbeTiers[] = {uint64_t{1} << 20, uint64_t{8} << 20};

// "96 KiB", "4 MiB", "1.5 GiB".
std::string size_name(uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) v /= 1024, ++u;
  char buf[32];
  std::snprintf(buf, sizeof buf, v == std::floor(v) ? "%.0f %s" : "%.3g %s", v, units[u]);
  return buf;
}

// The roofs a workload may be placed under: finite positive bandwidths,
// ascending capacity, the last unbounded, each level faster than the next
// larger one (a level that does not beat it is left out, with a note: its
// workloads fall to the larger level). Empty when no unbounded roof is left.
std::vector<MemoryRoof> descending_roofs(std::vector<MemoryRoof> roofs, const DeviceRecord& dev) {
  if (roofs.empty() || roofs.back().capacity != 0 || !(roofs.back().gbps > 0) ||
      !std::isfinite(roofs.back().gbps))
    return {};
  std::vector<MemoryRoof> kept = {roofs.back()};
  for (size_t i = roofs.size() - 1; i-- > 0;) {
    const MemoryRoof& m = roofs[i];
    const bool smaller = m.capacity > 0 && (kept.back().capacity == 0 || m.capacity < kept.back().capacity);
    if (smaller && std::isfinite(m.gbps) && m.gbps > kept.back().gbps) {
      kept.push_back(m);
      continue;
    }
    std::fprintf(
        stderr,
        "tessera-bench: %s: the %s roof (%s) measured %.1f GB/s, not above %s's %.1f GB/s: left out\n",
        dev.name.c_str(), m.level.c_str(), size_name(m.capacity).c_str(), m.gbps, kept.back().level.c_str(),
        kept.back().gbps);
  }
  std::reverse(kept.begin(), kept.end());
  if (kept.size() > 1) {
    std::string line;
    for (const MemoryRoof& m : kept) {
      char gbps[32];
      std::snprintf(gbps, sizeof gbps, " %.1f GB/s", m.gbps);
      line += (line.empty() ? "" : ", ") + m.level + (m.capacity ? " (" + size_name(m.capacity) + ")" : "") +
              gbps;
    }
    std::fprintf(stderr, "tessera-bench: %s memory roofs: %s\n", dev.name.c_str(), line.c_str());
  }
  return kept;
}

const MemoryRoof* roof_for(const DeviceRecord& dev, double bytes) {
  for (const MemoryRoof& m : dev.roofs)
    if (m.capacity == 0 || bytes <= static_cast<double>(m.capacity)) return &m;
  return nullptr;  // no roofs (else the last, unbounded, holds any)
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
  dev->roofs.clear();
  if (probe_allowed && (!declared_flops || !declared_bw)) {
    std::fprintf(stderr, "tessera-bench: probing the peaks of %s ...\n", dev->name.c_str());
    if (dev->backend == "cpu") {
      probe = "probe:native";
      if (!declared_bw) {
        dev->roofs = native_memory_roofs(threads);  // the caches, then DRAM: the triad
        dev->peak_gbps = dev->roofs.empty() ? 0 : dev->roofs.back().gbps;
      }
      if (!declared_flops) dev->peak_gflops = native_fma_gflops(threads);
    } else {
      probe = "probe:op";
      std::string why;
      if (!declared_bw) {
        for (const Workload& w : bandwidth_probe_workloads()) {
          const double s = probe_best_seconds(ctx, *dev, w, &why);
          if (s > 0) dev->peak_gbps = std::max(dev->peak_gbps, w.bytes / s / 1e9);
        }
        if (dev->peak_gbps > 0) {
          // The same probes over smaller working sets: a roof for the
          // workloads that fit, kept where it beats the next larger one.
          for (const uint64_t size : kProbeTiers) {
            MemoryRoof roof{"\u2264" + size_name(size), size, 0};
            for (const Workload& w : bandwidth_probe_workloads(size)) {
              const double s = probe_best_seconds(ctx, *dev, w, &why);
              if (s > 0) roof.gbps = std::max(roof.gbps, w.bytes / s / 1e9);
            }
            dev->roofs.push_back(roof);
          }
          dev->roofs.push_back({"memory", 0, dev->peak_gbps});
        }
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
  // A declared bandwidth is one unbounded roof.
  if (declared_bw) dev->roofs = {{dev->backend == "cpu" ? "DRAM" : "memory", 0, dev->peak_gbps}};
  dev->roofs = descending_roofs(std::move(dev->roofs), *dev);
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
  // The memory roof: the smallest level holding the workload's working set
  // (its bytes, each tensor once), else the single peak bandwidth.
  const MemoryRoof* m = roof_for(dev, w.bytes);
  r->roof_level = m ? m->level : std::string();
  r->roof_gbps = m ? m->gbps : dev.peak_gbps;
  // Roofline: attainable = min(peak FLOP/s, intensity * roof bandwidth).
  if (dev.peak_gflops > 0 && r->roof_gbps > 0 && w.bytes > 0) {
    const double roof = std::min(dev.peak_gflops, w.flop / w.bytes * r->roof_gbps);
    r->roofline_share = roof > 0 ? r->gflops / roof : 0;
  }
}

}  // namespace tessera_bench
