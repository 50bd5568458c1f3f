// kernels/gpu/attention.cu under a sliding window, launched directly on the
// emulator: a decode against a long cache must skip the kv rows before its
// window, not stage and mask them. Those rows sit on pages mapped without
// read access, so a kernel that reads one kills the test. The split-KV
// variant must also share out the window rather than the whole cache, so
// that every split gets rows. Outputs are checked against a softmax in
// double. (The conformance suite checks windowed values through the
// backend; it cannot see which rows a kernel reads.)
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmath>
#include <random>
#include <string>
#include <tuple>
#include <vector>

// The kernel under test, compiled for the emulator as backends/gpuemu does.
#include "kernels/gpu/attention.cu"

namespace tsr::gpu {
namespace {

using namespace attn;

// Gemma 3's local layers: window 512; a decode at position 4000 of a 4096-row
// cache sees rows 3489..4000.
constexpr int64_t kD = 64, kHeads = 2, kKvSize = 4096, kPos = 4000, kWindow = 512;
constexpr int64_t kFirst = kPos - kWindow + 1;
constexpr int64_t kSplits = 4;

// kKvSize rows of kD floats, random from row kFirst on; the whole pages
// before row kFirst cannot be read.
class GuardedRows {
 public:
  explicit GuardedRows(std::mt19937& rng) {
    void* m = mmap(nullptr, kBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return;
    rows_ = static_cast<float*>(m);
    std::normal_distribution<float> normal;
    for (int64_t i = kFirst * kD; i < kKvSize * kD; ++i) rows_[i] = normal(rng);
    const auto page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    guarded_ = static_cast<size_t>(kFirst * kD) * sizeof(float) / page * page;
    ok_ = mprotect(m, guarded_, PROT_NONE) == 0;
  }
  ~GuardedRows() {
    if (rows_) munmap(rows_, kBytes);
  }
  GuardedRows(const GuardedRows&) = delete;
  GuardedRows& operator=(const GuardedRows&) = delete;

  bool ok() const { return ok_; }
  // Rows whose pages are unreadable (all before kFirst).
  int64_t guarded_rows() const { return static_cast<int64_t>(guarded_ / (kD * sizeof(float))); }
  const float* row(int64_t j) const { return rows_ + j * kD; }
  uint64_t address() const { return reinterpret_cast<uint64_t>(rows_); }

 private:
  static constexpr size_t kBytes = static_cast<size_t>(kKvSize * kD) * sizeof(float);
  float* rows_ = nullptr;
  size_t guarded_ = 0;
  bool ok_ = false;
};

// f32 (or i32) [ne0, ne1, ne2], contiguous.
GpuTensor tensor(uint64_t ptr, int32_t dtype, int64_t ne0, int64_t ne1, int64_t ne2) {
  GpuTensor t{};
  t.ptr = ptr;
  const int64_t ne[4] = {ne0, ne1, ne2, 1};
  int64_t nb = 4;
  for (int i = 0; i < 4; ++i) {
    t.ne[i] = ne[i];
    t.nb[i] = nb;
    nb *= ne[i];
  }
  t.dtype = dtype;
  return t;
}

template <typename T>
uint64_t addr(T* p) {
  return reinterpret_cast<uint64_t>(p);
}

// (warp size, reverse thread order)
class AttentionWindow : public ::testing::TestWithParam<std::tuple<uint32_t, bool>> {};

TEST_P(AttentionWindow, DecodeReadsOnlyTheWindowAndEverySplitGetsRows) {
  const auto [warp, reverse] = GetParam();
  std::mt19937 rng(7);
  GuardedRows k(rng), v(rng);
  ASSERT_TRUE(k.ok() && v.ok()) << "mmap/mprotect failed";
  // The rows before the window are unreadable but for those sharing a page
  // with its first row (fewer than 16 with 4 KiB pages).
  ASSERT_GT(k.guarded_rows(), 0) << "the page size leaves no whole page before the window";
  std::normal_distribution<float> normal;
  std::vector<float> q(kD * kHeads);
  for (float& x : q) x = normal(rng);
  const int32_t pos = kPos;
  const int64_t steps[1] = {kPos + 1};  // valid kv length, a step value

  // One kv head shared by both query heads; one block of 2 heads x 1 token.
  KArgs a{};
  a.t[0] = tensor(addr(q.data()), kF32, kD, kHeads, 1);
  a.t[1] = tensor(k.address(), kF32, kD, 1, kKvSize);
  a.t[2] = tensor(v.address(), kF32, kD, 1, kKvSize);
  a.t[3] = tensor(addr(&pos), kI32, 1, 1, 1);
  a.ip[0] = 1;  // causal
  a.ip[1] = 0;  // kv length in step value 0
  a.ip[2] = kWindow;
  a.step = addr(steps);
  a.ku[kKuHeads] = kHeads;
  a.ku[kKuTokens] = 1;
  a.ku[kKuChunk] = kMaxChunk;
  a.ku[kKuHeadChunks] = 1;

  // softmax(q k^T / sqrt(D)) v over rows kFirst..kPos, in double.
  std::vector<double> want(kD * kHeads, 0.0);
  for (int64_t h = 0; h < kHeads; ++h) {
    std::vector<double> s;
    double mx = -INFINITY, sum = 0.0;
    for (int64_t j = kFirst; j <= kPos; ++j) {
      double dot = 0.0;
      for (int64_t d = 0; d < kD; ++d) dot += static_cast<double>(q[h * kD + d]) * k.row(j)[d];
      s.push_back(dot / std::sqrt(static_cast<double>(kD)));
      mx = std::max(mx, s.back());
    }
    for (double& x : s) sum += x = std::exp(x - mx);
    for (int64_t j = kFirst; j <= kPos; ++j)
      for (int64_t d = 0; d < kD; ++d) want[h * kD + d] += s[j - kFirst] / sum * v.row(j)[d];
  }
  auto expect_output = [&](const std::vector<float>& out, const char* variant) {
    for (int64_t i = 0; i < kD * kHeads; ++i)
      ASSERT_NEAR(out[i], want[i], 1e-5) << variant << ", head " << i / kD << " dim " << i % kD;
  };
  std::string error;

  {  // one block over the window
    std::vector<float> out(kD * kHeads, NAN);
    KArgs plain = a;
    plain.t[kOutSlot] = tensor(addr(out.data()), kF32, kD, kHeads, 1);
    plain.ku[kKuSplits] = 1;
    const uint32_t grid[3] = {1, 1, 1};
    ASSERT_TRUE(emu::launch(emu::find_kernel("tsr_attention"), grid, kThreads, warp, plain, &error, reverse))
        << error;
    expect_output(out, "tsr_attention");
  }

  {  // kSplits blocks over the window, then the merge
    std::vector<float> out(kD * kHeads, NAN);
    std::vector<float> partials(kSplits * kHeads * (kD + kPartialHeader), NAN);
    KArgs split = a;
    split.t[kOutSlot] = tensor(addr(out.data()), kF32, kD, kHeads, 1);
    split.ku[kKuSplits] = kSplits;
    split.ku[kKuPartials] = static_cast<int64_t>(addr(partials.data()));
    const uint32_t grid[3] = {1, 1, kSplits};
    ASSERT_TRUE(
        emu::launch(emu::find_kernel("tsr_attention_split"), grid, kThreads, warp, split, &error, reverse))
        << error;
    // Partial (z, token 0, head h) at (z * kHeads + h) * (D + 2): (m, l, acc).
    for (int64_t z = 0; z < kSplits; ++z)
      for (int64_t h = 0; h < kHeads; ++h)
        EXPECT_GT(partials[(z * kHeads + h) * (kD + kPartialHeader) + 1], 0.0f)
            << "split " << z << " of " << kSplits << " got no rows of the window (head " << h << ")";
    const uint32_t merge_grid[3] = {kHeads, 1, 1};
    ASSERT_TRUE(
        emu::launch(emu::find_kernel("tsr_attention_merge"), merge_grid, 64, warp, split, &error, reverse))
        << error;
    expect_output(out, "tsr_attention_split + merge");
  }
}

INSTANTIATE_TEST_SUITE_P(WarpAndOrder, AttentionWindow,
                         ::testing::Combine(::testing::Values(32u, 64u), ::testing::Bool()));

}  // namespace
}  // namespace tsr::gpu
