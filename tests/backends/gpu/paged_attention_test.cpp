// kernels/gpu/attention.cu's paged_attention kernels launched directly on the
// emulator, with tiles of several tokens (the backend packs tokens only for
// launches far larger than the conformance cases): a tile that is one run of
// a sequence's tokens and a tile whose tokens come from four sequences.
//
// Every pool block is a page of its own. The blocks no token may read (never
// handed out, or named by the table only past a token's position or before
// its window) are mapped without read access, as are the pages around the
// pool and the block table, so a kernel that reads a row, a table entry or a
// block it must not kills the test. A second launch feeds bad integer inputs
// (a seq outside the table, a position past it or negative, block ids just
// outside the pool): the kernel cannot report them and must stay inside its
// tensors; the good tokens beside them must still be right. Outputs are
// checked against a softmax in double.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <string>
#include <tuple>
#include <vector>

// The kernel under test, compiled for the emulator as backends/gpuemu does.
#include "kernels/gpu/attention.cu"

namespace tsr::gpu {
namespace {

using namespace attn;

constexpr int64_t kD = 64, kHeads = 4, kKvHeads = 2;  // 2 query heads per kv head
constexpr int64_t kSeqs = 4;                          // rows of the block table
constexpr int64_t kBlocks = 34;                       // pool blocks (27 used)
constexpr int64_t kTile = 4;                          // tokens per tile

size_t page_size() { return static_cast<size_t>(sysconf(_SC_PAGESIZE)); }

// n pages between two unreadable ones; pages can be made unreadable one by one.
class GuardedPages {
 public:
  explicit GuardedPages(size_t n) : n_(n) {
    const size_t page = page_size();
    void* m = mmap(nullptr, (n + 2) * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return;
    base_ = static_cast<char*>(m);
    ok_ = mprotect(base_, page, PROT_NONE) == 0 && mprotect(base_ + (n + 1) * page, page, PROT_NONE) == 0;
  }
  ~GuardedPages() {
    if (base_) munmap(base_, (n_ + 2) * page_size());
  }
  GuardedPages(const GuardedPages&) = delete;
  GuardedPages& operator=(const GuardedPages&) = delete;

  bool ok() const { return ok_; }
  char* data() const { return base_ + page_size(); }
  bool guard(size_t i) {
    return ok_ = ok_ && mprotect(data() + i * page_size(), page_size(), PROT_NONE) == 0;
  }

 private:
  size_t n_;
  char* base_ = nullptr;
  bool ok_ = false;
};

// [ne0, ne1, ne2] of dtype (4-byte elements), contiguous.
GpuTensor tensor(const void* ptr, int32_t dtype, int64_t ne0, int64_t ne1, int64_t ne2) {
  GpuTensor t{};
  t.ptr = reinterpret_cast<uint64_t>(ptr);
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

struct Token {
  int32_t seq, pos;
};

// Tile 0: four consecutive tokens of sequence 0 (a prefill chunk, one run).
// Tile 1: one token each of sequences 1, 2, 3 and 0 (a decode batch). Every
// sequence's rows span several blocks; sequence 3 shares sequence 0's first
// block (a prefix shared copy-on-write).
const std::vector<Token> kTokens = {{0, 40}, {0, 41}, {0, 42}, {0, 43}, {1, 100}, {2, 7}, {3, 63}, {0, 44}};

// (warp size, reverse thread order, sliding window)
class PagedAttention : public ::testing::TestWithParam<std::tuple<uint32_t, bool, int32_t>> {};

TEST_P(PagedAttention, TiledRunsReadOnlyTheirBlocksAndSurviveBadInputs) {
  const auto [warp, reverse, window] = GetParam();
  const size_t page = page_size();
  // One block per page: bs rows of kKvHeads x kD floats.
  const int64_t bs = static_cast<int64_t>(page / (kKvHeads * kD * sizeof(float)));
  ASSERT_GT(bs, 0);
  // The table fills one page exactly, so a row past its last or before its
  // first lands on a guard page.
  const int64_t max_blocks = static_cast<int64_t>(page / (kSeqs * sizeof(int32_t)));
  ASSERT_GE(max_blocks * bs, 101) << "page size too small for the test's positions";
  const int64_t pool_rows = kBlocks * bs;
  auto first_row = [&](int64_t p) { return window > 0 ? std::max<int64_t>(0, p - window + 1) : 0; };

  // The blocks each sequence needs: from the first block any of its tokens'
  // windows reaches to the block of its last position.
  std::vector<int64_t> lo(kSeqs, INT64_MAX), hi(kSeqs, -1);
  for (const Token& t : kTokens) {
    lo[t.seq] = std::min(lo[t.seq], first_row(t.pos) / bs);
    hi[t.seq] = std::max<int64_t>(hi[t.seq], t.pos / bs);
  }
  // Hand out blocks in shuffled order; sequence 3 shares sequence 0's block 0.
  std::mt19937 rng(11);
  std::vector<int32_t> ids(kBlocks);
  std::iota(ids.begin(), ids.end(), 0);
  std::shuffle(ids.begin(), ids.end(), rng);
  size_t next = 0;
  std::vector<std::vector<int32_t>> owned(kSeqs);  // [seq][logical block]
  for (int64_t s = 0; s < kSeqs; ++s)
    for (int64_t b = 0; b <= hi[s]; ++b) owned[s].push_back(s == 3 && b == 0 ? owned[0][0] : ids[next++]);
  ASSERT_LE(next, static_cast<size_t>(kBlocks));
  std::vector<bool> readable(kBlocks, false);
  for (int64_t s = 0; s < kSeqs; ++s)
    for (int64_t b = lo[s]; b <= hi[s]; ++b) readable[owned[s][b]] = true;
  const int32_t guarded = ids[kBlocks - 1];  // never handed out
  ASSERT_FALSE(readable[guarded]);

  // The table: each sequence's blocks where it may read, an unreadable block
  // everywhere else (past its last position, before its windows).
  GuardedPages table_mem(1);
  ASSERT_TRUE(table_mem.ok());
  auto* table = reinterpret_cast<int32_t*>(table_mem.data());  // [max_blocks, kSeqs]
  for (int64_t s = 0; s < kSeqs; ++s)
    for (int64_t b = 0; b < max_blocks; ++b)
      table[s * max_blocks + b] = b >= lo[s] && b <= hi[s] ? owned[s][b] : guarded;

  // k and v [kD, kKvHeads, pool_rows]: random, then the blocks no token may
  // read made unreadable.
  GuardedPages k_mem(kBlocks), v_mem(kBlocks);
  ASSERT_TRUE(k_mem.ok() && v_mem.ok());
  auto* k = reinterpret_cast<float*>(k_mem.data());
  auto* v = reinterpret_cast<float*>(v_mem.data());
  std::normal_distribution<float> normal;
  for (int64_t i = 0; i < pool_rows * kKvHeads * kD; ++i) {
    k[i] = normal(rng);
    v[i] = normal(rng);
  }
  for (int64_t b = 0; b < kBlocks; ++b)
    if (!readable[b]) ASSERT_TRUE(k_mem.guard(b) && v_mem.guard(b));

  const auto n_tokens = static_cast<int64_t>(kTokens.size());
  std::vector<float> q(kD * kHeads * n_tokens);
  for (float& x : q) x = normal(rng);

  // softmax(q k^T / sqrt(D)) v over each token's pool rows, in double.
  std::vector<double> want(q.size(), 0.0);
  for (int64_t t = 0; t < n_tokens; ++t) {
    const Token& tk = kTokens[t];
    for (int64_t h = 0; h < kHeads; ++h) {
      const int64_t kvh = h / (kHeads / kKvHeads);
      const float* qr = q.data() + (t * kHeads + h) * kD;
      std::vector<int64_t> rows;
      for (int64_t j = first_row(tk.pos); j <= tk.pos; ++j)
        rows.push_back(owned[tk.seq][j / bs] * bs + j % bs);
      std::vector<double> s;
      double mx = -INFINITY, sum = 0.0;
      for (int64_t r : rows) {
        double dot = 0.0;
        for (int64_t d = 0; d < kD; ++d) dot += static_cast<double>(qr[d]) * k[(r * kKvHeads + kvh) * kD + d];
        s.push_back(dot / std::sqrt(static_cast<double>(kD)));
        mx = std::max(mx, s.back());
      }
      for (double& x : s) sum += x = std::exp(x - mx);
      for (size_t i = 0; i < rows.size(); ++i)
        for (int64_t d = 0; d < kD; ++d)
          want[(t * kHeads + h) * kD + d] += s[i] / sum * v[(rows[i] * kKvHeads + kvh) * kD + d];
    }
  }

  // Runs the kernel (S = 1) or its split variant and the merge (S > 1) over
  // tokens; returns the output, NaN where the launch failed.
  auto run = [&](const std::vector<Token>& tokens, const std::vector<float>& qs, int64_t splits,
                 std::string* error) {
    const auto n = static_cast<int64_t>(tokens.size());
    std::vector<int32_t> pos(n), seq(n);
    for (int64_t t = 0; t < n; ++t) {
      pos[t] = tokens[t].pos;
      seq[t] = tokens[t].seq;
    }
    std::vector<float> out(kD * kHeads * n, NAN);
    std::vector<float> partials(splits * kHeads * n * (kD + kPartialHeader), NAN);
    KArgs a{};
    a.t[0] = tensor(qs.data(), kF32, kD, kHeads, n);
    a.t[1] = tensor(k, kF32, kD, kKvHeads, pool_rows);
    a.t[2] = tensor(v, kF32, kD, kKvHeads, pool_rows);
    a.t[3] = tensor(pos.data(), kI32, n, 1, 1);
    a.t[4] = tensor(seq.data(), kI32, n, 1, 1);
    a.t[5] = tensor(table, kI32, max_blocks, kSeqs, 1);
    a.t[kOutSlot] = tensor(out.data(), kF32, kD, kHeads, n);
    a.ip[0] = bs;
    a.ip[2] = window;
    a.ku[kKuHeads] = kHeads / kKvHeads;
    a.ku[kKuTokens] = kTile;
    a.ku[kKuChunk] = kMaxChunk;
    a.ku[kKuHeadChunks] = 1;
    a.ku[kKuSplits] = splits;
    a.ku[kKuPartials] = static_cast<int64_t>(reinterpret_cast<uint64_t>(partials.data()));
    const uint32_t grid[3] = {static_cast<uint32_t>((n + kTile - 1) / kTile), kKvHeads,
                              static_cast<uint32_t>(splits)};
    const char* name = splits > 1 ? "tsr_paged_attention_split" : "tsr_paged_attention";
    if (!emu::launch(emu::find_kernel(name), grid, kThreads, warp, a, error, reverse)) return out;
    if (splits > 1) {
      const uint32_t merge_grid[3] = {static_cast<uint32_t>(kHeads * n), 1, 1};
      if (!emu::launch(emu::find_kernel("tsr_attention_merge"), merge_grid, 64, warp, a, error, reverse))
        return out;
    }
    return out;
  };
  auto expect_tokens = [&](const std::vector<float>& out, int64_t n_good, const char* what) {
    for (int64_t i = 0; i < n_good * kHeads * kD; ++i)
      ASSERT_NEAR(out[i], want[i], 1e-5)
          << what << ": token " << i / (kHeads * kD) << " head " << i / kD % kHeads << " dim " << i % kD;
  };

  for (int64_t splits : {1, 3}) {
    std::string error;
    const std::vector<float> out = run(kTokens, q, splits, &error);
    ASSERT_TRUE(error.empty()) << error;
    expect_tokens(out, n_tokens, splits > 1 ? "split + merge" : "one pass");
  }

  // Bad integer inputs: table entries the good tokens never read name blocks
  // just outside the pool (-1 and kBlocks, on the guard pages), and four bad
  // tokens follow the good ones, a tile of their own plus a mixed one.
  for (int64_t i = 0; i < max_blocks * kSeqs; ++i)
    if (table[i] == guarded) table[i] = i % 2 == 0 ? -1 : static_cast<int32_t>(kBlocks);
  std::vector<Token> bad = kTokens;
  // Token 11 repeats token 3 in a tile with three bad tokens.
  const std::vector<Token> extra = {{kSeqs, 10}, {-1, 10}, {1, 1 << 30}, kTokens[3], {2, -3}};
  bad.insert(bad.end(), extra.begin(), extra.end());
  std::vector<float> qb = q;
  qb.resize(kD * kHeads * static_cast<int64_t>(bad.size()), 0.5f);
  std::copy_n(q.begin() + 3 * kHeads * kD, kHeads * kD, qb.begin() + 11 * kHeads * kD);
  for (int64_t splits : {1, 3}) {
    std::string error;
    const std::vector<float> out = run(bad, qb, splits, &error);
    ASSERT_TRUE(error.empty()) << error;
    expect_tokens(out, n_tokens, "good tokens beside bad ones");
    for (int64_t i = 0; i < kHeads * kD; ++i)
      ASSERT_NEAR(out[11 * kHeads * kD + i], want[3 * kHeads * kD + i], 1e-5)
          << "token 11, a good one in a bad tile";
  }
}

INSTANTIATE_TEST_SUITE_P(WarpOrderWindow, PagedAttention,
                         ::testing::Combine(::testing::Values(32u, 64u), ::testing::Bool(),
                                            ::testing::Values(0, 24)));

}  // namespace
}  // namespace tsr::gpu
