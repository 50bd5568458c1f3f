// Shared states: two models compiled from different graphs in one context
// see the same memory under one name (a prefill and a decode graph sharing a
// KV cache); a mismatched declaration is refused.
#include <gtest/gtest.h>

#include <vector>

#include "tessera/tessera.hpp"

namespace {

TEST(SharedState, writes_of_one_model_are_read_by_another) {
  tessera::Context ctx(1);
  // Writer: cache[:, idx] = src.
  tessera::Graph w(ctx);
  auto cache_w = w.shared_state("kv", TSR_DTYPE_F32, {4, 8});
  auto src = w.input("src", TSR_DTYPE_F32, {4, 2});
  auto idx = w.input("idx", TSR_DTYPE_I32, {2});
  w.set_rows(cache_w, src, idx);
  tessera::Model mw(ctx, w, {"cpu"}, true);
  // Reader: a copy of the whole cache.
  tessera::Graph r(ctx);
  auto cache_r = r.shared_state("kv", TSR_DTYPE_F32, {4, 8});
  auto out = r.contiguous(cache_r);
  r.output(out);
  tessera::Model mr(ctx, r, {"cpu"}, true);

  mr.execute();
  for (float v : mr.output<float>(out, 32)) EXPECT_EQ(v, 0.0f) << "shared state starts zeroed";
  mw.set_input(src, std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8});
  mw.set_input(idx, std::vector<int32_t>{6, 1});
  mw.execute();
  mr.execute();
  const auto got = mr.output<float>(out, 32);
  for (int row = 0; row < 8; ++row)
    for (int j = 0; j < 4; ++j) {
      const float want = row == 6 ? 1.0f + j : row == 1 ? 5.0f + j : 0.0f;
      EXPECT_EQ(got[row * 4 + j], want) << "row " << row << " col " << j;
    }
  ASSERT_EQ(tsr_context_reset_shared_state(ctx.get(), "kv"), TSR_OK) << tsr_last_error();
  mr.execute();
  for (float v : mr.output<float>(out, 32)) EXPECT_EQ(v, 0.0f) << "reset zeroes the state";
}

TEST(SharedState, mismatched_shape_is_refused_with_both_shapes) {
  tessera::Context ctx(1);
  tessera::Graph a(ctx);
  a.output(a.contiguous(a.shared_state("kv", TSR_DTYPE_F32, {4, 8})));
  tessera::Model ma(ctx, a, {"cpu"});
  tessera::Graph b(ctx);
  b.output(b.contiguous(b.shared_state("kv", TSR_DTYPE_F32, {4, 9})));
  try {
    tessera::Model mb(ctx, b, {"cpu"});
    FAIL() << "a shared state with another shape was accepted";
  } catch (const tessera::Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("[4, 8]"), std::string::npos) << m;
    EXPECT_NE(m.find("[4, 9]"), std::string::npos) << m;
  }
}

TEST(SharedState, a_name_is_declared_once_per_graph) {
  tessera::Context ctx(1);
  tessera::Graph g(ctx);
  g.shared_state("kv", TSR_DTYPE_F32, {4});
  EXPECT_THROW(g.shared_state("kv", TSR_DTYPE_F32, {4}), tessera::Error);
  EXPECT_NE(std::string(tsr_last_error()).find("declared twice"), std::string::npos);
}

}  // namespace
