// The CPU backend through its ABI table, as core uses it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "backends/cpu/cpu_backend.h"
#include "tessera/kit/dtype.h"
#include "tessera/kit/half.h"
#include "tessera/kit/quant.h"
#include "tessera/kit/tensor.h"

namespace {

const tsr_backend_iface* cpu() { return tsr_cpu_backend_iface(); }

tsr_tensor_desc desc(int32_t dtype, std::initializer_list<int64_t> ne) {
  return tsr::make_desc(dtype, ne).value();
}

class CpuBackend : public ::testing::Test {
 protected:
  void SetUp() override {
    tsr_backend_options opt{sizeof(tsr_backend_options), 2};
    ASSERT_EQ(cpu()->create(&opt, &inst_, &err_), TSR_OK) << err_.message;
    ASSERT_EQ(cpu()->device_count(inst_), 1);
    ASSERT_EQ(cpu()->device_open(inst_, 0, &dev_, &err_), TSR_OK) << err_.message;
    ASSERT_EQ(cpu()->queue_create(dev_, &queue_, &err_), TSR_OK) << err_.message;
  }
  void TearDown() override {
    for (auto b : buffers_) cpu()->buffer_free(b);
    cpu()->queue_destroy(queue_);
    cpu()->device_close(dev_);
    cpu()->destroy(inst_);
  }
  tsr_tensor_ref tensor(const tsr_tensor_desc& d, const void* data = nullptr, uint64_t bytes = 0) {
    if (!bytes) bytes = static_cast<uint64_t>(tsr::n_bytes_spanned(d));
    tsr_bk_buffer b = nullptr;
    EXPECT_EQ(cpu()->buffer_alloc(dev_, bytes, TSR_BUFFER_ACTIVATIONS, &b, &err_), TSR_OK) << err_.message;
    buffers_.push_back(b);
    if (data) EXPECT_EQ(cpu()->buffer_write(queue_, b, 0, data, bytes, &err_), TSR_OK) << err_.message;
    return {b, 0, d};
  }
  template <typename T>
  std::vector<T> read(const tsr_tensor_ref& r, size_t n) {
    std::vector<T> v(n);
    EXPECT_EQ(cpu()->buffer_read(queue_, r.buffer, r.offset, v.data(), n * sizeof(T), &err_), TSR_OK);
    return v;
  }
  static tsr_subgraph_node node(int32_t op, std::vector<tsr_tensor_ref> in, tsr_tensor_ref out) {
    tsr_subgraph_node n{};
    n.desc.struct_size = sizeof(tsr_node_desc);
    n.desc.op = op;
    n.desc.n_inputs = static_cast<int32_t>(in.size());
    for (size_t i = 0; i < in.size(); ++i) {
      n.desc.inputs[i] = in[i].desc;
      n.inputs[i] = in[i];
    }
    n.desc.output = out.desc;
    n.output = out;
    return n;
  }
  // Prepares and executes one node; returns the execute status.
  tsr_status_code run(const tsr_subgraph_node& n, const tsr_step_params* step = nullptr) {
    tsr_subgraph g{sizeof(tsr_subgraph), 1, &n};
    tsr_bk_prepared prep = nullptr;
    tsr_status_code s = cpu()->prepare(dev_, &g, &prep, &err_);
    if (s != TSR_OK) return s;
    s = cpu()->execute(prep, queue_, step, &err_);
    cpu()->release_prepared(prep);
    return s;
  }

  tsr_bk_instance inst_ = nullptr;
  tsr_bk_device dev_ = nullptr;
  tsr_bk_queue queue_ = nullptr;
  tsr_error err_{};
  std::vector<tsr_bk_buffer> buffers_;
};

TEST(CpuBackendIface, TableIsComplete) {
  const tsr_backend_iface* t = cpu();
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->struct_size, sizeof(tsr_backend_iface));
  EXPECT_EQ(t->abi_version, TSR_BACKEND_ABI_VERSION);
  EXPECT_STREQ(t->name, "cpu");
  EXPECT_NE(t->buffer_wrap_host, nullptr);
  EXPECT_NE(t->execute, nullptr);
}

TEST_F(CpuBackend, DeviceProps) {
  tsr_device_props p{};
  p.struct_size = sizeof p;
  ASSERT_EQ(cpu()->device_props(dev_, &p, &err_), TSR_OK) << err_.message;
  EXPECT_EQ(p.type, TSR_DEVICE_TYPE_CPU);
  EXPECT_EQ(p.host_visible, 1);
  EXPECT_GT(p.memory_bytes, 0u);
  EXPECT_GT(std::strlen(p.name), 0u);
  EXPECT_EQ(p.peak_flops, 0.0);
  tsr_bk_device bad = nullptr;
  EXPECT_EQ(cpu()->device_open(inst_, 1, &bad, &err_), TSR_ERR_NOT_FOUND);
  EXPECT_EQ(bad, nullptr);
}

