// The MPI communicator between two real processes (mpirun -np 2, loopback):
// the host collectives of the C API, and all_reduce / all_gather nodes in
// compiled graphs on every device the machine has, checked against values
// each rank computes for both ranks by itself.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/communicator.h"
#include "tessera/tessera.hpp"

namespace {

tessera::Context& ctx() {
  static tessera::Context* c = [] {
    auto* x = new tessera::Context();
    x->open_comm("mpi", 20.0);
    return x;
  }();
  return *c;
}

// Rank r's input: distinct per rank and element, exact in f32.
float input_value(int rank, int64_t i) { return static_cast<float>((rank + 1) * 1000 + i % 97) * 0.25f; }

std::vector<std::string> devices() {
  std::vector<std::string> d = {"cpu"};
  const char* v = std::getenv("TESSERA_REQUIRE_VULKAN");
  if (v && std::string(v) == "1") d.push_back("vulkan:0");
  const char* o = std::getenv("TESSERA_REQUIRE_OPENCL");
  if (o && std::string(o) == "1") d.push_back("opencl:0");
  return d;
}

TEST(CommMpi, JoinsTwoRanks) {
  ASSERT_EQ(ctx().comm_size(), 2) << "run under mpirun -np 2";
  EXPECT_EQ(ctx().comm_rank(),
            std::atoi(std::getenv("OMPI_COMM_WORLD_RANK") ? std::getenv("OMPI_COMM_WORLD_RANK") : "-1"));
  const std::string about = tsr_context_comm_describe(ctx().get());
  EXPECT_NE(about.find("rank " + std::to_string(ctx().comm_rank()) + " of 2"), std::string::npos) << about;
  // A second communicator for one context is refused.
  tsr_comm_options o{sizeof(o), "mpi", 0};
  EXPECT_EQ(tsr_context_open_comm(ctx().get(), &o), TSR_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(tsr_last_error()).find("already has a communicator"), std::string::npos);
}

TEST(CommMpi, HostGatherAndBroadcast) {
  const int r = ctx().comm_rank();
  const char mine[5] = {'r', 'a', 'n', 'k', static_cast<char>('0' + r)};  // odd size: not whole words
  char all[10] = {0};
  ASSERT_EQ(tsr_context_all_gather(ctx().get(), mine, all, 5), TSR_OK) << tsr_last_error();
  EXPECT_EQ(std::string(all, 10), "rank0rank1");
  int64_t v = r == 1 ? 424242 : -1;
  ASSERT_EQ(tsr_context_broadcast(ctx().get(), &v, sizeof v, 1), TSR_OK) << tsr_last_error();
  EXPECT_EQ(v, 424242);
  EXPECT_EQ(tsr_context_broadcast(ctx().get(), &v, sizeof v, 2), TSR_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(tsr_last_error()).find("root 2 is not a rank of 2"), std::string::npos);
}

TEST(CommMpi, AllReduceAndAllGatherNodesOnEveryDevice) {
  const int r = ctx().comm_rank();
  const int64_t n0 = 37, n1 = 5, n = n0 * n1;
  for (const std::string& dev : devices()) {
    SCOPED_TRACE(dev);
    tessera::Graph g(ctx());
    const tsr_tensor x = g.input("x", TSR_DTYPE_F32, {n0, n1});
    // Each collective reads a computed value (x * 2), so the node sits
    // between device work on both sides.
    const tsr_tensor sum = g.scale(g.all_reduce(g.scale(x, 2.0f), 2), 0.5f);
    const tsr_tensor gathered = g.all_gather(x, 2);
    g.output(sum);
    g.output(gathered);
    tessera::Model m(ctx().get(), g, {dev}, tessera::Model::CompileFlags{TSR_COMPILE_NO_TRANSFER_COST});
    std::vector<float> in(n);
    for (int64_t i = 0; i < n; ++i) in[i] = input_value(r, i);
    m.set_input(x, in);
    if (dev == "cpu")
      EXPECT_NE(m.placement().find("collectives on cpu:0: 2 per step, mpi (host memory, in place)"),
                std::string::npos)
          << m.placement();
    for (int step = 0; step < 3; ++step) {  // reruns reuse the staging
      m.execute();
      const std::vector<float> s = m.output<float>(sum, n);
      const std::vector<float> a = m.output<float>(gathered, 2 * n);
      ASSERT_EQ(s.size(), static_cast<size_t>(n));
      ASSERT_EQ(a.size(), static_cast<size_t>(2 * n));
      for (int64_t i = 0; i < n; ++i) {
        ASSERT_EQ(s[i], input_value(0, i) + input_value(1, i)) << "element " << i;
        ASSERT_EQ(a[i], input_value(0, i)) << "element " << i;
        ASSERT_EQ(a[n + i], input_value(1, i)) << "element " << i;
      }
    }
  }
}

// The row-parallel matmul tensor parallelism is built from: each rank holds
// half of W's input dimension, multiplies its half of x, and all_reduce sums
// the halves into what one process computes with all of W.
TEST(CommMpi, RowParallelMatmulMatchesOneProcess) {
  const int r = ctx().comm_rank();
  const int64_t K = 64, M = 24, N = 3, Kr = K / 2;
  std::vector<float> w(K * M), x(K * N);
  for (int64_t i = 0; i < K * M; ++i) w[i] = std::sin(0.37f * i);
  for (int64_t i = 0; i < K * N; ++i) x[i] = std::cos(0.11f * i);
  std::vector<float> w_half(Kr * M), x_half(Kr * N);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t k = 0; k < Kr; ++k) w_half[m * Kr + k] = w[m * K + r * Kr + k];
  for (int64_t t = 0; t < N; ++t)
    for (int64_t k = 0; k < Kr; ++k) x_half[t * Kr + k] = x[t * K + r * Kr + k];

