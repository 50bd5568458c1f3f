#include "core/scheduler.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace tsr {
namespace {

constexpr int32_t kCpu = 0;
constexpr int32_t kVulkan = 1;
constexpr int32_t kCuda = 2;

ScheduleOptions vulkan_then_cpu(bool strict = false) {
  return {.devices = {"cpu:0", "vulkan:0", "cuda:0"},
          .preference = {kVulkan},
          .fallback = kCpu,
          .strict = strict};
}

// A device answers from a table of refused nodes; it counts every question.
struct FakeDevices {
  std::map<std::pair<int32_t, int32_t>, std::string> refused;  // (device, node) -> reason
  std::vector<std::pair<int32_t, int32_t>> asked;

  void refuse(int32_t device, int32_t node, std::string reason) {
    refused[{device, node}] = std::move(reason);
  }
  SupportsFn fn() {
    return [this](int32_t device, int32_t node, std::string* reason) {
      asked.emplace_back(device, node);
      auto it = refused.find({device, node});
      if (it == refused.end()) return true;
      *reason = it->second;
      return false;
    };
  }
};

Placement schedule_ok(const std::vector<ScheduleNode>& nodes, const ScheduleOptions& opt,
                      const SupportsFn& fn) {
  Result<Placement> r = schedule_nodes(nodes, opt, fn);
  EXPECT_TRUE(r.is_ok()) << r.status().message();
  return r.is_ok() ? r.value() : Placement{};
}

std::vector<std::string> lines(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// norm -> matmul (q4_1 on vulkan: refused) -> add and mul reading it.
std::vector<ScheduleNode> small_graph() {
  return {
      {.inputs = {-1, -1}, .label = "get_rows#0 f32 [576, 7]"},
      {.inputs = {0, -1}, .label = "rms_norm#1 f32 [576, 7]"},
      {.inputs = {1, -1}, .label = "matmul#2 f32 [1536, 7]"},
      {.inputs = {2, 0}, .label = "add#3 f32 [1536, 7]"},
      {.inputs = {2, 1}, .label = "mul#4 f32 [1536, 7]"},
  };
}

TEST(Scheduler, AllOnFirstDeviceWhenSupported) {
  FakeDevices dev;
  Placement p = schedule_ok(small_graph(), vulkan_then_cpu(), dev.fn());
  EXPECT_EQ(p.device, (std::vector<int32_t>(5, kVulkan)));
  EXPECT_TRUE(p.copies.empty());
  EXPECT_EQ(p.n_fallbacks, 0);
  for (const auto& r : p.refusals) EXPECT_TRUE(r.empty());
  EXPECT_EQ(dev.asked.size(), 5u);  // one question per node, the fallback never asked
}

TEST(Scheduler, PartialSupportSplitsAndInsertsExactlyTheCopiesNeeded) {
  FakeDevices dev;
  dev.refuse(kVulkan, 2, "q4_1 weights");
  Placement p = schedule_ok(small_graph(), vulkan_then_cpu(), dev.fn());
  EXPECT_EQ(p.device, (std::vector<int32_t>{kVulkan, kVulkan, kCpu, kVulkan, kVulkan}));
  EXPECT_EQ(p.n_fallbacks, 1);
  ASSERT_EQ(p.refusals[2].size(), 1u);
  EXPECT_EQ(p.refusals[2][0].device, kVulkan);
  EXPECT_EQ(p.refusals[2][0].reason, "q4_1 weights");
  // rms_norm's output goes down to the CPU for the matmul; the matmul's comes
  // back up once, although both add and mul read it.
  ASSERT_EQ(p.copies.size(), 2u);
  EXPECT_EQ(p.copies[0].value, 1);
  EXPECT_EQ(p.copies[0].from, kVulkan);
  EXPECT_EQ(p.copies[0].to, kCpu);
  EXPECT_EQ(p.copies[0].first_consumer, 2);
  EXPECT_EQ(p.copies[1].value, 2);
  EXPECT_EQ(p.copies[1].from, kCpu);
  EXPECT_EQ(p.copies[1].to, kVulkan);
  EXPECT_EQ(p.copies[1].first_consumer, 3);
}

TEST(Scheduler, OneCopyPerValueAndDestination) {
  // Node 0 on vulkan; read on the CPU by 1 and 2 (one copy), on cuda by 3 (another).
  std::vector<ScheduleNode> nodes = {{.inputs = {-1}, .label = "a"},
                                     {.inputs = {0}, .label = "b"},
                                     {.inputs = {0}, .label = "c"},
                                     {.inputs = {0, 1, 2}, .label = "d"}};
  ScheduleOptions opt{
      .devices = {"cpu:0", "vulkan:0", "cuda:0"}, .preference = {kVulkan, kCuda}, .fallback = kCpu};
  FakeDevices dev;
  for (int32_t n : {1, 2}) {
    dev.refuse(kVulkan, n, "no");
    dev.refuse(kCuda, n, "no");
  }
  dev.refuse(kVulkan, 3, "no");
  Placement p = schedule_ok(nodes, opt, dev.fn());
  EXPECT_EQ(p.device, (std::vector<int32_t>{kVulkan, kCpu, kCpu, kCuda}));
  std::set<std::tuple<int32_t, int32_t, int32_t>> got;
  for (const BoundaryCopy& c : p.copies) got.insert({c.value, c.from, c.to});
  EXPECT_EQ(p.copies.size(), got.size());  // no duplicates
  EXPECT_EQ(got, (std::set<std::tuple<int32_t, int32_t, int32_t>>{
                     {0, kVulkan, kCpu}, {0, kVulkan, kCuda}, {1, kCpu, kCuda}, {2, kCpu, kCuda}}));
}

TEST(Scheduler, WalksThePreferenceListInOrder) {
  std::vector<ScheduleNode> nodes = {{.inputs = {-1}, .label = "softmax#0"}};
  ScheduleOptions opt{.devices = {"cpu:0", "vulkan:0", "cuda:0"},
                      .preference = {kCuda, kVulkan},
                      .fallback = kCpu,
                      .strict = true};
  FakeDevices dev;
  dev.refuse(kCuda, 0, "no sm_90 kernel");
  Placement p = schedule_ok(nodes, opt, dev.fn());  // strict allows moving down the list
  EXPECT_EQ(p.device[0], kVulkan);
  EXPECT_EQ(p.n_fallbacks, 1);
  EXPECT_EQ(dev.asked, (std::vector<std::pair<int32_t, int32_t>>{{kCuda, 0}, {kVulkan, 0}}));
  EXPECT_NE(format_placement(nodes, opt.devices, p).find("(fallback: cuda:0 said 'no sm_90 kernel')"),
            std::string::npos);
}

TEST(Scheduler, FallbackReportContainsReasons) {
  FakeDevices dev;
  dev.refuse(kVulkan, 2, "q4_1 weights");
  ScheduleOptions opt = vulkan_then_cpu();
  std::vector<ScheduleNode> nodes = small_graph();
  Placement p = schedule_ok(nodes, opt, dev.fn());
  const std::string report = format_placement(nodes, opt.devices, p);
  std::vector<std::string> got = lines(report);
  ASSERT_EQ(got.size(), 5u + 2u + 1u) << report;  // nodes, copies, summary
  EXPECT_EQ(got[0], "get_rows#0 f32 [576, 7]  vulkan:0");
  EXPECT_EQ(got[2], "matmul#2 f32 [1536, 7]   cpu:0 (fallback: vulkan:0 said 'q4_1 weights')");
  EXPECT_EQ(got[5], "copy rms_norm#1 f32 [576, 7]: vulkan:0 -> cpu:0 (before matmul#2 f32 [1536, 7])");
  EXPECT_EQ(got[6], "copy matmul#2 f32 [1536, 7]: cpu:0 -> vulkan:0 (before add#3 f32 [1536, 7])");
  EXPECT_EQ(got[7], "5 nodes: 1 on cpu:0, 4 on vulkan:0; 1 fallbacks; 0 kept by transfer cost; 2 copies");
}

TEST(Scheduler, MissingReasonIsReportedAsSuch) {
  std::vector<ScheduleNode> nodes = {{.inputs = {-1}, .label = "n"}};
  auto fn = [](int32_t device, int32_t, std::string*) { return device == kCpu; };
  Placement p = schedule_ok(nodes, vulkan_then_cpu(), fn);
  ASSERT_EQ(p.refusals[0].size(), 1u);
  EXPECT_EQ(p.refusals[0][0].reason, "no reason given");
}

TEST(Scheduler, StrictModeRefusesFallback) {
  FakeDevices dev;
  dev.refuse(kVulkan, 2, "q4_1 weights");
  std::vector<ScheduleNode> nodes = small_graph();
  nodes[2].label = "matmul#12 q4_1";
  Result<Placement> r = schedule_nodes(nodes, vulkan_then_cpu(/*strict=*/true), dev.fn());
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), TSR_ERR_UNSUPPORTED);
  EXPECT_EQ(r.status().message(),
            "[schedule] node matmul#12 q4_1: no preferred device supports it: vulkan:0: q4_1 weights; strict "
            "mode forbids fallback to cpu:0");
  for (const auto& [device, node] : dev.asked) EXPECT_NE(device, kCpu);  // never asked the CPU
}