TEST_F(CpuBackend, BufferRoundTripAndBounds) {
  tsr_bk_buffer b = nullptr;
  ASSERT_EQ(cpu()->buffer_alloc(dev_, 1000, TSR_BUFFER_HOST_VISIBLE, &b, &err_), TSR_OK);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(cpu()->buffer_host_ptr(b)) % 64, 0u);
  std::vector<uint8_t> src(300), dst(300);
  for (size_t i = 0; i < src.size(); ++i) src[i] = static_cast<uint8_t>(i * 7);
  ASSERT_EQ(cpu()->buffer_write(queue_, b, 100, src.data(), src.size(), &err_), TSR_OK);
  ASSERT_EQ(cpu()->queue_finish(queue_, &err_), TSR_OK);
  ASSERT_EQ(cpu()->buffer_read(queue_, b, 100, dst.data(), dst.size(), &err_), TSR_OK);
  EXPECT_EQ(src, dst);
  EXPECT_EQ(cpu()->buffer_write(queue_, b, 900, src.data(), src.size(), &err_), TSR_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(err_.message).find("[buffer_write]"), std::string::npos);
  cpu()->buffer_free(b);
  cpu()->buffer_free(nullptr);

  // Wrapped host memory is used in place.
  std::vector<float> host = {1, 2, 3, 4};
  tsr_bk_buffer w = nullptr;
  ASSERT_EQ(cpu()->buffer_wrap_host(dev_, host.data(), 16, &w, &err_), TSR_OK);
  EXPECT_EQ(cpu()->buffer_host_ptr(w), host.data());
  cpu()->buffer_free(w);
  EXPECT_EQ(host[3], 4.0f);
}

TEST_F(CpuBackend, SupportsOpAnswers) {
  tsr_node_desc n{};
  n.struct_size = sizeof n;
  n.op = TSR_OP_MATMUL;
  n.n_inputs = 2;
  n.inputs[0] = desc(TSR_DTYPE_Q4_1, {64, 8});
  n.inputs[1] = desc(TSR_DTYPE_F32, {64, 3});
  n.output = desc(TSR_DTYPE_F32, {8, 3});
  char reason[128] = "";
  EXPECT_EQ(cpu()->supports_op(dev_, &n, reason, sizeof reason), 1) << reason;

  n.output = desc(TSR_DTYPE_F16, {8, 3});
  EXPECT_EQ(cpu()->supports_op(dev_, &n, reason, sizeof reason), 0);
  EXPECT_NE(std::string(reason).find("output"), std::string::npos) << reason;

  n.op = TSR_OP_VIEW;
  n.n_inputs = 1;
  EXPECT_EQ(cpu()->supports_op(dev_, &n, reason, sizeof reason), 0);
  EXPECT_STREQ(reason, "view ops are folded by core");

  n.op = 999;
  EXPECT_EQ(cpu()->supports_op(dev_, &n, reason, sizeof reason), 0);
  EXPECT_NE(std::string(reason).find("999"), std::string::npos) << reason;
  EXPECT_EQ(cpu()->supports_op(dev_, &n, nullptr, 0), 0);
}

TEST_F(CpuBackend, MatmulSubgraphMatchesHandComputed) {
  // w f32 [K=3, M=2], x f32 [K=3, N=2]: out[m, n] = sum_k w[k, m] x[k, n].
  const float w[] = {1, 2, 3, /* m=1 */ -1, 0, 2};
  const float x[] = {1, 1, 1, /* n=1 */ 2, -1, 0.5f};
  auto tw = tensor(desc(TSR_DTYPE_F32, {3, 2}), w);
  auto tx = tensor(desc(TSR_DTYPE_F32, {3, 2}), x);
  auto to = tensor(desc(TSR_DTYPE_F32, {2, 2}));
  // Then scale the product: out2 = out * 2 + 1, as a two-node subgraph.
  auto to2 = tensor(desc(TSR_DTYPE_F32, {2, 2}));
  tsr_subgraph_node nodes[2] = {node(TSR_OP_MATMUL, {tw, tx}, to), node(TSR_OP_SCALE, {to}, to2)};
  nodes[1].desc.params.f[0] = 2.0f;
  nodes[1].desc.params.f[1] = 1.0f;
  tsr_subgraph g{sizeof(tsr_subgraph), 2, nodes};
  tsr_bk_prepared prep = nullptr;
  ASSERT_EQ(cpu()->prepare(dev_, &g, &prep, &err_), TSR_OK) << err_.message;
  for (int rep = 0; rep < 3; ++rep)
    ASSERT_EQ(cpu()->execute(prep, queue_, nullptr, &err_), TSR_OK) << err_.message;
  cpu()->release_prepared(prep);
  // out[0,0]=6 out[1,0]=1 out[0,1]=2-2+1.5=1.5 out[1,1]=-2+0+1=-1
  EXPECT_EQ(read<float>(to, 4), (std::vector<float>{6, 1, 1.5f, -1}));
  EXPECT_EQ(read<float>(to2, 4), (std::vector<float>{13, 3, 4, -1}));
}

