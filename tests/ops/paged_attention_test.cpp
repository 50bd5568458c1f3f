// The paged_attention reference against attention: a sequence's cache
// scattered into shuffled blocks of a pool must attend exactly as the
// contiguous cache does, token by token; and bad integer inputs are errors
// naming the token and the values.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>

#include "tests/ops/op_test_util.h"

namespace tsr::ops::test {
namespace {

using ::testing::HasSubstr;

constexpr int64_t D = 8, H = 4, Hkv = 2, BS = 4;

std::vector<float> normal(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd;
  std::vector<float> v(n);
  for (float& x : v) x = nd(rng);
  return v;
}

// Two sequences of lengths 11 and 6 in contiguous caches [D, Hkv, 12], and
// the same rows scattered into a pool of 10 blocks of BS rows in shuffled
// order, with the block table [3, 2] saying where.
struct Fixture {
  std::vector<float> cache[2];
  std::vector<float> pool = std::vector<float>(D * Hkv * BS * 10, 1e3f);  // unused rows are loud
  std::vector<int32_t> table = std::vector<int32_t>(3 * 2);
  Fixture(uint32_t seed) {
    std::vector<int32_t> ids(10);
    std::iota(ids.begin(), ids.end(), 0);
    std::shuffle(ids.begin(), ids.end(), std::mt19937(seed));
    std::copy(ids.begin(), ids.begin() + 6, table.begin());  // table[b, s] at b + 3 * s
    for (int s = 0; s < 2; ++s) {
      cache[s] = normal(D * Hkv * 12, seed + 1 + s);
      for (int64_t j = 0; j < 12; ++j) {
        const int64_t row = table[j / BS + 3 * s] * BS + j % BS;
        std::copy_n(&cache[s][j * D * Hkv], D * Hkv, &pool[row * D * Hkv]);
      }
    }
  }
};

TEST(PagedAttention, equals_attention_over_each_sequences_contiguous_cache) {
  for (int64_t window : {0, 3}) {
    const Fixture f(7);
    // Tokens in any order: (seq, pos).
    const std::vector<int32_t> seq = {1, 0, 0, 1, 0}, pos = {5, 10, 0, 2, 7};
    const int64_t N = static_cast<int64_t>(seq.size());
    const std::vector<float> qv = normal(D * H * N, 99);
    const HostTensor q = make_f32({D, H, N}, qv);
    const HostTensor kp = make_f32({D, Hkv, BS * 10}, f.pool);
    const HostTensor vp = make_f32({D, Hkv, BS * 10}, f.pool);
    const HostTensor pos_t = make_i32({N}, pos), seq_t = make_i32({N}, seq);
    const HostTensor table = make_i32({3, 2}, f.table);
    const std::vector<float> paged =
        run_floats(TSR_OP_PAGED_ATTENTION, {&q, &kp, &vp, &pos_t, &seq_t, &table}, params({BS, 0, window}));
    ASSERT_EQ(paged.size(), static_cast<size_t>(D * H * N));
    for (int64_t t = 0; t < N; ++t) {
      const HostTensor qt = make_f32({D, H, 1}, std::vector<float>(&qv[t * D * H], &qv[(t + 1) * D * H]));
      const HostTensor kc = make_f32({D, Hkv, 12}, f.cache[seq[t]]);
      const HostTensor pt = make_i32({1}, {pos[t]});
      const std::vector<float> want =
          run_floats(TSR_OP_ATTENTION, {&qt, &kc, &kc, &pt}, params({1, -1, window}));
      SCOPED_TRACE(testing::Message() << "token " << t << " window " << window);
      EXPECT_FLOATS_NEAR(want, std::vector<float>(&paged[t * D * H], &paged[(t + 1) * D * H]), 1e-6);
    }
  }
}

Status run_with(std::vector<int32_t> seq, std::vector<int32_t> pos, std::vector<int32_t> table) {
  const HostTensor q = make_f32({D, H, 1}, normal(D * H, 1));
  const HostTensor kv = make_f32({D, Hkv, BS * 10}, normal(D * Hkv * BS * 10, 2));
  const HostTensor p = make_i32({1}, pos), s = make_i32({1}, seq), t = make_i32({3, 2}, table);
  Result<HostTensor> r = run_op(TSR_OP_PAGED_ATTENTION, {&q, &kv, &kv, &p, &s, &t}, params({BS}));
  return r.is_ok() ? Status::ok() : r.status();
}

TEST(PagedAttention, bad_integer_inputs_are_errors_naming_the_token_and_values) {
  const std::vector<int32_t> good = {0, 1, 2, 3, 4, 5};
  EXPECT_TRUE(run_with({1}, {11}, good).is_ok());
  EXPECT_THAT(run_with({2}, {0}, good).message(),
              HasSubstr("seq[0] = 2 is outside the block table's rows [0, 2)"));
  EXPECT_THAT(run_with({0}, {12}, good).message(), HasSubstr("pos[0] = 12 is outside [0, 12)"));
  EXPECT_THAT(run_with({0}, {-1}, good).message(), HasSubstr("pos[0] = -1"));
  EXPECT_THAT(run_with({1}, {4}, {0, 1, 2, 3, 10, 5}).message(),
              HasSubstr("block_table[1, 1] = 10 (token 0) is outside the pool's blocks [0, 10)"));
  // A bad entry past the token's position is never read.
  EXPECT_TRUE(run_with({1}, {3}, {0, 1, 2, 3, -7, -7}).is_ok());
}

TEST(PagedAttention, shapes_and_params_are_checked) {
  const TensorDesc q = desc_of(TSR_DTYPE_F32, {8, 4, 3}), kv = desc_of(TSR_DTYPE_F16, {8, 2, 40});
  const TensorDesc i3 = desc_of(TSR_DTYPE_I32, {3}), table = desc_of(TSR_DTYPE_I32, {5, 2});
  EXPECT_THAT(infer_error(TSR_OP_PAGED_ATTENTION, {q, kv, kv, i3, i3, table}, params({6})),
              HasSubstr("block size (ip[0]) 6 must be >= 1 and divide the pool's 40 rows"));
  EXPECT_THAT(infer_error(TSR_OP_PAGED_ATTENTION, {q, kv, kv, i3, i3, table}, params({8, 1})),
              HasSubstr("ip[1] is reserved"));
  EXPECT_THAT(
      infer_error(TSR_OP_PAGED_ATTENTION, {q, kv, kv, i3, desc_of(TSR_DTYPE_I32, {2}), table}, params({8})),
      HasSubstr("seq must be [n_tokens] = [3]"));
  EXPECT_THAT(
      infer_error(TSR_OP_PAGED_ATTENTION, {q, kv, kv, i3, i3, desc_of(TSR_DTYPE_F32, {5, 2})}, params({8})),
      HasSubstr("block_table"));
  EXPECT_THAT(infer_error(TSR_OP_PAGED_ATTENTION, {q, kv, kv, i3, i3, table}, params({8, 0, -2})),
              HasSubstr("sliding window (ip[2]) = -2"));
}

}  // namespace
}  // namespace tsr::ops::test