TEST(Scheduler, StrictModeListsEveryPreferredDevice) {
  std::vector<ScheduleNode> nodes = {{.inputs = {-1}, .label = "rope#3"}};
  ScheduleOptions opt{.devices = {"cpu:0", "vulkan:0", "cuda:0"},
                      .preference = {kCuda, kVulkan},
                      .fallback = kCpu,
                      .strict = true};
  FakeDevices dev;
  dev.refuse(kCuda, 0, "neox mode");
  dev.refuse(kVulkan, 0, "f16 cache");
  Result<Placement> r = schedule_nodes(nodes, opt, dev.fn());
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(
      r.status().message(),
      "[schedule] node rope#3: no preferred device supports it: cuda:0: neox mode; vulkan:0: f16 cache; "
      "strict mode forbids fallback to cpu:0");
}

TEST(Scheduler, FallbackDeviceUnsupportedIsAnErrorInEveryMode) {
  for (bool strict : {false, true}) {
    std::vector<ScheduleNode> nodes = {{.inputs = {-1}, .label = "conv#0"}};
    ScheduleOptions opt{.devices = {"cpu:0", "vulkan:0", "cuda:0"},
                        .preference = {kVulkan, kCpu},
                        .fallback = kCpu,
                        .strict = strict};
    FakeDevices dev;
    dev.refuse(kVulkan, 0, "no conv");
    dev.refuse(kCpu, 0, "no conv either");
    Result<Placement> r = schedule_nodes(nodes, opt, dev.fn());
    ASSERT_FALSE(r.is_ok());
    EXPECT_EQ(r.status().code(), TSR_ERR_UNSUPPORTED);
    EXPECT_EQ(r.status().message(),
              "[schedule] node conv#0: no device supports it, not even the fallback cpu:0: vulkan:0: no "
              "conv; cpu:0: "
              "no conv either");
    EXPECT_EQ(dev.asked.size(), 2u) << "the fallback is asked once even when it is also preferred";
  }
  // Fallback outside the preference list, non-strict: asked after the list.
  std::vector<ScheduleNode> nodes = {{.inputs = {-1}, .label = "conv#0"}};
  FakeDevices dev;
  dev.refuse(kVulkan, 0, "no conv");
  dev.refuse(kCpu, 0, "no conv either");
  Result<Placement> r = schedule_nodes(nodes, vulkan_then_cpu(), dev.fn());
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("node conv#0"), std::string::npos);
  EXPECT_NE(r.status().message().find("vulkan:0: no conv"), std::string::npos);
  EXPECT_NE(r.status().message().find("cpu:0: no conv either"), std::string::npos);
}

