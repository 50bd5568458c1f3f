// Shared states: two models compiled from different graphs in one context
// see the same memory under one name (a prefill and a decode graph sharing a
// KV cache); a mismatched declaration is refused.
#include <gtest/gtest.h>

#include <string>
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

// The bytes of a state can be read and written from outside a model (how a
// session's KV cache is saved and restored): what is written is what the
// model reads, and a range past the end or an unknown name is refused.
TEST(SharedState, bytes_are_read_and_written_by_name) {
  tessera::Context ctx(1);
  tessera::Graph r(ctx);
  auto cache = r.shared_state("kv.bytes", TSR_DTYPE_F32, {4, 2});
  auto out = r.contiguous(cache);
  r.output(out);
  tessera::Model m(ctx, r, {"cpu"}, true);

  const std::vector<float> row = {1.5f, -2.0f, 3.25f, 4.0f};
  ASSERT_EQ(tsr_context_write_shared_state(ctx.get(), "kv.bytes", 16, row.data(), 16), TSR_OK)
      << tsr_last_error();
  m.execute();
  const std::vector<float> got = m.output<float>(out, 8);
  EXPECT_EQ(std::vector<float>(got.begin(), got.begin() + 4), std::vector<float>(4, 0.0f));
  EXPECT_EQ(std::vector<float>(got.begin() + 4, got.end()), row);
  std::vector<float> back(4);
  ASSERT_EQ(tsr_context_read_shared_state(ctx.get(), "kv.bytes", 16, back.data(), 16), TSR_OK)
      << tsr_last_error();
  EXPECT_EQ(back, row);

  EXPECT_EQ(tsr_context_read_shared_state(ctx.get(), "kv.bytes", 20, back.data(), 16),
            TSR_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(tsr_last_error()).find("16 bytes at offset 20 pass the end of its 32 bytes"),
            std::string::npos)
      << tsr_last_error();
  EXPECT_EQ(tsr_context_write_shared_state(ctx.get(), "kv.none", 0, row.data(), 4), TSR_ERR_NOT_FOUND);
  EXPECT_NE(std::string(tsr_last_error()).find("kv.none"), std::string::npos) << tsr_last_error();
}

}  // namespace
