// The q5 and k-quant dot kernels at every instruction set this machine can
// run, each against dequantize(w) . dequantize(x) in double (the reference
// codecs of the kit (backends/kit/src/quant*.cpp); the oracle tests check those against gguf-py).
#include "kernels/cpu/quant_dot_k.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "kernels/cpu/convert.h"
#include "kernels/cpu/dequant.h"
#include "tessera/kit/dtype.h"

namespace tsr::cpu {
namespace {

constexpr int32_t kTypes[] = {TSR_DTYPE_Q5_0, TSR_DTYPE_Q5_1, TSR_DTYPE_Q2_K, TSR_DTYPE_Q3_K,
                              TSR_DTYPE_Q4_K, TSR_DTYPE_Q5_K, TSR_DTYPE_Q6_K};

struct Isa {
  QDotIsa isa;
  const char* name;
  bool runs;
};

std::vector<Isa> isas() {
  return {{QDotIsa::kScalar, "scalar", true},
          {QDotIsa::kAvx2, "avx2", cpu_has_f16c()},
          {QDotIsa::kAvx512, "avx512", cpu_has_avx512bw()}};
}

std::vector<float> normal(int64_t n, uint32_t seed, float scale, float mean = 0.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(mean, scale);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& e : v) e = dist(rng);
  return v;
}

struct Case {
  std::vector<uint8_t> wq;
  std::vector<BlockQ16Act> xq;
  double ref = 0, mag = 0;
};

Case make_case(int32_t wtype, const std::vector<float>& w, const std::vector<float>& x) {
  const DtypeTraits* t = dtype_traits(wtype);
  const auto n = static_cast<int64_t>(w.size());
  Case c;
  c.wq.resize(static_cast<size_t>(n / t->block_size * t->block_bytes));
  t->from_float(w.data(), c.wq.data(), n);
  c.xq.resize(static_cast<size_t>(n / kQK));
  quantize_row_q16_act(x.data(), c.xq.data(), n);
  std::vector<float> wd(n);
  t->to_float(c.wq.data(), wd.data(), n);
  for (int64_t i = 0; i < n; ++i) {
    const double xd = static_cast<double>(c.xq[i / kQK].d) * c.xq[i / kQK].qs[i % kQK];
    c.ref += wd[i] * xd;
    c.mag += std::fabs(wd[i] * xd);
  }
  return c;
}

// Every type has a scalar version; AVX2 has all; AVX-512 the common ones.
TEST(QuantDotK, EveryTypeHasScalarAndAvx2Versions) {
  for (int32_t t : kTypes) {
    EXPECT_NE(qdot_k(t, QDotIsa::kScalar), nullptr) << dtype_name(t);
    EXPECT_NE(qdot_k(t, QDotIsa::kAvx2), nullptr) << dtype_name(t);
    EXPECT_NE(qdot_best(t), nullptr) << dtype_name(t);
  }
  for (int32_t t : {TSR_DTYPE_Q4_K, TSR_DTYPE_Q5_K, TSR_DTYPE_Q6_K})
    EXPECT_NE(qdot_k(t, QDotIsa::kAvx512), nullptr) << dtype_name(t);
  EXPECT_EQ(qdot_k(TSR_DTYPE_Q8_0, QDotIsa::kScalar), nullptr);
}

TEST(QuantDotK, EveryIsaMatchesDequantizeThenDot) {
  for (int32_t t : kTypes) {
    for (int64_t n : {256, 512, 2304}) {
      for (uint32_t seed : {1u, 7u}) {
        // A mean offset exercises the min terms of the affine formats.
        const Case c =
            make_case(t, normal(n, seed, 0.05f, seed == 7 ? 0.02f : 0.0f), normal(n, seed + 1, 1.0f));
        const double tol = 2e-6 * c.mag + 1e-6;
        for (const Isa& isa : isas()) {
          const QDotFn f = qdot_k(t, isa.isa);
          if (!isa.runs || !f) continue;
          EXPECT_NEAR(f(n, c.wq.data(), c.xq.data()), c.ref, tol)
              << dtype_name(t) << " " << isa.name << " n=" << n << " seed=" << seed;
        }
        EXPECT_NEAR(qdot_best(t)(n, c.wq.data(), c.xq.data()), c.ref, tol) << dtype_name(t) << " best";
      }
    }
  }
}

// Weights at the extremes of every field: all quant bits set and the largest
// scales, against activations of full 16-bit magnitude. The q6_K halves
// overflow int32 here if summed naively.
TEST(QuantDotK, SaturatedBlocksDoNotOverflow) {
  for (int32_t t : kTypes) {
    const DtypeTraits* tr = dtype_traits(t);
    const int64_t n = 512;
    std::vector<uint8_t> wq(static_cast<size_t>(n / tr->block_size * tr->block_bytes), 0xff);
    // f16 fields at 1.0 (0x3c00) instead of NaN: the f16 words sit at known offsets.
    const size_t bb = static_cast<size_t>(tr->block_bytes);
    for (size_t b = 0; b < wq.size(); b += bb) {
      auto put = [&](size_t off) {
        wq[b + off] = 0x00;
        wq[b + off + 1] = 0x3c;
      };
      switch (t) {
        case TSR_DTYPE_Q5_1:
          put(2);
          [[fallthrough]];
        case TSR_DTYPE_Q5_0:
          put(0);
          break;
        case TSR_DTYPE_Q2_K:
          put(80), put(82);
          break;
        case TSR_DTYPE_Q3_K:
          put(108);
          break;
        case TSR_DTYPE_Q4_K:
        case TSR_DTYPE_Q5_K:
          put(0), put(2);
          break;
        case TSR_DTYPE_Q6_K:
          put(208);
          for (size_t k = 192; k < 208; ++k) wq[b + k] = 0x80;  // scales -128
          break;
        default:
          FAIL();
      }
    }
    std::vector<float> x(n, 1.0f);
    std::vector<BlockQ16Act> xq(n / kQK);
    quantize_row_q16_act(x.data(), xq.data(), n);
    std::vector<float> wd(n);
    tr->to_float(wq.data(), wd.data(), n);
    double ref = 0;
    for (int64_t i = 0; i < n; ++i)
      ref += static_cast<double>(wd[i]) * xq[i / kQK].d * xq[i / kQK].qs[i % kQK];
    for (const Isa& isa : isas()) {
      const QDotFn f = qdot_k(t, isa.isa);
      if (!isa.runs || !f) continue;
      EXPECT_NEAR(f(n, wq.data(), xq.data()), ref, 1e-5 * std::fabs(ref) + 1e-3)
          << dtype_name(t) << " " << isa.name;
      if (const QDot4Fn f4 = qdot4_k(t, isa.isa)) {
        const void* rows[4] = {wq.data(), wq.data(), wq.data(), wq.data()};
        float out[4];
        f4(n, rows, xq.data(), out);
        for (float o : out)
          EXPECT_NEAR(o, ref, 1e-5 * std::fabs(ref) + 1e-3) << dtype_name(t) << " four-row " << isa.name;
      }
    }
  }
}

// The four-row decode kernels against four one-row reference dots, rows
// taken from one matrix (evenly spaced, as the matvec passes them) and from
// separate buffers (the prefetch guess is then wrong, the result must not be).
TEST(QuantDotK, FourRowKernelsMatchFourDots) {
  for (int32_t t : {TSR_DTYPE_Q5_0, TSR_DTYPE_Q5_1, TSR_DTYPE_Q4_K, TSR_DTYPE_Q5_K, TSR_DTYPE_Q6_K}) {
    // q5_0 / q5_1's AVX2 four-row kernel lives with q4_0's (quant_dot.cpp).
    const bool k_quant = t != TSR_DTYPE_Q5_0 && t != TSR_DTYPE_Q5_1;
    EXPECT_EQ(qdot4_k(t, QDotIsa::kAvx2) != nullptr, k_quant) << dtype_name(t);
    EXPECT_NE(qdot4_k(t, QDotIsa::kAvx512), nullptr) << dtype_name(t);
    if (cpu_has_f16c()) EXPECT_NE(qdot4_best(t), nullptr) << dtype_name(t);
    const DtypeTraits* tr = dtype_traits(t);
    for (int64_t n : {256, 2304}) {
      const int64_t row_bytes = n / tr->block_size * tr->block_bytes;
      const std::vector<float> x = normal(n, 3, 1.0f);
      std::vector<BlockQ16Act> xq(static_cast<size_t>(n / kQK));
      quantize_row_q16_act(x.data(), xq.data(), n);
      // 12 rows: 0..3 and 8..11 are read by the kernel, 4..7 only prefetched.
      std::vector<uint8_t> mat(static_cast<size_t>(12 * row_bytes));
      double ref[12], mag[12];
      for (int r = 0; r < 12; ++r) {
        const Case c = make_case(t, normal(n, 100 + r, 0.05f, r % 2 ? 0.02f : 0.0f), x);
        std::copy(c.wq.begin(), c.wq.end(), mat.begin() + r * row_bytes);
        ref[r] = c.ref;
        mag[r] = c.mag;
      }
      const void* even[4] = {&mat[0], &mat[row_bytes], &mat[2 * row_bytes], &mat[3 * row_bytes]};
      const void* uneven[4] = {&mat[11 * row_bytes], &mat[0], &mat[9 * row_bytes], &mat[2 * row_bytes]};
      const int uneven_row[4] = {11, 0, 9, 2};
      std::vector<std::pair<std::string, QDot4Fn>> kernels;
      for (const Isa& isa : isas())
        if (isa.runs && qdot4_k(t, isa.isa)) kernels.emplace_back(isa.name, qdot4_k(t, isa.isa));
      if (qdot4_best(t)) kernels.emplace_back("best", qdot4_best(t));
      for (const auto& [name, f] : kernels) {
        float out[4];
        f(n, even, xq.data(), out);
        for (int r = 0; r < 4; ++r)
          EXPECT_NEAR(out[r], ref[r], 2e-6 * mag[r] + 1e-6) << dtype_name(t) << " " << name << " row " << r;
        f(n, uneven, xq.data(), out);
        for (int r = 0; r < 4; ++r)
          EXPECT_NEAR(out[r], ref[uneven_row[r]], 2e-6 * mag[uneven_row[r]] + 1e-6)
              << dtype_name(t) << " " << name << " uneven row " << r;
      }
    }
  }
  EXPECT_EQ(qdot4_k(TSR_DTYPE_Q4_K, QDotIsa::kScalar), nullptr);
}

// The prefill path's row dequantizer against the reference codec: the same
// values up to the rounding of one fused multiply-add.
TEST(QuantDotK, FastRowDequantizeMatchesTheReferenceCodec) {
  if (!cpu_has_f16c()) GTEST_SKIP() << "no AVX2 here: dequantize_row_fast has no path to test";
  for (int32_t t : kTypes) {
    const DtypeTraits* tr = dtype_traits(t);
    const int64_t n = 1024;
    const std::vector<float> x = normal(n, 11, 0.1f, 0.01f);
    std::vector<uint8_t> q(static_cast<size_t>(n / tr->block_size * tr->block_bytes));
    tr->from_float(x.data(), q.data(), n);
    std::vector<float> ref(n), fast(n, -1.0f);
    tr->to_float(q.data(), ref.data(), n);
    ASSERT_TRUE(dequantize_row_fast(q.data(), t, n, fast.data())) << dtype_name(t);
    for (int64_t i = 0; i < n; ++i)
      ASSERT_NEAR(fast[i], ref[i], 1e-6f * std::fabs(ref[i]) + 1e-9f) << dtype_name(t) << " element " << i;
  }
}

}  // namespace
}  // namespace tsr::cpu