TEST(Scheduler, PreferredFallbackIsNotAFallback) {
  std::vector<ScheduleNode> nodes = {{.inputs = {-1}, .label = "a"}};
  ScheduleOptions opt{.devices = {"cpu:0"}, .preference = {kCpu}, .fallback = kCpu, .strict = true};
  FakeDevices dev;
  Placement p = schedule_ok(nodes, opt, dev.fn());
  EXPECT_EQ(p.device[0], kCpu);
  EXPECT_EQ(p.n_fallbacks, 0);
}

TEST(Scheduler, ViewsFollowTheirProducer) {
  std::vector<ScheduleNode> nodes = {
      {.inputs = {-1}, .label = "matmul#0"},                   // cpu (refused by vulkan)
      {.inputs = {0}, .is_view = true, .label = "reshape#1"},  // with matmul#0
      {.inputs = {1}, .is_view = true, .label = "permute#2"},  // view of a view: still there
      {.inputs = {2}, .label = "rope#3"},                      // vulkan: copies the viewed value
      {.inputs = {1}, .label = "scale#4"},                     // vulkan: same copy, another view
  };
  FakeDevices dev;
  dev.refuse(kVulkan, 0, "q4_1 weights");
  Placement p = schedule_ok(nodes, vulkan_then_cpu(), dev.fn());
  EXPECT_EQ(p.device, (std::vector<int32_t>{kCpu, kCpu, kCpu, kVulkan, kVulkan}));
  for (const auto& [device, node] : dev.asked)
    EXPECT_TRUE(node != 1 && node != 2) << "asked about view " << node;
  EXPECT_TRUE(p.refusals[1].empty());
  EXPECT_EQ(p.n_fallbacks, 1);
  ASSERT_EQ(p.copies.size(), 1u);
  EXPECT_EQ(p.copies[0].value, 0);  // the value both views show: the executor copies it once
  EXPECT_EQ(p.copies[0].from, kCpu);
  EXPECT_EQ(p.copies[0].to, kVulkan);
  EXPECT_EQ(p.copies[0].first_consumer, 3);
}

