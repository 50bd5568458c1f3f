#include <gtest/gtest.h>

#include "tessera/kit/quant.h"
#include "tests/ops/op_test_util.h"

namespace tsr::ops::test {
namespace {

TEST(Matmul, two_by_three_by_hand) {
  // w [K=3, M=2]: w rows (m) [1 2 3], [4 5 6]; x [K=3, N=2]: columns (n) [1 0 1], [0 1 2].
  const HostTensor w = make_f32({3, 2}, {1, 2, 3, 4, 5, 6});
  const HostTensor x = make_f32({3, 2}, {1, 0, 1, 0, 1, 2});
  // out [M, N]: (m0,n0)=4 (m1,n0)=10 (m0,n1)=8 (m1,n1)=17
  EXPECT_EQ(run_floats(TSR_OP_MATMUL, {&w, &x}), (std::vector<float>{4, 10, 8, 17}));
}

TEST(Matmul, transposed_view_operand_equals_the_materialised_operand) {
  constexpr int64_t K = 5, N = 3, M = 2;
  std::vector<float> xv(K * N), xt(K * N), wv(K * M);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t k = 0; k < K; ++k) {
      const float v = 0.5f * k - 1.25f * n + 0.125f * k * n;
      xv[n * K + k] = v;  // contiguous x [K, N]
      xt[k * N + n] = v;  // contiguous [N, K] holding x^T
    }
  for (int64_t i = 0; i < K * M; ++i) wv[i] = 0.1f * i - 0.3f;
  const HostTensor w = make_f32({K, M}, wv);
  const HostTensor x = make_f32({K, N}, xv);
  const HostTensor t = make_f32({N, K}, xt);
  TensorDesc view = t.desc;  // x [K, N] read through t's memory
  view.ne[0] = K;
  view.ne[1] = N;
  view.nb[0] = N * 4;
  view.nb[1] = 4;
  const HostTensor xview = with_desc(t, view);
  EXPECT_EQ(run_floats(TSR_OP_MATMUL, {&w, &xview}), run_floats(TSR_OP_MATMUL, {&w, &x}));
}

TEST(Matmul, block_format_weights_match_the_dequantized_weights) {
  constexpr int64_t K = 64, M = 3, N = 2;
  std::vector<float> wv(K * M), xv(K * N);
  for (int64_t i = 0; i < K * M; ++i) wv[i] = static_cast<float>((i * 37 % 23) - 11) / 7.0f;
  for (int64_t i = 0; i < K * N; ++i) xv[i] = static_cast<float>((i * 13 % 17) - 8) / 5.0f;
  const HostTensor x = make_f32({K, N}, xv);
  for (int32_t dt : {TSR_DTYPE_Q8_0, TSR_DTYPE_Q4_0, TSR_DTYPE_Q4_1}) {
    const HostTensor w = make_tensor(dt, {K, M}, wv);
    std::vector<float> wd(K * M);  // dequantized weights, decoded by the core codec
    if (dt == TSR_DTYPE_Q8_0) dequantize_q8_0(w.data(), wd.data(), K * M);
    if (dt == TSR_DTYPE_Q4_0) dequantize_q4_0(w.data(), wd.data(), K * M);
    if (dt == TSR_DTYPE_Q4_1) dequantize_q4_1(w.data(), wd.data(), K * M);
    std::vector<float> want(M * N);
    for (int64_t n = 0; n < N; ++n)
      for (int64_t m = 0; m < M; ++m) {
        double acc = 0;
        for (int64_t k = 0; k < K; ++k) acc += double{wd[m * K + k]} * xv[n * K + k];
        want[n * M + m] = static_cast<float>(acc);
      }
    SCOPED_TRACE(dtype_name(dt));
    EXPECT_FLOATS_NEAR(want, run_floats(TSR_OP_MATMUL, {&w, &x}), 1e-5);
  }
}

TEST(Matmul, w_batches_broadcast_over_consecutive_x_batches) {
  // w [K=2, M=1, 2]: batch 0 picks x[0], batch 1 picks x[1].
  const HostTensor w = make_f32({2, 1, 2}, {1, 0, 0, 1});
  // x [K=2, N=1, 4]: batch b holds [b, 10 b]
  const HostTensor x = make_f32({2, 1, 4}, {0, 0, 1, 10, 2, 20, 3, 30});
  // x batches 0,1 use w batch 0; 2,3 use w batch 1
  EXPECT_EQ(run_floats(TSR_OP_MATMUL, {&w, &x}), (std::vector<float>{0, 1, 20, 30}));
}

TEST(Matmul, half_precision_operands) {
  const HostTensor w = make_tensor(TSR_DTYPE_BF16, {2, 2}, {1, 2, 3, 4});
  const HostTensor x = make_tensor(TSR_DTYPE_F16, {2, 1}, {0.5f, -1});
  EXPECT_EQ(run_floats(TSR_OP_MATMUL, {&w, &x}), (std::vector<float>{-1.5f, -2.5f}));
}

TEST(Matmul, writes_the_output_layout_it_is_given) {
  const HostTensor w = make_f32({3, 2}, {1, 2, 3, 4, 5, 6});
  const HostTensor x = make_f32({3, 2}, {1, 0, 1, 0, 1, 2});
  TensorDesc out = desc_of(TSR_DTYPE_F32, {2, 2});
  out.nb[0] = 8;  // transposed output: element (m, n) at m * 8 + n * 4
  out.nb[1] = 4;
  std::vector<float> mem(4, -1);
  const TensorDesc in[] = {w.desc, x.desc};
  const void* ptr[] = {w.data(), x.data()};
  ASSERT_TRUE(reference(TSR_OP_MATMUL, in, ptr, 2, out, mem.data(), params(), nullptr).is_ok());
  EXPECT_EQ(mem, (std::vector<float>{4, 8, 10, 17}));
}

}  // namespace
}  // namespace tsr::ops::test
