#include "kernels/cpu/quant_dot.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/dtype.h"
#include "core/half.h"

namespace tsr::cpu {
namespace {

// Quantizes random weights to wtype, an activation row to q8_0, and compares
// the kernel with dequantize(w) . dequantize(x) in double.
void check(int32_t wtype, int64_t n, uint32_t seed, float scale) {
  const DtypeTraits* t = dtype_traits(wtype);
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> w(n), x(n);
  for (auto& v : w) v = dist(rng);
  for (auto& v : x) v = dist(rng);
  std::vector<uint8_t> wq(static_cast<size_t>(n / t->block_size * t->block_bytes));
  t->from_float(w.data(), wq.data(), n);
  std::vector<BlockQ8Act> xq(static_cast<size_t>(n / kQK));
  quantize_row_q8_act(x.data(), xq.data(), n);

  std::vector<float> wd(n), xd(n);
  t->to_float(wq.data(), wd.data(), n);
  for (int64_t i = 0; i < n; ++i) xd[i] = xq[i / kQK].d * xq[i / kQK].qs[i % kQK];
  double ref = 0.0, mag = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    ref += static_cast<double>(wd[i]) * xd[i];
    mag += std::fabs(static_cast<double>(wd[i]) * xd[i]);
  }
  const double tol = 1e-5 * mag + 1e-6;
  const float best = qdot_best(wtype)(n, wq.data(), xq.data());
  const float scalar = qdot_scalar(wtype)(n, wq.data(), xq.data());
  EXPECT_NEAR(best, ref, tol) << t->name << " n=" << n << " seed=" << seed;
  EXPECT_NEAR(scalar, ref, tol) << t->name << " n=" << n << " seed=" << seed << " (scalar)";
}

TEST(QuantDot, MatchesDequantizeThenDot) {
  for (int32_t wtype : {TSR_DTYPE_Q8_0, TSR_DTYPE_Q4_0, TSR_DTYPE_Q4_1})
    for (int64_t n : {32, 64, 96, 576, 1536, 4096})
      for (uint32_t seed = 1; seed <= 3; ++seed)
        check(wtype, n, seed * 7919 + static_cast<uint32_t>(n), 1.0f);
}

TEST(QuantDot, ExtremeScales) {
  for (int32_t wtype : {TSR_DTYPE_Q8_0, TSR_DTYPE_Q4_0, TSR_DTYPE_Q4_1}) {
    check(wtype, 256, 5, 1e-3f);
    check(wtype, 256, 7, 1e-6f);  // scales far below f16's normal range
    check(wtype, 256, 6, 100.0f);
  }
}

TEST(QuantDot, ActivationQuantizationMatchesCoreRuleUpToTies) {
  std::mt19937 rng(3);
  std::normal_distribution<float> dist(0.0f, 2.0f);
  std::vector<float> x(1024);
  for (auto& v : x) v = dist(rng);
  x[5] = 0.0f;
  std::vector<BlockQ8Act> fast(32);
  std::vector<BlockQ8_0> ref(32);
  quantize_row_q8_act(x.data(), fast.data(), 1024);
  quantize_q8_0(x.data(), ref.data(), 1024);
  for (int b = 0; b < 32; ++b) {
    ASSERT_EQ(f32_to_f16(fast[b].d), ref[b].d) << "block " << b;
    for (int j = 0; j < kQK; ++j)
      ASSERT_LE(std::abs(fast[b].qs[j] - ref[b].qs[j]), 1) << "block " << b << " " << j;
  }
}

TEST(QuantDot, AllZeroBlocksGiveZero) {
  std::vector<float> x(64, 0.0f);
  std::vector<BlockQ8Act> xq(2);
  quantize_row_q8_act(x.data(), xq.data(), 64);
  std::vector<BlockQ4_1> w(2);
  quantize_q4_1(x.data(), w.data(), 64);
  EXPECT_EQ(qdot_best(TSR_DTYPE_Q4_1)(64, w.data(), xq.data()), 0.0f);
}

}  // namespace
}  // namespace tsr::cpu