TEST(Scheduler, ViewOfLeafTakesItsFirstConsumersDevice) {
  std::vector<ScheduleNode> nodes = {
      {.is_leaf = true, .label = "state#0"},
      {.inputs = {0}, .is_view = true, .label = "view#1"},  // of the leaf
      {.inputs = {1}, .label = "first#2"},                  // first compute reader: cpu
      {.inputs = {1}, .label = "later#3"},                  // vulkan: needs a copy of the leaf
      {.inputs = {-1}, .is_view = true, .label = "unused_view#4"},
      {.is_leaf = true, .label = "unused_leaf#5"},
  };
  FakeDevices dev;
  dev.refuse(kVulkan, 2, "no");
  Placement p = schedule_ok(nodes, vulkan_then_cpu(), dev.fn());
  EXPECT_EQ(p.device[0], kCpu);
  EXPECT_EQ(p.device[1], kCpu);  // with the leaf, even though one of its readers is on vulkan
  EXPECT_EQ(p.device[2], kCpu);
  EXPECT_EQ(p.device[3], kVulkan);
  EXPECT_EQ(p.device[4], kCpu);  // nothing reads it: the fallback device
  EXPECT_EQ(p.device[5], kCpu);
  for (const auto& [device, node] : dev.asked) EXPECT_TRUE(node == 2 || node == 3) << "asked about " << node;
  ASSERT_EQ(p.copies.size(), 1u);
  EXPECT_EQ(p.copies[0].value, 0);  // the leaf's data, which the view shows
  EXPECT_EQ(p.copies[0].from, kCpu);
  EXPECT_EQ(p.copies[0].to, kVulkan);

  // When the first reader is on vulkan, the whole view chain goes there.
  FakeDevices all;
  Placement q = schedule_ok(nodes, vulkan_then_cpu(), all.fn());
  EXPECT_EQ(q.device[0], kVulkan);
  EXPECT_EQ(q.device[1], kVulkan);
  EXPECT_TRUE(q.copies.empty());
}

TEST(Scheduler, FormatMarksViewsAndHandlesEmptyLabels) {
  std::vector<ScheduleNode> nodes = {{.inputs = {-1}, .label = ""},
                                     {.inputs = {0}, .is_view = true, .label = "reshape#1"}};
  FakeDevices dev;
  ScheduleOptions opt = vulkan_then_cpu();
  Placement p = schedule_ok(nodes, opt, dev.fn());
  std::vector<std::string> got = lines(format_placement(nodes, opt.devices, p));
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0], "#0         vulkan:0");
  EXPECT_EQ(got[1], "reshape#1  vulkan:0 (view)");
  EXPECT_EQ(got[2], "2 nodes: 2 on vulkan:0; 0 fallbacks; 0 kept by transfer cost; 0 copies");
}

