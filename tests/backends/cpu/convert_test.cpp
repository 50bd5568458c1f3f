#include "kernels/cpu/convert.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "tessera/kit/half.h"

namespace tsr::cpu {
namespace {

bool same_bits_or_both_nan(float a, float b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return f32_bits(a) == f32_bits(b);
}

TEST(Convert, F16ToF32MatchesScalarForAllBitPatterns) {
  std::vector<uint16_t> h(65536 + 3);  // odd length exercises the tail
  for (size_t i = 0; i < h.size(); ++i) h[i] = static_cast<uint16_t>(i);
  std::vector<float> out(h.size());
  f16_to_f32_row(h.data(), out.data(), static_cast<int64_t>(h.size()));
  for (size_t i = 0; i < h.size(); ++i)
    ASSERT_TRUE(same_bits_or_both_nan(out[i], f16_to_f32(h[i]))) << "pattern 0x" << std::hex << h[i];
}

std::vector<float> float_sweep() {
  std::vector<float> v = {0.0f,
                          -0.0f,
                          1.0f,
                          -1.0f,
                          65504.0f,
                          65519.99f,
                          65520.0f,
                          -65520.0f,
                          1e10f,
                          std::numeric_limits<float>::infinity(),
                          -std::numeric_limits<float>::infinity(),
                          std::numeric_limits<float>::quiet_NaN(),
                          std::numeric_limits<float>::denorm_min(),
                          5.96e-8f,
                          2.98e-8f,
                          2.9802322e-8f,
                          6.1e-5f,
                          6.103515625e-05f,
                          3.0517578125e-05f};
  // Every f16 value and the midpoints between neighbours (ties to even).
  for (uint32_t h = 0; h < 0x7c00; ++h) {
    const float a = f16_to_f32(static_cast<uint16_t>(h));
    const float b = f16_to_f32(static_cast<uint16_t>(h + 1));
    v.push_back(a);
    v.push_back(-a);
    v.push_back(0.5f * (a + b));
    v.push_back(-0.5f * (a + b));
  }
  std::mt19937 rng(42);
  std::uniform_int_distribution<uint32_t> bits;
  for (int i = 0; i < 200000; ++i) v.push_back(bits_f32(bits(rng)));
  return v;
}

TEST(Convert, F32ToF16MatchesScalarOnSweep) {
  const auto v = float_sweep();
  std::vector<uint16_t> out(v.size());
  f32_to_f16_row(v.data(), out.data(), static_cast<int64_t>(v.size()));
  for (size_t i = 0; i < v.size(); ++i) {
    const uint16_t ref = f32_to_f16(v[i]);
    if (std::isnan(v[i])) {
      ASSERT_TRUE((out[i] & 0x7c00) == 0x7c00 && (out[i] & 0x3ff) != 0) << "NaN input " << i;
      continue;
    }
    ASSERT_EQ(out[i], ref) << "value " << v[i] << " bits 0x" << std::hex << f32_bits(v[i]);
  }
}

TEST(Convert, Bf16RoundTripMatchesScalar) {
  const auto v = float_sweep();
  std::vector<uint16_t> b(v.size());
  f32_to_bf16_row(v.data(), b.data(), static_cast<int64_t>(v.size()));
  for (size_t i = 0; i < v.size(); ++i) ASSERT_EQ(b[i], f32_to_bf16(v[i])) << "value " << v[i];
  std::vector<uint16_t> all(65536);
  for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<uint16_t>(i);
  std::vector<float> f(all.size());
  bf16_to_f32_row(all.data(), f.data(), static_cast<int64_t>(all.size()));
  for (size_t i = 0; i < all.size(); ++i) ASSERT_TRUE(same_bits_or_both_nan(f[i], bf16_to_f32(all[i])));
}

TEST(Convert, StridedRowLoadAndStore) {
  // f16 row with a stride of 3 elements, stored back into a bf16 row with stride 2.
  std::vector<uint16_t> src(30, 0);
  for (int i = 0; i < 10; ++i) src[i * 3] = f32_to_f16(static_cast<float>(i) - 4.5f);
  float row[10];
  load_row_f32(src.data(), 6, 1 /* f16 */, 10, row);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(row[i], static_cast<float>(i) - 4.5f);
  std::vector<uint16_t> dst(20, 0xffff);
  store_row_f32(row, dst.data(), 4, 30 /* bf16 */, 10);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(bf16_to_f32(dst[i * 2]), row[i]);
    EXPECT_EQ(dst[i * 2 + 1], 0xffff);  // gaps untouched
  }
}

TEST(Convert, ReportsFeatures) {
  // Not an assertion about the machine, only that detection is consistent.
  if (cpu_has_f16c()) EXPECT_TRUE(cpu_has_avx2_fma());
}

}  // namespace
}  // namespace tsr::cpu