// Every weight dtype, GQA batch broadcast and a transposed f16 x, against
// doubles over the dequantized weights.
TEST_F(CpuBackend, MatmulAllWeightDtypesWithBatchesAndTransposedX) {
  const int64_t K = 64, M = 5, N = 3, B2w = 2, B2 = 4;
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> wf(K * M * B2w), xf(K * N * B2);
  for (auto& v : wf) v = u(rng);
  for (auto& v : xf) v = u(rng);
  // x stored as f16 [N, K, B2] and viewed transposed as [K, N, B2].
  std::vector<uint16_t> xh(xf.size());
  for (int64_t b = 0; b < B2; ++b)
    for (int64_t n = 0; n < N; ++n)
      for (int64_t k = 0; k < K; ++k) xh[(b * K + k) * N + n] = tsr::f32_to_f16(xf[(b * N + n) * K + k]);
  tsr_tensor_desc xd = desc(TSR_DTYPE_F16, {K, N, B2});
  xd.nb[0] = 2 * N;
  xd.nb[1] = 2;
  xd.nb[2] = 2 * N * K;
  auto tx = tensor(xd, xh.data(), xh.size() * 2);
  for (int32_t wt :
       {TSR_DTYPE_F32, TSR_DTYPE_F16, TSR_DTYPE_BF16, TSR_DTYPE_Q8_0, TSR_DTYPE_Q4_0, TSR_DTYPE_Q4_1}) {
    const tsr::DtypeTraits* t = tsr::dtype_traits(wt);
    const tsr_tensor_desc wdsc = desc(wt, {K, M, B2w});
    std::vector<uint8_t> wq(static_cast<size_t>(tsr::n_bytes_contiguous(wdsc)));
    t->from_float(wf.data(), wq.data(), static_cast<int64_t>(wf.size()));
    std::vector<float> wd(wf.size());
    t->to_float(wq.data(), wd.data(), static_cast<int64_t>(wf.size()));
    auto tw = tensor(wdsc, wq.data(), wq.size());
    auto to = tensor(desc(TSR_DTYPE_F32, {M, N, B2}));
    ASSERT_EQ(run(node(TSR_OP_MATMUL, {tw, tx}, to)), TSR_OK) << t->name << ": " << err_.message;
    const auto out = read<float>(to, M * N * B2);
    const double tol = t->is_quantized ? 0.1 : 2e-3;
    for (int64_t b = 0; b < B2; ++b)
      for (int64_t n = 0; n < N; ++n)
        for (int64_t m = 0; m < M; ++m) {
          double ref = 0;
          const int64_t bw = b / (B2 / B2w);
          for (int64_t k = 0; k < K; ++k)
            ref += static_cast<double>(wd[(bw * M + m) * K + k]) * tsr::f16_to_f32(xh[(b * K + k) * N + n]);
          ASSERT_NEAR(out[(b * N + n) * M + m], ref, tol) << t->name << " b" << b << " n" << n << " m" << m;
        }
  }
}

// Contiguous f32 operands with weights broadcast over batches: the oneDNN
// path when built with it, the blocked kernel otherwise.
TEST_F(CpuBackend, MatmulF32BroadcastWeightsMatchesNaive) {
  const int64_t K = 96, M = 37, N = 5, B2 = 3;
  std::mt19937 rng(2);
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> w(K * M), x(K * N * B2);
  for (auto& v : w) v = u(rng);
  for (auto& v : x) v = u(rng);
  auto tw = tensor(desc(TSR_DTYPE_F32, {K, M}), w.data());
  auto tx = tensor(desc(TSR_DTYPE_F32, {K, N, B2}), x.data());
  auto to = tensor(desc(TSR_DTYPE_F32, {M, N, B2}));
  ASSERT_EQ(run(node(TSR_OP_MATMUL, {tw, tx}, to)), TSR_OK) << err_.message;
  const auto out = read<float>(to, M * N * B2);
  for (int64_t r = 0; r < N * B2; ++r)
    for (int64_t m = 0; m < M; ++m) {
      double ref = 0;
      for (int64_t k = 0; k < K; ++k) ref += static_cast<double>(w[m * K + k]) * x[r * K + k];
      ASSERT_NEAR(out[r * M + m], ref, 1e-4) << "row " << r << " m " << m;
    }
}