TEST(Scheduler, FormatListsLeavesAfterTheNodesAndCopiesThem) {
  std::vector<ScheduleNode> nodes = {{.is_leaf = true, .label = "input 'x'"},
                                     {.inputs = {0}, .label = "a"},
                                     {.inputs = {0, 1}, .label = "b"}};
  FakeDevices dev;
  dev.refuse(kVulkan, 1, "no");
  ScheduleOptions opt = vulkan_then_cpu();
  Placement p = schedule_ok(nodes, opt, dev.fn());
  std::vector<std::string> got = lines(format_placement(nodes, opt.devices, p));
  ASSERT_EQ(got.size(), 6u);
  EXPECT_EQ(got[0], "a          cpu:0 (fallback: vulkan:0 said 'no')");
  EXPECT_EQ(got[1], "b          vulkan:0");
  EXPECT_EQ(got[2], "input 'x'  cpu:0 (leaf)");
  EXPECT_EQ(got[3], "copy input 'x': cpu:0 -> vulkan:0 (before b)");
  EXPECT_EQ(got[4], "copy a: cpu:0 -> vulkan:0 (before b)");
  EXPECT_EQ(got[5], "2 nodes: 1 on cpu:0, 1 on vulkan:0; 1 fallbacks; 0 kept by transfer cost; 2 copies");
}

TEST(Scheduler, EmptyGraph) {
  FakeDevices dev;
  ScheduleOptions opt = vulkan_then_cpu();
  Placement p = schedule_ok({}, opt, dev.fn());
  EXPECT_TRUE(p.device.empty());
  EXPECT_EQ(format_placement({}, opt.devices, p),
            "0 nodes; 0 fallbacks; 0 kept by transfer cost; 0 copies\n");
}

TEST(Scheduler, WeightsAndTheirViewsAreNeverCopied) {
  // -1 inputs are weights, bound on every device that reads them.
  std::vector<ScheduleNode> nodes = {
      {.inputs = {-1}, .is_view = true, .label = "weight_view#0"},
      {.inputs = {0, -1}, .label = "cpu_reader#1"},
      {.inputs = {0, -1}, .label = "vulkan_reader#2"},
  };
  FakeDevices dev;
  dev.refuse(kVulkan, 1, "no");
  Placement p = schedule_ok(nodes, vulkan_then_cpu(), dev.fn());
  EXPECT_EQ(p.device, (std::vector<int32_t>{kCpu, kCpu, kVulkan}));
  EXPECT_TRUE(p.copies.empty());
}

// --- transfer cost ---

ScheduleOptions costed(std::vector<double> bandwidth = {}) {
  ScheduleOptions opt = vulkan_then_cpu();
  opt.cost.enabled = true;
  opt.cost.bandwidth = std::move(bandwidth);
  return opt;
}

// a (cpu only) -> b -> c (cpu only): 16 KiB values, each node reading its input.
std::vector<ScheduleNode> sandwich() {
  return {{.inputs = {-1}, .bytes = 16384, .read_bytes = 16384, .label = "a"},
          {.inputs = {0}, .bytes = 16384, .read_bytes = 16384, .label = "b"},
          {.inputs = {1}, .bytes = 16384, .read_bytes = 16384, .label = "c"}};
}

TEST(SchedulerCost, IsolatedSupportedOpBetweenUnsupportedOnesStaysOnTheFallback) {
  FakeDevices dev;
  dev.refuse(kVulkan, 0, "no");
  dev.refuse(kVulkan, 2, "no");
  ScheduleOptions opt = costed();  // vulkan's bandwidth unknown: the CPU's
  std::vector<ScheduleNode> nodes = sandwich();
  Placement p = schedule_ok(nodes, opt, dev.fn());
  EXPECT_EQ(p.device, (std::vector<int32_t>{kCpu, kCpu, kCpu}));
  EXPECT_TRUE(p.copies.empty());
  EXPECT_EQ(p.n_fallbacks, 2);
  EXPECT_EQ(p.n_kept, 1);
  EXPECT_EQ(p.kept, (std::vector<int32_t>{-1, 0, -1}));
  ASSERT_EQ(p.kept_runs.size(), 1u);
  const KeptRun& k = p.kept_runs[0];
  EXPECT_EQ(k.first, 1);
  EXPECT_EQ(k.last, 1);
  EXPECT_EQ(k.preferred, kVulkan);
  EXPECT_EQ(k.copies_preferred, 2);  // a's output up, b's down
  EXPECT_EQ(k.copies_fallback, 0);
  EXPECT_EQ(k.copy_bytes_preferred, 32768);
  // Same bandwidth: b costs 32 KiB / 20 GB/s either way; the copies add
  // 2 x (20 us + 16 KiB / 8 GB/s) on vulkan.
  const double node = 32768 / 20e9;
  EXPECT_DOUBLE_EQ(k.cost_fallback, node);
  EXPECT_DOUBLE_EQ(k.cost_preferred, node + 2 * (20e-6 + 16384 / 8e9));
  std::vector<std::string> got = lines(format_placement(nodes, opt.devices, p));
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(
      got[1],
      "b  cpu:0 (kept on cpu:0: run b: on vulkan:0 45.7 us with 2 copies (32.00 KiB), here 1.6 us with 0 "
      "copies (0.00 KiB))");
  EXPECT_EQ(got[3], "3 nodes: 3 on cpu:0; 2 fallbacks; 1 kept by transfer cost; 0 copies");
}

