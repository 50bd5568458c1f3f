// The block codecs of the kit (backends/kit/src/quant*.cpp): quantize then dequantize stays within
// each format's expected error, degenerate rows survive, and the traits table
// agrees with GGUF's block sizes. Bit layouts are checked independently by the
// oracle tests (numpy decoders checked against gguf-py, then whole models).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "tessera/kit/dtype.h"
#include "tessera/kit/quant.h"

namespace tsr {
namespace {

struct Expect {
  int32_t dtype;
  int64_t block_size, block_bytes;
  double max_rel_rms;  // RMS error over RMS of N(0, 1) data
};

// Bounds from the bits per weight: about 2^-(bits) of the range, with slack
// for the 6-bit (k-quant) scales.
constexpr Expect kExpect[] = {
    {TSR_DTYPE_Q5_0, 32, 22, 0.05},    {TSR_DTYPE_Q5_1, 32, 24, 0.05},   {TSR_DTYPE_Q2_K, 256, 84, 0.45},
    {TSR_DTYPE_Q3_K, 256, 110, 0.20},  {TSR_DTYPE_Q4_K, 256, 144, 0.10}, {TSR_DTYPE_Q5_K, 256, 176, 0.05},
    {TSR_DTYPE_Q6_K, 256, 210, 0.025}, {TSR_DTYPE_Q8_K, 256, 292, 0.01},
};

std::vector<float> normal(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& e : v) e = dist(rng);
  return v;
}

double rel_rms(const std::vector<float>& a, const std::vector<float>& b) {
  double e = 0, s = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    e += (a[i] - b[i]) * static_cast<double>(a[i] - b[i]);
    s += a[i] * static_cast<double>(a[i]);
  }
  return std::sqrt(e / s);
}

std::vector<float> round_trip(int32_t dtype, const std::vector<float>& x) {
  const DtypeTraits* t = dtype_traits(dtype);
  const auto n = static_cast<int64_t>(x.size());
  std::vector<uint8_t> q(static_cast<size_t>(dtype_row_bytes(dtype, n)));
  t->from_float(x.data(), q.data(), n);
  std::vector<float> y(x.size());
  t->to_float(q.data(), y.data(), n);
  return y;
}

TEST(QuantCodec, TraitsMatchGgufBlockSizes) {
  for (const Expect& e : kExpect) {
    const DtypeTraits* t = dtype_traits(e.dtype);
    ASSERT_NE(t, nullptr) << e.dtype;
    EXPECT_EQ(t->block_size, e.block_size) << t->name;
    EXPECT_EQ(t->block_bytes, e.block_bytes) << t->name;
    EXPECT_TRUE(t->is_quantized) << t->name;
    EXPECT_EQ(dtype_from_name(t->name), e.dtype);
  }
}

TEST(QuantCodec, RoundTripErrorIsWithinTheFormatsBound) {
  const std::vector<float> x = normal(4096, 3);
  for (const Expect& e : kExpect) {
    const double err = rel_rms(x, round_trip(e.dtype, x));
    EXPECT_LT(err, e.max_rel_rms) << dtype_name(e.dtype);
    EXPECT_GT(err, 0.0) << dtype_name(e.dtype);  // lossy: an identity codec would be a bug
  }
}

// Real weight rows are not zero-mean per block; the affine formats must
// follow an offset, the symmetric ones must still be bounded by it.
TEST(QuantCodec, OffsetRowsRoundTrip) {
  std::vector<float> x = normal(2048, 5);
  for (float& v : x) v = 0.3f * v + 1.0f;
  for (const Expect& e : kExpect)
    EXPECT_LT(rel_rms(x, round_trip(e.dtype, x)), e.max_rel_rms) << dtype_name(e.dtype);
}

TEST(QuantCodec, ZeroAndConstantRows) {
  for (const Expect& e : kExpect) {
    const std::vector<float> zero(512, 0.0f);
    for (float v : round_trip(e.dtype, zero)) ASSERT_EQ(v, 0.0f) << dtype_name(e.dtype);
    const std::vector<float> c(512, -0.75f);
    for (float v : round_trip(e.dtype, c))
      ASSERT_NEAR(v, -0.75f, 0.75 * 2 * e.max_rel_rms) << dtype_name(e.dtype);
  }
}

// A NaN in a block, or values so small that the inverse scale overflows,
// made the q4/q5 codecs convert NaN or infinity to int, which is undefined
// (found by fuzz_graph_api; the ASan + UBSan build reports it). A NaN costs
// its own element only; a tiny block decodes to about zero.
TEST(QuantCodec, NanAndTinyBlocksQuantizeWithoutUndefinedConversions) {
  for (int32_t dtype : {TSR_DTYPE_Q4_0, TSR_DTYPE_Q4_1, TSR_DTYPE_Q5_0, TSR_DTYPE_Q5_1}) {
    std::vector<float> x = normal(32, 11);
    float amax = 0;
    for (float v : x) amax = std::max(amax, std::fabs(v));
    x[5] = NAN;
    const std::vector<float> y = round_trip(dtype, x);
    for (size_t i = 0; i < x.size(); ++i)
      if (i != 5) EXPECT_NEAR(y[i], x[i], 0.2 * amax) << dtype_name(dtype) << " element " << i;
    std::vector<float> tiny(32);
    for (size_t i = 0; i < tiny.size(); ++i) tiny[i] = i % 2 ? 3e-44f : 0.0f;  // subnormal: 1/d overflows
    for (float v : round_trip(dtype, tiny)) EXPECT_LE(std::fabs(v), 1e-43f) << dtype_name(dtype);
  }
}

// Quantizing what a codec produced loses little more: the requantization
// error stays well under the first pass's (no drift when a tool rewrites a file).
TEST(QuantCodec, RequantizingADequantizedRowIsNearlyStable) {
  const std::vector<float> x = normal(2048, 9);
  for (const Expect& e : kExpect) {
    const std::vector<float> y = round_trip(e.dtype, x);
    const std::vector<float> z = round_trip(e.dtype, y);
    EXPECT_LT(rel_rms(y, z), 0.5 * rel_rms(x, y) + 1e-7) << dtype_name(e.dtype);
  }
}

}  // namespace
}  // namespace tsr
