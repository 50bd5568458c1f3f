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
  EXPECT_EQ(got[7], "5 nodes: 1 on cpu:0, 4 on vulkan:0; 1 fallbacks; 2 copies");
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
      {.inputs = {2}, .label = "rope#3"},                      // vulkan: copies the view
      {.inputs = {2}, .label = "scale#4"},                     // vulkan: same copy
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
  EXPECT_EQ(p.copies[0].value, 2);  // the view's bytes, not the whole producer
  EXPECT_EQ(p.copies[0].from, kCpu);
  EXPECT_EQ(p.copies[0].to, kVulkan);
  EXPECT_EQ(p.copies[0].first_consumer, 3);
}

TEST(Scheduler, ViewOfLeafTakesItsFirstConsumersDevice) {
  std::vector<ScheduleNode> nodes = {
      {.inputs = {-1}, .is_view = true, .label = "view#0"},  // of a leaf
      {.inputs = {0}, .is_view = true, .label = "view#1"},   // view of that view
      {.inputs = {-1}, .label = "other#2"},
      {.inputs = {0}, .label = "first#3"},  // first compute reader: cpu
      {.inputs = {1}, .label = "later#4"},  // vulkan: needs a copy of view#1
      {.inputs = {-1}, .is_view = true, .label = "unused_view#5"},
  };
  FakeDevices dev;
  dev.refuse(kVulkan, 3, "no");
  Placement p = schedule_ok(nodes, vulkan_then_cpu(), dev.fn());
  EXPECT_EQ(p.device[0], kCpu);
  EXPECT_EQ(p.device[1], kCpu);  // with its producer, even though its own reader is on vulkan
  EXPECT_EQ(p.device[3], kCpu);
  EXPECT_EQ(p.device[4], kVulkan);
  EXPECT_EQ(p.device[5], kCpu);  // nothing reads it: the fallback device
  ASSERT_EQ(p.copies.size(), 1u);
  EXPECT_EQ(p.copies[0].value, 1);
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
  EXPECT_EQ(got[2], "2 nodes: 2 on vulkan:0; 0 fallbacks; 0 copies");
}

TEST(Scheduler, EmptyGraph) {
  FakeDevices dev;
  ScheduleOptions opt = vulkan_then_cpu();
  Placement p = schedule_ok({}, opt, dev.fn());
  EXPECT_TRUE(p.device.empty());
  EXPECT_EQ(format_placement({}, opt.devices, p), "0 nodes; 0 fallbacks; 0 copies\n");
}

// --- malformed requests ---

std::string schedule_error(const std::vector<ScheduleNode>& nodes, const ScheduleOptions& opt) {
  FakeDevices dev;
  Result<Placement> r = schedule_nodes(nodes, opt, dev.fn());
  EXPECT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), TSR_ERR_INVALID_ARGUMENT);
  return r.status().message();
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