// a (cpu only) -> 8 matmul-like nodes reading 64 MiB of weights each -> z
// (cpu only); the values between are 16 KiB.
std::vector<ScheduleNode> long_run() {
  std::vector<ScheduleNode> nodes = {{.inputs = {-1}, .bytes = 16384, .label = "a"}};
  for (int i = 1; i <= 8; ++i)
    nodes.push_back({.inputs = {i - 1, -1}, .bytes = 16384, .read_bytes = 16384 + (64 << 20), .label = "m"});
  nodes.push_back({.inputs = {8}, .bytes = 16384, .read_bytes = 16384, .label = "z"});
  return nodes;
}

TEST(SchedulerCost, LongRunWithBigComputeAndSmallBoundariesMoves) {
  // On a device 10x faster than the CPU.
  std::vector<ScheduleNode> nodes = long_run();
  FakeDevices dev;
  dev.refuse(kVulkan, 0, "no");
  dev.refuse(kVulkan, 9, "no");
  Placement p = schedule_ok(nodes, costed({20e9, 200e9}), dev.fn());
  for (int i = 1; i <= 8; ++i) EXPECT_EQ(p.device[i], kVulkan) << i;
  EXPECT_EQ(p.n_kept, 0);
  EXPECT_TRUE(p.kept_runs.empty());
  EXPECT_EQ(p.copies.size(), 2u);
}

TEST(SchedulerCost, SameRunOnADeviceOfUnknownSpeedStaysOnTheFallback) {
  // The same graph with vulkan's bandwidth unknown (taken as the CPU's): the
  // run saves nothing, so its two copies are pure cost.
  std::vector<ScheduleNode> nodes = long_run();
  FakeDevices dev;
  dev.refuse(kVulkan, 0, "no");
  dev.refuse(kVulkan, 9, "no");
  Placement p = schedule_ok(nodes, costed({20e9, 0}), dev.fn());
  EXPECT_EQ(p.n_kept, 8);
  ASSERT_EQ(p.kept_runs.size(), 1u);
  EXPECT_EQ(p.kept_runs[0].n_nodes, 8);
  EXPECT_TRUE(p.copies.empty());
  const std::string report = format_placement(nodes, {"cpu:0", "vulkan:0", "cuda:0"}, p);
  EXPECT_NE(report.find("(kept on cpu:0: run m .. m of 8 nodes: on vulkan:0 "), std::string::npos) << report;
}

TEST(SchedulerCost, TieStaysOnThePreferredDevice) {
  // Copies and nodes free: both placements cost 0, and the caller asked for vulkan.
  FakeDevices dev;
  dev.refuse(kVulkan, 0, "no");
  dev.refuse(kVulkan, 2, "no");
  ScheduleOptions opt = costed();
  opt.cost.copy_latency = 0;
  std::vector<ScheduleNode> nodes = {
      {.inputs = {-1}, .label = "a"}, {.inputs = {0}, .label = "b"}, {.inputs = {1}, .label = "c"}};
  Placement p = schedule_ok(nodes, opt, dev.fn());
  EXPECT_EQ(p.device[1], kVulkan);
  EXPECT_EQ(p.n_kept, 0);
  EXPECT_EQ(p.copies.size(), 2u);
}