// A row-wise chain: rms_norm -> softmax -> argmax, plus an f16 broadcast add.
TEST_F(CpuBackend, RowOpsChain) {
  const float x[] = {1, 2, 3, 4, /* row 1 */ -4, 0, 8, -1};
  auto tx = tensor(desc(TSR_DTYPE_F32, {4, 2}), x);
  auto tn = tensor(desc(TSR_DTYPE_F32, {4, 2}));
  auto ts = tensor(desc(TSR_DTYPE_F32, {4, 2}));
  auto ta = tensor(desc(TSR_DTYPE_I32, {2}));
  tsr_subgraph_node nodes[3] = {node(TSR_OP_RMS_NORM, {tx}, tn), node(TSR_OP_SOFTMAX, {tn}, ts),
                                node(TSR_OP_ARGMAX, {ts}, ta)};
  nodes[0].desc.params.f[0] = 1e-6f;
  tsr_subgraph g{sizeof(tsr_subgraph), 3, nodes};
  tsr_bk_prepared prep = nullptr;
  ASSERT_EQ(cpu()->prepare(dev_, &g, &prep, &err_), TSR_OK) << err_.message;
  ASSERT_EQ(cpu()->execute(prep, queue_, nullptr, &err_), TSR_OK) << err_.message;
  cpu()->release_prepared(prep);
  const auto n = read<float>(tn, 8);
  const double rms0 = std::sqrt((1 + 4 + 9 + 16) / 4.0 + 1e-6);
  EXPECT_NEAR(n[2], 3 / rms0, 1e-5);
  const auto s = read<float>(ts, 8);
  EXPECT_NEAR(s[0] + s[1] + s[2] + s[3], 1.0, 1e-6);
  EXPECT_EQ(read<int32_t>(ta, 2), (std::vector<int32_t>{3, 2}));

  // f16 a [4, 2] + f16 b [1, 2] (broadcast along dim 0).
  std::vector<uint16_t> a(8), b = {tsr::f32_to_f16(10), tsr::f32_to_f16(-1)};
  for (int i = 0; i < 8; ++i) a[i] = tsr::f32_to_f16(x[i]);
  auto th = tensor(desc(TSR_DTYPE_F16, {4, 2}), a.data(), 16);
  auto tb = tensor(desc(TSR_DTYPE_F16, {1, 2}), b.data(), 4);
  ASSERT_EQ(run(node(TSR_OP_ADD, {th, tb}, th)), TSR_OK) << err_.message;  // in place
  const auto sum = read<uint16_t>(th, 8);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(tsr::f16_to_f32(sum[i]), x[i] + (i < 4 ? 10.0f : -1.0f)) << i;
}

