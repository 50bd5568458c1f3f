#include "kernels/cpu/quant_dot.h"

#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <random>
#include <vector>

#include "tessera/kit/dtype.h"
#include "tessera/kit/half.h"

namespace tsr::cpu {
namespace {

std::vector<float> normal(int64_t n, uint32_t seed, float scale) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& e : v) e = dist(rng);
  return v;
}

std::vector<float> dequantize_act(const std::vector<BlockQ16Act>& xq) {
  std::vector<float> xd(xq.size() * kQK);
  for (size_t i = 0; i < xd.size(); ++i) xd[i] = xq[i / kQK].d * xq[i / kQK].qs[i % kQK];
  return xd;
}

// Quantizes w to wtype and x to 16-bit activation blocks, and compares both
// kernels with dequantize(w) . dequantize(x) in double.
void check_dot(int32_t wtype, const std::vector<float>& w, const std::vector<float>& x, const char* what) {
  const DtypeTraits* t = dtype_traits(wtype);
  const auto n = static_cast<int64_t>(w.size());
  std::vector<uint8_t> wq(static_cast<size_t>(n / t->block_size * t->block_bytes));
  t->from_float(w.data(), wq.data(), n);
  std::vector<BlockQ16Act> xq(static_cast<size_t>(n / kQK));
  quantize_row_q16_act(x.data(), xq.data(), n);

  std::vector<float> wd(n);
  t->to_float(wq.data(), wd.data(), n);
  const std::vector<float> xd = dequantize_act(xq);
  double ref = 0.0, mag = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    ref += static_cast<double>(wd[i]) * xd[i];
    mag += std::fabs(static_cast<double>(wd[i]) * xd[i]);
  }
  const double tol = 1e-5 * mag + 1e-6;
  const float best = qdot_best(wtype)(n, wq.data(), xq.data());
  const float scalar = qdot_scalar(wtype)(n, wq.data(), xq.data());
  EXPECT_NEAR(best, ref, tol) << t->name << " " << what;
  EXPECT_NEAR(scalar, ref, tol) << t->name << " " << what << " (scalar)";
  // The four-row kernel on the same row in every slot gives the same sum.
  const void* rows[4] = {wq.data(), wq.data(), wq.data(), wq.data()};
  float four[4];
  qdot4_best(wtype)(n, rows, xq.data(), four);
  for (int r = 0; r < 4; ++r)
    EXPECT_NEAR(four[r], ref, tol) << t->name << " " << what << " (4 rows, " << r << ")";
}

void check(int32_t wtype, int64_t n, uint32_t seed, float scale) {
  const std::string what = "n=" + std::to_string(n) + " seed=" + std::to_string(seed);
  check_dot(wtype, normal(n, seed, scale), normal(n, seed + 1, scale), what.c_str());
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

// Largest block sums: every weight at its extreme, every activation at +-32767.
// 32 * 127 * 32767 must not overflow the int32 accumulators.
TEST(QuantDot, ExtremeBlockSumsDoNotOverflow) {
  const int64_t n = 256;
  std::vector<float> w(n), x(n);
  for (int64_t i = 0; i < n; ++i) {
    w[i] = (i / kQK) % 2 ? -3.0f : 3.0f;
    x[i] = i % 5 == 0 ? 0.5f : -0.5f;
  }
  for (int32_t wtype : {TSR_DTYPE_Q8_0, TSR_DTYPE_Q4_0, TSR_DTYPE_Q4_1}) check_dot(wtype, w, x, "extreme");
  for (auto& v : x) v = -1.0f;
  for (int32_t wtype : {TSR_DTYPE_Q8_0, TSR_DTYPE_Q4_0, TSR_DTYPE_Q4_1}) check_dot(wtype, w, x, "constant");
}

// The point of 16-bit activations: for normal data the rounding error is far
// below what 8-bit blocks gave (which moved SmolLM2's logits ~4% off the float
// oracle).
TEST(QuantDot, ActivationRoundingErrorIsBelow1e4Relative) {
  const int64_t n = 4096;
  const std::vector<float> x = normal(n, 11, 2.0f);
  const std::vector<float> w = normal(n, 12, 1.0f);
  std::vector<BlockQ16Act> xq(n / kQK);
  quantize_row_q16_act(x.data(), xq.data(), n);
  const std::vector<float> xd = dequantize_act(xq);

  double err2 = 0.0, norm2 = 0.0, dot = 0.0, dot_q = 0.0, mag = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const double d = xq[i / kQK].d;
    // Round to nearest: at most half a step, plus float rounding of x / d and d * q.
    ASSERT_LE(std::fabs(static_cast<double>(xd[i]) - x[i]), 0.5 * d + 2 * FLT_EPSILON * std::fabs(x[i])) << i;
    err2 += (static_cast<double>(xd[i]) - x[i]) * (static_cast<double>(xd[i]) - x[i]);
    norm2 += static_cast<double>(x[i]) * x[i];
    dot += static_cast<double>(w[i]) * x[i];
    dot_q += static_cast<double>(w[i]) * xd[i];
    mag += std::fabs(static_cast<double>(w[i]) * x[i]);
  }
  const double rel_rms = std::sqrt(err2 / norm2);
  EXPECT_LT(rel_rms, 1e-4);
  EXPECT_LT(std::fabs(dot_q - dot) / mag, 1e-4);
  // Every block uses the full range: its largest value quantizes to +-32767.
  for (const auto& b : xq) {
    int amax = 0;
    for (int16_t q : b.qs) amax = std::max(amax, std::abs(static_cast<int>(q)));
    EXPECT_EQ(amax, 32767);
  }

  // The same data through q8_0 (the previous activation format) for contrast.
  std::vector<BlockQ8_0> x8(n / kQK);
  quantize_q8_0(x.data(), x8.data(), n);
  double err8 = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const double v = static_cast<double>(f16_to_f32(x8[i / kQK].d)) * x8[i / kQK].qs[i % kQK];
    err8 += (v - x[i]) * (v - x[i]);
  }
  EXPECT_GT(std::sqrt(err8 / norm2), 100 * rel_rms);
}