TEST(SchedulerCost, OffByDefaultAndInStrictMode) {
  for (int mode = 0; mode < 2; ++mode) {
    FakeDevices dev;
    dev.refuse(kVulkan, 0, "no");
    dev.refuse(kVulkan, 2, "no");
    ScheduleOptions opt = mode == 0 ? vulkan_then_cpu() : costed();
    opt.strict = mode == 1;
    // Strict mode refuses a and c; the point is b is never kept back.
    Result<Placement> r = schedule_nodes(sandwich(), opt, dev.fn());
    if (mode == 1) {
      EXPECT_FALSE(r.is_ok());
      continue;
    }
    ASSERT_TRUE(r.is_ok()) << r.status().message();
    EXPECT_EQ(r.value().device[1], kVulkan);
    EXPECT_EQ(r.value().n_kept, 0);
    EXPECT_EQ(r.value().copies.size(), 2u);
    for (const auto& [device, node] : dev.asked) EXPECT_TRUE(device != kCpu || node != 1);  // never costed
  }
  // Strict with every node supported on vulkan: nothing moves, the CPU is never asked.
  FakeDevices all;
  ScheduleOptions strict = costed();
  strict.strict = true;
  Placement p = schedule_ok(sandwich(), strict, all.fn());
  EXPECT_EQ(p.device, (std::vector<int32_t>(3, kVulkan)));
  for (const auto& [device, node] : all.asked) EXPECT_NE(device, kCpu);
}

TEST(SchedulerCost, RunTheFallbackCannotRunStays) {
  FakeDevices dev;
  dev.refuse(kVulkan, 0, "no");
  dev.refuse(kVulkan, 2, "no");
  dev.refuse(kCpu, 1, "vulkan only");
  Placement p = schedule_ok(sandwich(), costed(), dev.fn());
  EXPECT_EQ(p.device[1], kVulkan);
  EXPECT_EQ(p.n_kept, 0);
  EXPECT_TRUE(p.refusals[1].empty());  // asked after the choice: not a refusal
}

// --- malformed requests ---

std::string schedule_error(const std::vector<ScheduleNode>& nodes, const ScheduleOptions& opt) {
  FakeDevices dev;
  Result<Placement> r = schedule_nodes(nodes, opt, dev.fn());
  EXPECT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), TSR_ERR_INVALID_ARGUMENT);
  return r.status().message();
}

// A pipeline split: the first half of a chain pinned to vulkan, the rest to
// the CPU although vulkan is preferred; one copy at the boundary.
TEST(SchedulerPin, PinnedNodesGoWhereTheCallerPutThem) {
  std::vector<ScheduleNode> nodes = small_graph();
  nodes[0].pin = nodes[1].pin = kVulkan;
  nodes[2].pin = nodes[3].pin = nodes[4].pin = kCpu;
  FakeDevices dev;
  Placement p = schedule_ok(nodes, vulkan_then_cpu(), dev.fn());
  EXPECT_EQ(p.device, (std::vector<int32_t>{kVulkan, kVulkan, kCpu, kCpu, kCpu}));
  EXPECT_EQ(p.n_fallbacks, 0);
  // matmul#2 reads rms_norm#1, add#3 get_rows#0 (mul#4 rms_norm#1 again):
  // each crosses to the CPU once, before its first reader there.
  ASSERT_EQ(p.copies.size(), 2u);
  EXPECT_EQ(p.copies[0].value, 1);
  EXPECT_EQ(p.copies[0].to, kCpu);
  EXPECT_EQ(p.copies[1].value, 0);
  EXPECT_EQ(p.copies[1].to, kCpu);
  // Pinned nodes ask only their pin: vulkan was never asked about the CPU's.
  for (const auto& [device, node] : dev.asked) EXPECT_EQ(device, nodes[node].pin) << "node " << node;
}

TEST(SchedulerPin, RefusingPinFallsBackOrFailsInStrictMode) {
  std::vector<ScheduleNode> nodes = small_graph();
  for (auto& n : nodes) n.pin = kCuda;  // cuda is not even in the preference list
  FakeDevices dev;
  dev.refuse(kCuda, 2, "q4_1 weights");
  Placement p = schedule_ok(nodes, vulkan_then_cpu(), dev.fn());
  EXPECT_EQ(p.device, (std::vector<int32_t>{kCuda, kCuda, kCpu, kCuda, kCuda}));
  EXPECT_EQ(p.n_fallbacks, 1);
  ASSERT_EQ(p.refusals[2].size(), 1u);
  EXPECT_EQ(p.refusals[2][0].device, kCuda);
  Result<Placement> strict = schedule_nodes(nodes, vulkan_then_cpu(/*strict=*/true), dev.fn());
  ASSERT_FALSE(strict.is_ok());
  EXPECT_NE(
      strict.status().message().find("matmul#2 f32 [1536, 7]: no placed device supports it: cuda:0: q4_1 "
                                     "weights; strict mode forbids fallback to cpu:0"),
      std::string::npos)
      << strict.status().message();
}