  tessera::Graph whole(ctx());
  const tsr_tensor wt = whole.weight("w", TSR_DTYPE_F32, {K, M}, w.data(), w.size() * 4);
  const tsr_tensor y1 = whole.matmul(wt, whole.weight("x", TSR_DTYPE_F32, {K, N}, x.data(), x.size() * 4));
  whole.output(y1);
  tessera::Graph split(ctx());
  const tsr_tensor wh = split.weight("w", TSR_DTYPE_F32, {Kr, M}, w_half.data(), w_half.size() * 4);
  const tsr_tensor partial =
      split.matmul(wh, split.weight("x", TSR_DTYPE_F32, {Kr, N}, x_half.data(), x_half.size() * 4));
  const tsr_tensor y2 = split.all_reduce(partial, 2);
  split.output(y2);
  tessera::Model m1(ctx(), whole, {"cpu"});
  tessera::Model m2(ctx(), split, {"cpu"});
  m1.execute();
  m2.execute();
  const std::vector<float> a = m1.output<float>(y1, M * N), b = m2.output<float>(y2, M * N);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-4f) << "element " << i;
}

// Point to point through the communicator's table (pipeline stages across
// processes will use it): messages between a pair arrive in order.
TEST(CommMpi, SendAndRecvInOrder) {
  auto c = tsr::Communicator::open("mpi", 20.0);
  ASSERT_TRUE(c.is_ok()) << c.status().message();
  const tsr_comm_iface& f = c.value()->iface();
  tsr_cm_comm h = c.value()->handle();
  const int r = c.value()->rank();
  tsr_error err{};
  for (int32_t i = 0; i < 3; ++i) {
    int32_t msg[5] = {0};
    if (r == 0)
      for (int k = 0; k < 5; ++k) msg[k] = 100 * i + k;
    tsr_comm_ref ref{msg, nullptr, 0};
    const tsr_status_code rc = r == 0 ? f.send(h, &ref, sizeof msg, 1, nullptr, &err)
                                      : f.recv(h, &ref, sizeof msg, 0, nullptr, &err);
    ASSERT_EQ(rc, TSR_OK) << err.message;
    for (int k = 0; k < 5; ++k) EXPECT_EQ(msg[k], 100 * i + k);
  }
  int32_t x = 0;
  tsr_comm_ref ref{&x, nullptr, 0};
  EXPECT_EQ(f.send(h, &ref, 4, r, nullptr, &err), TSR_ERR_INVALID_ARGUMENT);  // to itself
  EXPECT_NE(std::string(err.message).find("is not another rank of 2"), std::string::npos) << err.message;
  tsr_comm_ref device{nullptr, nullptr, 0};
  EXPECT_EQ(f.recv(h, &device, 4, 1 - r, nullptr, &err), TSR_ERR_INVALID_ARGUMENT);  // no host memory
  EXPECT_NE(std::string(err.message).find("needs host memory"), std::string::npos) << err.message;
}

// A backend's own device communicator (the emulator's test one, which
// forwards to MPI: emu_comm.cpp): the ranks agree on it, rank 0's unique id
// reaches every rank, and the collectives run in place on the device.
TEST(CommMpi, DeviceCommunicatorRunsInPlace) {
  setenv("TESSERA_GPUEMU_COMM", TSR_COMM_MPI_PATH, 1);
  static const bool loaded = tsr_context_load_plugin(ctx().get(), TSR_GPUEMU_PATH) == TSR_OK;
  ASSERT_TRUE(loaded) << tsr_last_error();
  const int r = ctx().comm_rank();
  const int64_t n = 40;
  for (int round = 0; round < 2; ++round) {  // the second compile finds it open on every rank
    tessera::Graph g(ctx());
    const tsr_tensor x = g.input("x", TSR_DTYPE_F32, {n});
    const tsr_tensor sum = g.all_reduce(g.scale(x, 1.0f), 2);
    const tsr_tensor gathered = g.all_gather(g.scale(x, 1.0f), 2);
    g.output(sum);
    g.output(gathered);
    tessera::Model m(ctx().get(), g, {"gpuemu"},
                     tessera::Model::CompileFlags{TSR_COMPILE_STRICT | TSR_COMPILE_NO_TRANSFER_COST});
    EXPECT_NE(m.placement().find("collectives on gpuemu:0: 2 per step, emu-mpi on the device"),
              std::string::npos)
        << m.placement();
    std::vector<float> in(n);
    for (int64_t i = 0; i < n; ++i) in[i] = input_value(r, i);
    m.set_input(x, in);
    m.execute();
    const std::vector<float> s = m.output<float>(sum, n), a = m.output<float>(gathered, 2 * n);
    for (int64_t i = 0; i < n; ++i) {
      ASSERT_EQ(s[i], input_value(0, i) + input_value(1, i)) << i;
      ASSERT_EQ(a[i], input_value(0, i)) << i;
      ASSERT_EQ(a[n + i], input_value(1, i)) << i;
    }
  }
}

TEST(CommMpi, GraphForAnotherWorldSizeIsRefused) {
  tessera::Graph g(ctx());
  const tsr_tensor x = g.input("x", TSR_DTYPE_F32, {8});
  g.output(g.all_reduce(x, 3));
  tsr_model* m = nullptr;
  tsr_compile_options o{sizeof(o), nullptr, 0, 0};
  EXPECT_EQ(tsr_compile(ctx().get(), g.get(), &o, &m), TSR_ERR_INVALID_ARGUMENT);
  const std::string msg = tsr_last_error();
  EXPECT_NE(msg.find("world of 3 ranks"), std::string::npos) << msg;
  EXPECT_NE(msg.find("communicator has 2 ranks"), std::string::npos) << msg;
}

}  // namespace
