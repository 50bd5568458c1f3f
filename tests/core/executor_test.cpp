// Executor: memory planning on a real transformer graph, results equal to the
// reference interpreter, and transfers between two devices.
#include "core/executor.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "backends/builtin_backends.h"
#include "backends/cpu/cpu_backend.h"
#include "core/interpreter.h"
#include "models/transformer_block.h"
#include "python-free-api/src/c_api_internal.h"

namespace tsr {
namespace {

struct Prompt {
  std::vector<float> x;
  std::vector<int32_t> pos;
};

Prompt make_prompt(const tessera::models::BlockConfig& cfg, int64_t T, int32_t first_pos) {
  Prompt p;
  std::mt19937 rng(3);
  std::normal_distribution<float> d(0.0f, 1.0f);
  p.x.resize(static_cast<size_t>(cfg.n_embd * T));
  for (float& v : p.x) v = d(rng);
  for (int64_t i = 0; i < T; ++i) p.pos.push_back(first_pos + static_cast<int32_t>(i));
  return p;
}

double max_rel_error(const std::vector<float>& a, const std::vector<unsigned char>& ref_bytes) {
  const float* ref = reinterpret_cast<const float*>(ref_bytes.data());
  double max_ref = 0, max_err = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    max_ref = std::max(max_ref, static_cast<double>(std::fabs(ref[i])));
    max_err = std::max(max_err, static_cast<double>(std::fabs(a[i] - ref[i])));
  }
  return max_err / std::max(max_ref, 1e-30);
}

TEST(Executor, planner_peak_on_two_layer_transformer_is_at_most_60_percent) {
  tessera::Context ctx(2);
  tessera::Graph g(ctx);
  tessera::models::BlockConfig cfg;
  cfg.n_layer = 2;
  const int64_t T = 16;
  auto blk = tessera::models::build_transformer(g, cfg, T);
  tessera::Model m(ctx, g, {"cpu"}, true);
  const tsr_model_stats s = m.stats();
  ASSERT_GT(s.activation_total_bytes, 0u);
  const double ratio = static_cast<double>(s.activation_peak_bytes) / s.activation_total_bytes;
  EXPECT_LE(ratio, 0.60) << "peak " << s.activation_peak_bytes << " of " << s.activation_total_bytes;
  RecordProperty("peak_ratio", std::to_string(ratio));

  // Independent check of the plan that was actually bound: no two tensors
  // live at the same step overlap in memory.
  const CompiledModel& cm = model_of(m.get());
  ASSERT_FALSE(cm.memory_plans().empty());
  for (const DeviceMemoryPlan& p : cm.memory_plans()) {
    Status st = check_plan(p.buffers, p.plan);
    EXPECT_TRUE(st.is_ok()) << p.device << ": " << st.message();
  }
}

TEST(Executor, transformer_matches_reference_interpreter_over_two_steps) {
  tessera::Context ctx(2);
  tessera::Graph g(ctx);
  tessera::models::BlockConfig cfg;
  cfg.n_layer = 2;
  const int64_t T = 8;
  auto blk = tessera::models::build_transformer(g, cfg, T);
  tessera::Model m(ctx, g, {"cpu"}, true);
  ReferenceInterpreter ref(graph_of(g.get()));
  // Two executions at successive positions: the second reads the KV cache
  // the first wrote, so state persistence is checked too.
  for (int step = 0; step < 2; ++step) {
    const Prompt p = make_prompt(cfg, T, step * static_cast<int32_t>(T));
    m.set_input(blk.x, p.x);
    m.set_input(blk.pos, p.pos);
    m.execute({(step + 1) * T});
    ASSERT_TRUE(ref.set_input(blk.x, p.x.data(), p.x.size() * 4).is_ok());
    ASSERT_TRUE(ref.set_input(blk.pos, p.pos.data(), p.pos.size() * 4).is_ok());
    const int64_t kv = (step + 1) * T;
    ASSERT_TRUE(ref.run(&kv, 1).is_ok());
    const auto got = m.output<float>(blk.logits, static_cast<size_t>(cfg.n_vocab * T));
    auto want = ref.read(blk.logits);
    ASSERT_TRUE(want.is_ok());
    EXPECT_LT(max_rel_error(got, want.value()), 2e-4) << "step " << step;
  }
}

// A second device that is the CPU backend restricted to element-wise ops, so
// that a graph splits across two devices and needs transfers both ways.
int32_t (*g_cpu_supports)(tsr_bk_device, const tsr_node_desc*, char*, size_t) = nullptr;
int32_t elementwise_only(tsr_bk_device d, const tsr_node_desc* n, char* reason, size_t len) {
  const bool ew = n->op == TSR_OP_ADD || n->op == TSR_OP_MUL || n->op == TSR_OP_SILU || n->op == TSR_OP_SCALE;
  if (!ew) {
    std::snprintf(reason, len, "test device runs element-wise ops only");
    return 0;
  }
  return g_cpu_supports(d, n, reason, len);
}

TEST(Executor, split_graph_transfers_between_devices_and_matches_reference) {
  tsr_backend_iface half = *tsr_cpu_backend_iface();
  g_cpu_supports = half.supports_op;
  half.supports_op = elementwise_only;
  half.name = "ewonly";
  tsr_backend_options bo{sizeof(bo), 1};
  Registry reg(bo);
  for (const tsr_backend_iface* b : builtin_backends()) ASSERT_TRUE(reg.add_backend(b, "built-in").is_ok());
  ASSERT_TRUE(reg.add_backend(&half, "test").is_ok());

  // y = silu(W2 * silu(W1 x + b)) * 0.5: matmuls on the CPU, the rest on ewonly.
  Graph g;
  std::mt19937 rng(9);
  std::normal_distribution<float> d(0.0f, 0.3f);
  std::vector<float> w1(24 * 16), w2(16 * 10), b(16), x(24 * 5);
  for (auto* v : {&w1, &w2, &b, &x})
    for (float& e : *v) e = d(rng);
  auto desc = [](std::initializer_list<int64_t> ne) { return make_desc(TSR_DTYPE_F32, ne).value(); };
  const ValueId W1 = g.add_weight("w1", desc({24, 16}), w1.data(), w1.size() * 4).value();
  const ValueId W2 = g.add_weight("w2", desc({16, 10}), w2.data(), w2.size() * 4).value();
  const ValueId B = g.add_weight("b", desc({16}), b.data(), b.size() * 4).value();
  const ValueId X = g.add_input("x", desc({24, 5})).value();
  ValueId h = g.add_node(TSR_OP_MATMUL, {W1, X}, {}).value();
  h = g.add_node(TSR_OP_ADD, {h, B}, {}).value();
  h = g.add_node(TSR_OP_SILU, {h}, {}).value();
  h = g.add_node(TSR_OP_MATMUL, {W2, h}, {}).value();
  tsr_op_params half_scale{};
  half_scale.f[0] = 0.5f;
  const ValueId y = g.add_node(TSR_OP_SCALE, {g.add_node(TSR_OP_SILU, {h}, {}).value()}, half_scale).value();
  ASSERT_TRUE(g.mark_output(y).is_ok());

  CompileOptions strict{{"ewonly"}, true};
  auto refused = CompiledModel::compile(reg, g, strict);
  ASSERT_FALSE(refused.is_ok());
  EXPECT_NE(refused.status().message().find("element-wise ops only"), std::string::npos)
      << refused.status().message();

  // Transfer cost would keep the element-wise runs on the CPU (ewonly is no
  // faster): off, to test the transfers themselves.
  CompileOptions split{{"ewonly"}, false};
  split.transfer_cost = false;
  auto m = CompiledModel::compile(reg, g, split);
  ASSERT_TRUE(m.is_ok()) << m.status().message();
  CompiledModel& cm = *m.value();
  EXPECT_EQ(cm.stats().n_fallbacks, 2);  // the two matmuls
  EXPECT_EQ(cm.stats().n_kept, 0);
  // x goes to the CPU where it is first read; h crosses ewonly->cpu once and
  // cpu->ewonly twice (both matmul outputs).
  EXPECT_EQ(cm.stats().n_copies, 3) << cm.placement_report();
  const std::string rep = cm.placement_report();
  EXPECT_NE(rep.find("fallback"), std::string::npos) << rep;
  EXPECT_NE(rep.find("ewonly:0"), std::string::npos) << rep;

  ASSERT_TRUE(cm.set_input(X, x.data(), x.size() * 4).is_ok());
  ASSERT_TRUE(cm.execute(nullptr, 0).is_ok());
  std::vector<float> got(10 * 5);
  ASSERT_TRUE(cm.get_output(y, got.data(), got.size() * 4).is_ok());
  ReferenceInterpreter ref(g);
  ASSERT_TRUE(ref.set_input(X, x.data(), x.size() * 4).is_ok());
  ASSERT_TRUE(ref.run(nullptr, 0).is_ok());
  EXPECT_LT(max_rel_error(got, ref.read(y).value()), 1e-5);

  // With transfer cost (the default), both element-wise runs stay on the CPU:
  // no copies, the same result, and the report says why.
  auto kept = CompiledModel::compile(reg, g, CompileOptions{{"ewonly"}, false});
  ASSERT_TRUE(kept.is_ok()) << kept.status().message();
  EXPECT_EQ(kept.value()->stats().n_fallbacks, 2);
  EXPECT_EQ(kept.value()->stats().n_kept, 4) << kept.value()->placement_report();
  EXPECT_EQ(kept.value()->stats().n_copies, 0) << kept.value()->placement_report();
  for (const auto& [node, device] : kept.value()->node_devices()) EXPECT_EQ(device, "cpu:0");
  const std::string why = kept.value()->placement_report();
  EXPECT_NE(why.find("(kept on cpu:0: run "), std::string::npos) << why;
  EXPECT_NE(why.find("; 2 fallbacks; 4 kept by transfer cost; 0 copies"), std::string::npos) << why;
  ASSERT_TRUE(kept.value()->set_input(X, x.data(), x.size() * 4).is_ok());
  ASSERT_TRUE(kept.value()->execute(nullptr, 0).is_ok());
  std::vector<float> got_kept(10 * 5);
  ASSERT_TRUE(kept.value()->get_output(y, got_kept.data(), got_kept.size() * 4).is_ok());
  EXPECT_EQ(got_kept, got);
}

}  // namespace
}  // namespace tsr