TEST_F(CpuBackend, GetRowsOutOfRangeIdIsAnError) {
  const float table[] = {1, 2, 3, 4, 5, 6};  // f32 [2, 3]
  const int32_t ids[] = {2, 0, 7};
  auto tt = tensor(desc(TSR_DTYPE_F32, {2, 3}), table);
  auto ti = tensor(desc(TSR_DTYPE_I32, {3}), ids);
  auto to = tensor(desc(TSR_DTYPE_F32, {2, 3}));
  EXPECT_EQ(run(node(TSR_OP_GET_ROWS, {tt, ti}, to)), TSR_ERR_INVALID_ARGUMENT);
  const std::string msg = err_.message;
  EXPECT_NE(msg.find("[get_rows]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("7"), std::string::npos) << msg;

  const int32_t good[] = {2, 0, 1};
  auto tg = tensor(desc(TSR_DTYPE_I32, {3}), good);
  ASSERT_EQ(run(node(TSR_OP_GET_ROWS, {tt, tg}, to)), TSR_OK) << err_.message;
  EXPECT_EQ(read<float>(to, 6), (std::vector<float>{5, 6, 1, 2, 3, 4}));
}

TEST_F(CpuBackend, SetRowsQuantizesIntoQ8_0) {
  std::vector<float> src(64);
  for (int i = 0; i < 64; ++i) src[i] = 0.25f * static_cast<float>(i - 30);
  auto tdst = tensor(desc(TSR_DTYPE_Q8_0, {32, 4}));
  std::vector<uint8_t> zero(4 * 34, 0);
  cpu()->buffer_write(queue_, tdst.buffer, 0, zero.data(), zero.size(), &err_);
  auto tsrc = tensor(desc(TSR_DTYPE_F32, {32, 2}), src.data());
  const int32_t idx[] = {3, 1};
  auto tidx = tensor(desc(TSR_DTYPE_I32, {2}), idx);
  ASSERT_EQ(run(node(TSR_OP_SET_ROWS, {tdst, tsrc, tidx}, tdst)), TSR_OK) << err_.message;
  const auto raw = read<uint8_t>(tdst, 4 * 34);
  std::vector<uint8_t> expect(2 * 34);
  tsr::quantize_q8_0(src.data(), expect.data(), 64);
  EXPECT_TRUE(std::equal(expect.begin(), expect.begin() + 34, raw.begin() + 3 * 34));
  EXPECT_TRUE(std::equal(expect.begin() + 34, expect.end(), raw.begin() + 34));
  EXPECT_TRUE(std::all_of(raw.begin(), raw.begin() + 34, [](uint8_t b) { return b == 0; }));

  const int32_t bad[] = {4, 0};
  auto tbad = tensor(desc(TSR_DTYPE_I32, {2}), bad);
  EXPECT_EQ(run(node(TSR_OP_SET_ROWS, {tdst, tsrc, tbad}, tdst)), TSR_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(err_.message).find("index 4"), std::string::npos) << err_.message;
}

TEST_F(CpuBackend, AttentionKvLengthFromStepParams) {
  // D=2, one head, one query, kv_size 3; with kv length 1 only row 0 is seen.
  const float q[] = {1, 0};
  const float k[] = {1, 0, 0, 1, 5, 5};
  const float v[] = {10, 20, 30, 40, 50, 60};
  const int32_t pos[] = {2};
  auto tq = tensor(desc(TSR_DTYPE_F32, {2, 1, 1, 1}), q);
  auto tk = tensor(desc(TSR_DTYPE_F32, {2, 1, 3, 1}), k);
  auto tv = tensor(desc(TSR_DTYPE_F32, {2, 1, 3, 1}), v);
  auto tp = tensor(desc(TSR_DTYPE_I32, {1}), pos);
  auto to = tensor(desc(TSR_DTYPE_F32, {2, 1, 1, 1}));
  auto n = node(TSR_OP_ATTENTION, {tq, tk, tv, tp}, to);
  n.desc.params.i[0] = 1;  // causal
  n.desc.params.i[1] = 0;  // kv length in step value 0
  const int64_t one[] = {1};
  tsr_step_params sp{sizeof(tsr_step_params), 1, one};
  ASSERT_EQ(run(n, &sp), TSR_OK) << err_.message;
  EXPECT_EQ(read<float>(to, 2), (std::vector<float>{10, 20}));

  const int64_t two[] = {2};
  sp.values = two;
  ASSERT_EQ(run(n, &sp), TSR_OK) << err_.message;
  const double e = std::exp(1.0 / std::sqrt(2.0)), w0 = e / (e + 1), w1 = 1 / (e + 1);
  const auto out = read<float>(to, 2);
  EXPECT_NEAR(out[0], w0 * 10 + w1 * 30, 1e-4);
  EXPECT_NEAR(out[1], w0 * 20 + w1 * 40, 1e-4);

  const int64_t too_long[] = {4};
  sp.values = too_long;
  EXPECT_EQ(run(n, &sp), TSR_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(err_.message).find("kv length 4"), std::string::npos) << err_.message;
  EXPECT_EQ(run(n, nullptr), TSR_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(err_.message).find("step parameter 0"), std::string::npos) << err_.message;
}

TEST_F(CpuBackend, PrepareRejectsTensorOutsideItsBuffer) {
  auto tx = tensor(desc(TSR_DTYPE_F32, {4}));
  tsr_tensor_ref big = tx;
  big.desc = desc(TSR_DTYPE_F32, {8});
  auto to = tensor(desc(TSR_DTYPE_F32, {8}));
  EXPECT_EQ(run(node(TSR_OP_SILU, {big}, to)), TSR_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(err_.message).find("[prepare]"), std::string::npos) << err_.message;
  auto tv = node(TSR_OP_VIEW, {tx}, tx);
  EXPECT_EQ(run(tv), TSR_ERR_UNSUPPORTED);
}

}  // namespace
