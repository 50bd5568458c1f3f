// Allocation-failure injection (issue 20): the Nth host allocation (global
// operator new, alloc_fault.h) or the Nth device allocation (core's
// alloc_device_buffer, fault::fail_device_alloc_at) fails, for every N in
// turn, while a context loads the tiny llama and generates with it, and while
// it compiles and runs a conformance-style graph (norm, matmul, rope,
// attention, set_rows into a state, softmax). Each run must either fail with
// an error status and a message, or succeed with the results of the run
// without injection (a failure the library legitimately recovers from); no
// crash, and no leak (scripts/test.sh runs this under LeakSanitizer). After
// every failure the same context must load and run again, with the same
// results.
//
// The device under test is TSR_FAULT_DEVICE: cpu and gpuemu here (the gpuemu
// plugin), vulkan in alloc_fault_vulkan_test. Host allocation sweeps take
// TSR_FAULT_HOST_POINTS allocations spread over the run (see sample_points;
// all of them with TESSERA_FAULT_ALL=1, by hand).
#include "tests/reliability/alloc_fault.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/device_alloc.h"
#include "tessera/tessera.h"
#include "tessera/tessera_llm.h"
#include "tests/models/tiny_llama.h"

namespace {

namespace hf = tessera::test::host_fault;

// What one run of a scenario gave: a status and message, or results.
struct Outcome {
  tsr_status_code code = TSR_OK;
  std::string message;
  std::vector<float> values;
};

// Calls f (a tsr_* call) with host allocations counted; on failure fills out.
bool call(Outcome& out, const std::function<tsr_status_code()>& f) {
  const tsr_status_code c = hf::counted(f);
  if (c == TSR_OK) return true;
  out.code = c;
  out.message = tsr_last_error();
  return false;
}

struct LlmFree {
  void operator()(tsr_llm* m) const {
    hf::counted([&] { tsr_llm_free(m); });
  }
};
struct SessionFree {
  void operator()(tsr_llm_session* s) const {
    hf::counted([&] { tsr_llm_session_free(s); });
  }
};
struct GraphFree {
  void operator()(tsr_graph* g) const {
    hf::counted([&] { tsr_graph_destroy(g); });
  }
};
struct ModelFree {
  void operator()(tsr_model* m) const {
    hf::counted([&] { tsr_model_destroy(m); });
  }
};

// Load the tiny llama on device, prefill 6 tokens, decode 3 greedily; the
// values are the last logits and the chosen tokens.
Outcome run_llm(tsr_context* ctx, const std::string& device, const std::string& path) {
  Outcome out;
  const char* devs[] = {device.c_str()};
  tsr_llm_options o{sizeof o};
  o.devices = devs;
  o.n_devices = 1;
  o.n_ctx = 32;
  o.n_batch = 8;
  tsr_llm* raw_model = nullptr;
  if (!call(out, [&] { return tsr_llm_load(ctx, path.c_str(), &o, &raw_model); })) return out;
  std::unique_ptr<tsr_llm, LlmFree> model(raw_model);
  tsr_llm_sampling sp{sizeof sp};
  tsr_llm_session* raw_session = nullptr;
  if (!call(out, [&] { return tsr_llm_session_create(model.get(), &sp, &raw_session); })) return out;
  std::unique_ptr<tsr_llm_session, SessionFree> session(raw_session);
  std::vector<int32_t> tokens = {258, 104, 101, 108, 108, 111};
  int32_t n_feed = static_cast<int32_t>(tokens.size());
  const float* logits = nullptr;
  int32_t rows = 0;
  tsr_llm_info info{sizeof info};
  if (!call(out, [&] { return tsr_llm_get_info(model.get(), &info); })) return out;
  for (int step = 0; step < 4; ++step) {
    const int32_t* feed = tokens.data() + tokens.size() - n_feed;
    if (!call(out, [&] { return tsr_llm_session_eval(session.get(), feed, n_feed, 0); })) return out;
    if (!call(out, [&] { return tsr_llm_session_logits(session.get(), &logits, &rows); })) return out;
    const float* last = logits + static_cast<size_t>(rows - 1) * info.n_vocab;
    tokens.push_back(static_cast<int32_t>(std::max_element(last, last + info.n_vocab) - last));
    n_feed = 1;
    if (step == 3) out.values.assign(last, last + info.n_vocab);
  }
  out.values.insert(out.values.end(), tokens.begin(), tokens.end());
  return out;
}

// A decoder-block-shaped graph through the C API on device, executed twice
// (the second step sees the state the first wrote).
Outcome run_graph(tsr_context* ctx, const std::string& device) {
  Outcome out;
  tsr_graph* raw_graph = nullptr;
  if (!call(out, [&] { return tsr_graph_create(ctx, &raw_graph); })) return out;
  std::unique_ptr<tsr_graph, GraphFree> g(raw_graph);
  constexpr int64_t D = 16, H = 4, T = 4, E = D * H;
  static const std::vector<uint16_t> w = [] {
    std::vector<uint16_t> v(E * E);
    for (size_t i = 0; i < v.size(); ++i)
      v[i] = tsr::f32_to_f16(std::sin(0.37f * static_cast<float>(i)) * 0.2f);
    return v;
  }();
  const int64_t x_ne[] = {E, T}, w_ne[] = {E, E}, pos_ne[] = {T}, kv_ne[] = {E, 8};
  tsr_tensor x, wt, pos, idx, kv;
  tsr_op_params p{};
  auto op = [&](int32_t code, std::vector<tsr_tensor> in, tsr_tensor* res) {
    return call(out, [&] {
      return tsr_graph_op(g.get(), code, in.data(), static_cast<int32_t>(in.size()), &p, res);
    });
  };
  tsr_tensor h, q, q3, r, att, att2, sum, act, sm, rows;
  if (!call(out, [&] { return tsr_graph_input(g.get(), "x", TSR_DTYPE_F32, 2, x_ne, &x); }) ||
      !call(out, [&] { return tsr_graph_input(g.get(), "pos", TSR_DTYPE_I32, 1, pos_ne, &pos); }) ||
      !call(out, [&] { return tsr_graph_input(g.get(), "idx", TSR_DTYPE_I32, 1, pos_ne, &idx); }) ||
      !call(out,
            [&] {
              return tsr_graph_weight(g.get(), "w", TSR_DTYPE_F16, 2, w_ne, w.data(), w.size() * 2, &wt);
            }) ||
      !call(out, [&] { return tsr_graph_state(g.get(), "kv", TSR_DTYPE_F32, 2, kv_ne, &kv); }))
    return out;
  p = {};
  p.f[0] = 1e-5f;
  if (!op(TSR_OP_RMS_NORM, {x}, &h)) return out;
  p = {};
  if (!op(TSR_OP_MATMUL, {wt, h}, &q)) return out;
  p.i[0] = D, p.i[1] = H, p.i[2] = T, p.i[3] = 1;
  if (!op(TSR_OP_RESHAPE, {q}, &q3)) return out;
  p = {};
  p.i[0] = D, p.i[1] = TSR_ROPE_NEOX, p.f[0] = 10000.0f;
  if (!op(TSR_OP_ROPE, {q3, pos}, &r)) return out;
  p = {};
  p.i[0] = 1, p.i[1] = -1;
  if (!op(TSR_OP_ATTENTION, {r, r, r, pos}, &att)) return out;
  p = {};
  p.i[0] = E, p.i[1] = T, p.i[2] = 1, p.i[3] = 1;
  if (!op(TSR_OP_RESHAPE, {att}, &att2)) return out;
  p = {};
  if (!op(TSR_OP_ADD, {att2, x}, &sum) || !op(TSR_OP_SILU, {sum}, &act) || !op(TSR_OP_SOFTMAX, {act}, &sm) ||
      !op(TSR_OP_SET_ROWS, {kv, h, idx}, &rows))
    return out;
  if (!call(out, [&] { return tsr_graph_output(g.get(), sm); }) ||
      !call(out, [&] { return tsr_graph_output(g.get(), rows); }))
    return out;
  const char* devs[] = {device.c_str()};
  tsr_compile_options co{sizeof co, devs, 1, 0};
  tsr_model* raw_model = nullptr;
  if (!call(out, [&] { return tsr_compile(ctx, g.get(), &co, &raw_model); })) return out;
  std::unique_ptr<tsr_model, ModelFree> m(raw_model);
  std::vector<float> xs(E * T), sm_out(E * T), kv_out(E * 8);
  for (size_t i = 0; i < xs.size(); ++i) xs[i] = std::cos(0.11f * static_cast<float>(i));
  for (int32_t step = 0; step < 2; ++step) {
    const int32_t ps[T] = {4 * step, 4 * step + 1, 4 * step + 2, 4 * step + 3};
    if (!call(out, [&] { return tsr_model_set_input(m.get(), x, xs.data(), xs.size() * 4); }) ||
        !call(out, [&] { return tsr_model_set_input(m.get(), pos, ps, sizeof ps); }) ||
        !call(out, [&] { return tsr_model_set_input(m.get(), idx, ps, sizeof ps); }) ||
        !call(out, [&] { return tsr_model_execute(m.get(), nullptr, 0); }) ||
        !call(out, [&] { return tsr_model_get_output(m.get(), sm, sm_out.data(), sm_out.size() * 4); }) ||
        !call(out, [&] { return tsr_model_get_output(m.get(), rows, kv_out.data(), kv_out.size() * 4); }))
      return out;
    out.values.insert(out.values.end(), sm_out.begin(), sm_out.end());
    out.values.insert(out.values.end(), kv_out.begin(), kv_out.end());
  }
  return out;
}

bool same_values(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (!(std::fabs(a[i] - b[i]) <= 1e-5f * std::max(1.0f, std::fabs(b[i])))) return false;
  return true;
}

std::string device_under_test() { return TSR_FAULT_DEVICE; }

// How many allocations a sweep fails, at most: every one with
// TESSERA_FAULT_ALL=1; else TESSERA_FAULT_POINTS when set (scripts/test.sh
// samples fewer under AddressSanitizer, where the emulator is slow); else
// the build's default (all device allocations, TSR_FAULT_HOST_POINTS host ones).
int64_t sample_points(int64_t fallback) {
  const char* all = std::getenv("TESSERA_FAULT_ALL");
  if (all && std::string(all) == "1") return INT64_MAX;
  const char* n = std::getenv("TESSERA_FAULT_POINTS");
  if (n && *n) return std::max<int64_t>(1, std::atoll(n));
  return fallback;
}

class AllocFault : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(tsr_context_create(nullptr, &ctx_), TSR_OK) << tsr_last_error();
#ifdef TSR_GPUEMU_PLUGIN_PATH
    if (device_under_test() == "gpuemu")
      ASSERT_EQ(tsr_context_load_plugin(ctx_, TSR_GPUEMU_PLUGIN_PATH), TSR_OK) << tsr_last_error();
#endif
    int32_t index = -1;
    if (tsr_device_find(ctx_, device_under_test().c_str(), &index) != TSR_OK) {
      if (device_under_test() == "vulkan" && !std::getenv("TESSERA_REQUIRE_VULKAN"))
        GTEST_SKIP() << "no Vulkan device: " << tsr_last_error();
      FAIL() << tsr_last_error();
    }
    path_ = ::testing::TempDir() + "alloc_fault_" + std::to_string(::getpid()) + ".gguf";
    ASSERT_TRUE(tessera::test::write_tiny_llama(path_));
  }
  void TearDown() override {
    tsr_context_destroy(ctx_);
    std::remove(path_.c_str());
  }

  enum class Kind { kHost, kDevice };

  // Runs scenario once without injection (the reference; counts the
  // allocations), then with the Nth allocation failing for the chosen N;
  // returns the number of runs that failed with an error.
  int sweep(Kind kind, const std::function<Outcome()>& scenario, const char* what) {
    tsr::fault::fail_device_alloc_at(0);
    hf::arm(0);
    const Outcome ref = scenario();
    const int64_t total = kind == Kind::kHost ? hf::disarm() : tsr::fault::device_allocs();
    EXPECT_EQ(ref.code, TSR_OK) << what << ": " << ref.message;
    EXPECT_FALSE(ref.values.empty()) << what;
    if (ref.code != TSR_OK || total == 0) return 0;

    const int64_t points =
        std::min(total, sample_points(kind == Kind::kHost ? TSR_FAULT_HOST_POINTS : total));
    int failed = 0, recovered = 0;
    for (int64_t i = 0; i < points; ++i) {
      // Evenly spread over [1, total], always including the first and last.
      const int64_t n = points == total ? i + 1 : 1 + i * (total - 1) / std::max<int64_t>(points - 1, 1);
      if (kind == Kind::kHost) {
        hf::arm(n);
      } else {
        tsr::fault::fail_device_alloc_at(n);
      }
      const Outcome o = scenario();
      hf::disarm();
      tsr::fault::fail_device_alloc_at(0);
      if (o.code == TSR_OK) {
        // The failure was recovered from (or never reached): the results must be the reference's.
        EXPECT_TRUE(same_values(o.values, ref.values)) << what << ": allocation " << n << " of " << total
                                                       << " failed, the run succeeded with other results";
        ++recovered;
        continue;
      }
      ++failed;
      EXPECT_FALSE(o.message.empty())
          << what << ": allocation " << n << ": status " << o.code << " without a message";
      if (kind == Kind::kDevice)
        EXPECT_NE(o.message.find("injected failure"), std::string::npos)
            << what << ": allocation " << n << ": the message does not carry the failure: " << o.message;
      // The context is usable afterwards: the same work succeeds, with the same results.
      const Outcome again = scenario();
      EXPECT_EQ(again.code, TSR_OK) << what << ": after allocation " << n << " failed (" << o.message
                                    << "), the next run failed: " << again.message;
      EXPECT_TRUE(again.code != TSR_OK || same_values(again.values, ref.values))
          << what << ": after allocation " << n << " failed, the next run gave other results";
      if (::testing::Test::HasFailure()) break;  // one clear report, not thousands
    }
    std::printf(
        "%s on %s: %s allocations: %lld; injected at %lld points: %d failed with a status, %d recovered\n",
        what, device_under_test().c_str(), kind == Kind::kHost ? "host" : "device",
        static_cast<long long>(total), static_cast<long long>(points), failed, recovered);
    return failed;
  }

  tsr_context* ctx_ = nullptr;
  std::string path_;
};

TEST_F(AllocFault, DeviceAllocationsWhileLoadingAndGenerating) {
  const int failed = sweep(
      Kind::kDevice, [&] { return run_llm(ctx_, device_under_test(), path_); }, "tiny llama");
  EXPECT_GT(failed, 0) << "no device allocation failure reached the caller";
}

TEST_F(AllocFault, DeviceAllocationsWhileCompilingAndRunningAGraph) {
  const int failed = sweep(
      Kind::kDevice, [&] { return run_graph(ctx_, device_under_test()); }, "graph");
  EXPECT_GT(failed, 0) << "no device allocation failure reached the caller";
}

TEST_F(AllocFault, HostAllocationsWhileLoadingAndGenerating) {
  const int failed = sweep(
      Kind::kHost, [&] { return run_llm(ctx_, device_under_test(), path_); }, "tiny llama");
  EXPECT_GT(failed, 0) << "no host allocation failure reached the caller";
}

TEST_F(AllocFault, HostAllocationsWhileCompilingAndRunningAGraph) {
  const int failed = sweep(
      Kind::kHost, [&] { return run_graph(ctx_, device_under_test()); }, "graph");
  EXPECT_GT(failed, 0) << "no host allocation failure reached the caller";
}

}  // namespace