TEST(SchedulerPin, TransferCostNeverMovesAPinnedNode) {
  // The sandwich's middle node would be kept on the CPU (see
  // IsolatedSupportedOpBetweenUnsupportedOnesStaysOnTheFallback); pinned,
  // it stays on vulkan and pays its two copies.
  std::vector<ScheduleNode> nodes = sandwich();
  nodes[1].pin = kVulkan;
  FakeDevices dev;
  dev.refuse(kVulkan, 0, "no");
  dev.refuse(kVulkan, 2, "no");
  Placement p = schedule_ok(nodes, costed(), dev.fn());
  EXPECT_EQ(p.device, (std::vector<int32_t>{kCpu, kVulkan, kCpu}));
  EXPECT_EQ(p.n_kept, 0);
  EXPECT_EQ(p.copies.size(), 2u);
}

TEST(SchedulerErrors, BadPins) {
  FakeDevices dev;
  std::vector<ScheduleNode> nodes = small_graph();
  nodes[1].pin = 3;
  Result<Placement> r = schedule_nodes(nodes, vulkan_then_cpu(), dev.fn());
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("pin 3 is not a device index in 0..2"), std::string::npos)
      << r.status().message();
  std::vector<ScheduleNode> leaf = {{.is_leaf = true, .label = "input 'x'", .pin = kVulkan}};
  r = schedule_nodes(leaf, vulkan_then_cpu(), dev.fn());
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("only a compute node can be pinned"), std::string::npos);
}

TEST(SchedulerErrors, InputNotAnEarlierNode) {
  std::vector<ScheduleNode> nodes = {{.inputs = {-1}, .label = "a"}, {.inputs = {0, 1}, .label = "b"}};
  EXPECT_EQ(schedule_error(nodes, vulkan_then_cpu()),
            "[schedule] node b (#1): input 1 is neither -1 nor an earlier node");
  nodes[1].inputs = {-3};
  EXPECT_EQ(schedule_error(nodes, vulkan_then_cpu()),
            "[schedule] node b (#1): input -3 is neither -1 nor an earlier node");
}

TEST(SchedulerErrors, ViewNeedsExactlyOneInput) {
  std::vector<ScheduleNode> nodes = {{.inputs = {}, .is_view = true, .label = "v"}};
  EXPECT_EQ(schedule_error(nodes, vulkan_then_cpu()),
            "[schedule] node v (#0): a view has exactly one input, not 0");
  nodes = {{.inputs = {-1, -1}, .is_view = true, .label = "v"}};
  EXPECT_EQ(schedule_error(nodes, vulkan_then_cpu()),
            "[schedule] node v (#0): a view has exactly one input, not 2");
}

TEST(SchedulerErrors, LeafWithInputs) {
  std::vector<ScheduleNode> nodes = {{.inputs = {-1}, .is_leaf = true, .label = "x"}};
  EXPECT_EQ(schedule_error(nodes, vulkan_then_cpu()),
            "[schedule] node x (#0): a leaf has no inputs and is not a view");
}

TEST(SchedulerErrors, BadDeviceLists) {
  std::vector<ScheduleNode> nodes = {{.inputs = {-1}, .label = "a"}};
  ScheduleOptions opt = vulkan_then_cpu();
  opt.preference = {};
  EXPECT_EQ(schedule_error(nodes, opt), "[schedule] empty device preference list");
  opt.preference = {kVulkan, 7};
  EXPECT_EQ(schedule_error(nodes, opt), "[schedule] preference[1] = 7 is not a device index in 0..2");
  opt.preference = {kVulkan, kCuda, kVulkan};
  EXPECT_EQ(schedule_error(nodes, opt), "[schedule] device vulkan:0 appears twice in the preference list");
  opt.preference = {kVulkan};
  opt.fallback = -1;
  EXPECT_EQ(schedule_error(nodes, opt), "[schedule] fallback -1 is not a device index in 0..2");
}

TEST(SchedulerErrors, MissingCallback) {
  Result<Placement> r = schedule_nodes({}, vulkan_then_cpu(), SupportsFn{});
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().message(), "[schedule] no supports callback");
}

}  // namespace
}  // namespace tsr