// Four distinct rows: each slot of the four-row kernel is its own row.
TEST(QuantDot, FourRowKernelKeepsRowsApart) {
  const int64_t n = 576;
  const std::vector<float> x = normal(n, 21, 1.0f);
  std::vector<BlockQ16Act> xq(n / kQK);
  quantize_row_q16_act(x.data(), xq.data(), n);
  for (int32_t wtype : {TSR_DTYPE_Q8_0, TSR_DTYPE_Q4_0, TSR_DTYPE_Q4_1}) {
    const DtypeTraits* t = dtype_traits(wtype);
    std::vector<std::vector<uint8_t>> wq(4);
    const void* rows[4];
    for (int r = 0; r < 4; ++r) {
      const std::vector<float> w = normal(n, 30 + r, 1.0f + r);
      wq[r].resize(static_cast<size_t>(n / t->block_size * t->block_bytes));
      t->from_float(w.data(), wq[r].data(), n);
      rows[r] = wq[r].data();
    }
    float four[4];
    qdot4_best(wtype)(n, rows, xq.data(), four);
    for (int r = 0; r < 4; ++r) {
      const float one = qdot_scalar(wtype)(n, rows[r], xq.data());
      EXPECT_NEAR(four[r], one, 1e-5f * (1.0f + std::fabs(one))) << t->name << " row " << r;
    }
  }
}

// The block sum used for q4_1's min term is d * sum(qs), whichever path
// quantized the block.
TEST(QuantDot, ActivationBlockSumMatchesItsValues) {
  const std::vector<float> x = normal(256, 41, 3.0f);
  std::vector<BlockQ16Act> xq(256 / kQK);
  quantize_row_q16_act(x.data(), xq.data(), 256);
  for (const auto& b : xq) {
    int64_t sum = 0;
    for (int16_t q : b.qs) sum += q;
    EXPECT_FLOAT_EQ(b.s, b.d * static_cast<float>(sum));
  }
}

TEST(QuantDot, AllZeroBlocksGiveZero) {
  std::vector<float> x(64, 0.0f);
  x[40] = 1e-38f;  // scale would be subnormal: the block quantizes to zero
  std::vector<BlockQ16Act> xq(2);
  quantize_row_q16_act(x.data(), xq.data(), 64);
  EXPECT_EQ(xq[1].d, 0.0f);
  for (int16_t q : xq[1].qs) EXPECT_EQ(q, 0);
  std::vector<float> zeros(64, 0.0f);
  std::vector<BlockQ4_1> w(2);
  quantize_q4_1(zeros.data(), w.data(), 64);
  EXPECT_EQ(qdot_best(TSR_DTYPE_Q4_1)(64, w.data(), xq.data()), 0.0f);
  EXPECT_EQ(qdot_scalar(TSR_DTYPE_Q4_1)(64, w.data(), xq.data()), 0.0f);
}

}  // namespace
}  // namespace tsr::cpu
