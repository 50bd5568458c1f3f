#include "core/planner.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <random>
#include <vector>

namespace tsr {
namespace {

Plan plan_ok(const std::vector<PlanBuffer>& bufs, int64_t alignment = 64) {
  Result<Plan> r = plan_memory(bufs, alignment);
  EXPECT_TRUE(r.is_ok()) << r.status().message();
  if (!r.is_ok()) return Plan{};
  Status check = check_plan(bufs, r.value());
  EXPECT_TRUE(check.is_ok()) << check.message();
  return r.value();
}

std::string plan_error(const std::vector<PlanBuffer>& bufs, int64_t alignment = 64) {
  Result<Plan> r = plan_memory(bufs, alignment);
  EXPECT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), TSR_ERR_INVALID_ARGUMENT);
  return r.status().message();
}

// Brute force over steps, independent of the planner's sweep.
int64_t live_bytes_peak(const std::vector<PlanBuffer>& bufs, const std::vector<int32_t>& inplace_of) {
  std::map<int64_t, int64_t> live;
  for (size_t i = 0; i < bufs.size(); ++i)
    for (int64_t s = bufs[i].first_use + (inplace_of[i] >= 0 ? 1 : 0); s <= bufs[i].last_use; ++s)
      live[s] += bufs[i].size;
  int64_t peak = 0;
  for (const auto& [step, bytes] : live) peak = std::max(peak, bytes);
  return peak;
}

TEST(Planner, EmptyInputGivesEmptyArena) {
  Plan p = plan_ok({});
  EXPECT_EQ(p.arena_size, 0);
  EXPECT_TRUE(p.offsets.empty());
  EXPECT_EQ(p.total_size, 0);
}

TEST(Planner, DisjointLifetimesShareOffsetZero) {
  std::vector<PlanBuffer> bufs = {{.size = 1000, .first_use = 0, .last_use = 2},
                                  {.size = 800, .first_use = 3, .last_use = 5}};
  Plan p = plan_ok(bufs);
  EXPECT_EQ(p.offsets[0], 0);
  EXPECT_EQ(p.offsets[1], 0);
  EXPECT_EQ(p.arena_size, 1000);
  EXPECT_EQ(p.total_size, 1800);
  EXPECT_EQ(p.max_live_bytes, 1000);
}

TEST(Planner, OverlappingLifetimesGetDisjointMemory) {
  // Lifetimes touch at step 2 only: still both live there.
  std::vector<PlanBuffer> bufs = {{.size = 1000, .first_use = 0, .last_use = 2},
                                  {.size = 800, .first_use = 2, .last_use = 5}};
  Plan p = plan_ok(bufs);
  EXPECT_EQ(p.offsets[0], 0);     // larger first
  EXPECT_EQ(p.offsets[1], 1024);  // above it, aligned to 64
  EXPECT_EQ(p.arena_size, 1024 + 800);
  EXPECT_EQ(p.max_live_bytes, 1800);
}

TEST(Planner, BestFitPicksTheSmallerHole) {
  // During steps 5..6, P1 sits at [80, 120) and P2 at [160, 200), leaving holes
  // of 80 bytes at 0 and 40 bytes at 120. T (30 bytes) takes the 40-byte hole;
  // first fit would have taken offset 0.
  std::vector<PlanBuffer> bufs = {
      {.size = 80, .first_use = 0, .last_use = 1},  // F1 -> 0
      {.size = 40, .first_use = 0, .last_use = 6},  // P1 -> 80
      {.size = 40, .first_use = 0, .last_use = 1},  // F2 -> 120
      {.size = 40, .first_use = 0, .last_use = 6},  // P2 -> 160
      {.size = 30, .first_use = 5, .last_use = 6},  // T
  };
  Plan p = plan_ok(bufs, 8);
  EXPECT_EQ(p.offsets[0], 0);
  EXPECT_EQ(p.offsets[1], 80);
  EXPECT_EQ(p.offsets[2], 120);
  EXPECT_EQ(p.offsets[3], 160);
  EXPECT_EQ(p.offsets[4], 120);
  EXPECT_EQ(p.arena_size, 200);
}

TEST(Planner, PlacesAboveAllWhenNoHoleFits) {
  // During steps 3..4 only a 3-byte sliver is free between buffers 3 and 2.
  std::vector<PlanBuffer> bufs = {
      {.size = 100, .first_use = 0, .last_use = 4},  // -> 0
      {.size = 80, .first_use = 0, .last_use = 1},   // -> 100
      {.size = 78, .first_use = 0, .last_use = 4},   // -> 180
      {.size = 77, .first_use = 2, .last_use = 4},   // -> 100, where buffer 1 was
      {.size = 10, .first_use = 3, .last_use = 4},   // sliver [177, 180) too small: on top
  };
  Plan p = plan_ok(bufs, 1);
  EXPECT_EQ(p.offsets, (std::vector<int64_t>{0, 100, 180, 100, 258}));
  EXPECT_EQ(p.arena_size, 268);
}

TEST(Planner, AlignmentRespected) {
  std::vector<PlanBuffer> bufs = {{.size = 10, .first_use = 0, .last_use = 3},
                                  {.size = 3, .first_use = 0, .last_use = 3},
                                  {.size = 7, .first_use = 1, .last_use = 2}};
  Plan p64 = plan_ok(bufs, 64);
  for (int64_t off : p64.offsets) EXPECT_EQ(off % 64, 0) << off;
  EXPECT_EQ(p64.arena_size, 128 + 3);
  EXPECT_EQ(p64.alignment, 64);

  Plan p1 = plan_ok(bufs, 1);
  EXPECT_EQ(p1.arena_size, 20);  // packed tight without alignment

  Plan p4096 = plan_ok(bufs, 4096);
  for (int64_t off : p4096.offsets) EXPECT_EQ(off % 4096, 0) << off;
}

TEST(Planner, ZeroSizeBuffersOccupyNothing) {
  std::vector<PlanBuffer> bufs = {{.size = 0, .first_use = 0, .last_use = 9},
                                  {.size = 64, .first_use = 0, .last_use = 9},
                                  {.size = 0, .first_use = 2, .last_use = 3}};
  Plan p = plan_ok(bufs);
  EXPECT_EQ(p.arena_size, 64);
  EXPECT_EQ(p.offsets[1], 0);
}

TEST(Planner, InplaceTakerSharesOffset) {
  std::vector<PlanBuffer> bufs = {
      {.size = 256, .first_use = 0, .last_use = 1},                       // x
      {.size = 256, .first_use = 1, .last_use = 3, .inplace_source = 0},  // silu(x) in place
      {.size = 128, .first_use = 0, .last_use = 3},                       // live throughout
  };
  Plan p = plan_ok(bufs);
  EXPECT_EQ(p.offsets[1], p.offsets[0]);
  EXPECT_EQ(p.inplace_of, (std::vector<int32_t>{-1, 0, -1}));
  EXPECT_EQ(p.n_inplace, 1);
  EXPECT_EQ(p.arena_size, 256 + 128);
  EXPECT_EQ(p.max_live_bytes, 256 + 128);
}

TEST(Planner, InplaceChainIsOneSlot) {
  std::vector<PlanBuffer> bufs = {
      {.size = 512, .first_use = 0, .last_use = 1},
      {.size = 512, .first_use = 1, .last_use = 2, .inplace_source = 0},
      {.size = 256, .first_use = 2, .last_use = 4, .inplace_source = 1},
      {.size = 512, .first_use = 3, .last_use = 4},  // overlaps the chain's tail only
  };
  Plan p = plan_ok(bufs);
  EXPECT_EQ(p.offsets[0], 0);
  EXPECT_EQ(p.offsets[1], 0);
  EXPECT_EQ(p.offsets[2], 0);
  EXPECT_EQ(p.offsets[3], 512);  // the chain is a 512-byte unit over steps 0..4
  EXPECT_EQ(p.n_inplace, 2);
  EXPECT_EQ(p.arena_size, 1024);
}

TEST(Planner, InplaceRefusedWhenTakerIsLarger) {
  std::vector<PlanBuffer> bufs = {{.size = 256, .first_use = 0, .last_use = 1},
                                  {.size = 512, .first_use = 1, .last_use = 2, .inplace_source = 0}};
  Plan p = plan_ok(bufs);
  EXPECT_EQ(p.inplace_of[1], -1);
  EXPECT_EQ(p.n_inplace, 0);
  EXPECT_EQ(p.offsets[1], 0);
  EXPECT_EQ(p.offsets[0], 512);  // a separate slot: both live at step 1
  EXPECT_EQ(p.arena_size, 768);
}

TEST(Planner, InplaceRefusedWhenSourceOutlivesHandover) {
  // The source is still read at step 2, after the taker is written at step 1.
  std::vector<PlanBuffer> bufs = {{.size = 256, .first_use = 0, .last_use = 2},
                                  {.size = 256, .first_use = 1, .last_use = 3, .inplace_source = 0}};
  Plan p = plan_ok(bufs);
  EXPECT_EQ(p.inplace_of[1], -1);
  EXPECT_NE(p.offsets[0], p.offsets[1]);
  EXPECT_EQ(p.arena_size, 512);
}

TEST(Planner, InplaceRefusedWhenSourceDiedEarlier) {
  // A gap between source and taker: legal to reuse the memory anyway, but not
  // an in-place pair; the planner still shares offset 0 because lifetimes are disjoint.
  std::vector<PlanBuffer> bufs = {{.size = 256, .first_use = 0, .last_use = 1},
                                  {.size = 256, .first_use = 2, .last_use = 3, .inplace_source = 0}};
  Plan p = plan_ok(bufs);
  EXPECT_EQ(p.inplace_of[1], -1);
  EXPECT_EQ(p.n_inplace, 0);
  EXPECT_EQ(p.offsets[1], 0);
}

TEST(Planner, ContestedSourceGoesToLowerIndex) {
  std::vector<PlanBuffer> bufs = {{.size = 256, .first_use = 0, .last_use = 1},
                                  {.size = 256, .first_use = 1, .last_use = 2, .inplace_source = 0},
                                  {.size = 256, .first_use = 1, .last_use = 2, .inplace_source = 0}};
  Plan p = plan_ok(bufs);
  EXPECT_EQ(p.inplace_of, (std::vector<int32_t>{-1, 0, -1}));
  EXPECT_EQ(p.arena_size, 512);
}

TEST(Planner, InplaceNeverChainsThroughASingleStepBuffer) {
  // 1 takes 0 and lives only at step 2; if 2 took 1, buffers 0 and 2 would be
  // live together at step 2 in the same bytes.
  std::vector<PlanBuffer> bufs = {{.size = 256, .first_use = 0, .last_use = 2},
                                  {.size = 256, .first_use = 2, .last_use = 2, .inplace_source = 0},
                                  {.size = 256, .first_use = 2, .last_use = 4, .inplace_source = 1}};
  Plan p = plan_ok(bufs);
  EXPECT_EQ(p.inplace_of, (std::vector<int32_t>{-1, 0, -1}));
  EXPECT_NE(p.offsets[2], p.offsets[0]);
}

TEST(Planner, InplaceCycleIsBroken) {
  std::vector<PlanBuffer> bufs = {{.size = 128, .first_use = 3, .last_use = 3, .inplace_source = 1},
                                  {.size = 128, .first_use = 3, .last_use = 3, .inplace_source = 0}};
  Plan p = plan_ok(bufs);
  EXPECT_EQ(p.n_inplace, 1);
  EXPECT_EQ(p.arena_size, 128);
}

TEST(Planner, ReportsTotalsAndLivePeak) {
  std::vector<PlanBuffer> bufs = {{.size = 100, .first_use = 0, .last_use = 1},
                                  {.size = 200, .first_use = 1, .last_use = 2},
                                  {.size = 300, .first_use = 2, .last_use = 3},
                                  {.size = 50, .first_use = 3, .last_use = 4, .inplace_source = 2}};
  Plan p = plan_ok(bufs, 1);
  EXPECT_EQ(p.total_size, 650);
  EXPECT_EQ(p.max_live_bytes, 500);  // step 2; buffer 3 shares buffer 2's bytes at step 3
  EXPECT_EQ(p.n_inplace, 1);
  EXPECT_EQ(p.arena_size, 500);
}

TEST(Planner, ExtremeStepIndicesDoNotOverflow) {
  constexpr int32_t kMax = std::numeric_limits<int32_t>::max();
  constexpr int32_t kMin = std::numeric_limits<int32_t>::min();
  std::vector<PlanBuffer> bufs = {{.size = 64, .first_use = kMin, .last_use = kMax},
                                  {.size = 64, .first_use = kMax, .last_use = kMax}};
  Plan p = plan_ok(bufs);
  EXPECT_EQ(p.max_live_bytes, 128);
  EXPECT_EQ(p.arena_size, 128);
}

// --- errors ---

TEST(PlannerErrors, NegativeSizeNamesBufferAndValue) {
  std::string msg = plan_error({{.size = 1, .first_use = 0, .last_use = 0},
                                {.size = 1, .first_use = 0, .last_use = 0},
                                {.size = -5, .first_use = 0, .last_use = 0}});
  EXPECT_EQ(msg, "[planner] buffer 2: negative size -5");
}

TEST(PlannerErrors, FirstUseAfterLastUse) {
  std::string msg =
      plan_error({{.size = 1, .first_use = 0, .last_use = 0}, {.size = 1, .first_use = 7, .last_use = 3}});
  EXPECT_EQ(msg, "[planner] buffer 1: first_use 7 > last_use 3");
}

TEST(PlannerErrors, InplaceSourceOutOfRange) {
  std::string msg = plan_error({{.size = 1, .first_use = 0, .last_use = 0, .inplace_source = 5},
                                {.size = 1, .first_use = 0, .last_use = 0}});
  EXPECT_EQ(msg, "[planner] buffer 0: inplace_source 5 is not -1 or a buffer index in 0..1");
  msg = plan_error({{.size = 1, .first_use = 0, .last_use = 0, .inplace_source = -2}});
  EXPECT_NE(msg.find("buffer 0: inplace_source -2"), std::string::npos) << msg;
}

TEST(PlannerErrors, InplaceSourceIsItself) {
  std::string msg = plan_error({{.size = 1, .first_use = 0, .last_use = 0},
                                {.size = 1, .first_use = 0, .last_use = 0, .inplace_source = 1}});
  EXPECT_EQ(msg, "[planner] buffer 1: inplace_source 1 names the buffer itself");
}

TEST(PlannerErrors, AlignmentNotPowerOfTwo) {
  std::vector<PlanBuffer> bufs = {{.size = 1, .first_use = 0, .last_use = 0}};
  EXPECT_EQ(plan_error(bufs, 48), "[planner] alignment 48 is not a positive power of two");
  EXPECT_EQ(plan_error(bufs, 0), "[planner] alignment 0 is not a positive power of two");
  EXPECT_EQ(plan_error(bufs, -64), "[planner] alignment -64 is not a positive power of two");
}

TEST(PlannerErrors, ArenaOverflow) {
  const int64_t half = std::numeric_limits<int64_t>::max() / 2 + 1;
  std::string msg = plan_error(
      {{.size = half, .first_use = 0, .last_use = 1}, {.size = half, .first_use = 1, .last_use = 2}}, 1);
  EXPECT_NE(msg.find("[planner] arena size overflows int64 placing buffer"), std::string::npos) << msg;
  EXPECT_NE(msg.find(std::to_string(half)), std::string::npos) << msg;

  // Alignment padding alone can overflow too.
  const int64_t big = std::numeric_limits<int64_t>::max() - 10;
  msg = plan_error({{.size = big, .first_use = 0, .last_use = 1}, {.size = 1, .first_use = 1, .last_use = 2}},
                   64);
  EXPECT_NE(msg.find("overflows"), std::string::npos) << msg;

  // Huge buffers that never meet are fine: the arena is one of them.
  Plan p =
      plan_ok({{.size = half, .first_use = 0, .last_use = 1}, {.size = half, .first_use = 2, .last_use = 3}});
  EXPECT_EQ(p.arena_size, half);
  EXPECT_EQ(p.total_size, std::numeric_limits<int64_t>::max());  // saturated
}

// --- the checker catches bad plans ---

TEST(PlanChecker, CatchesOverlap) {
  std::vector<PlanBuffer> bufs = {{.size = 100, .first_use = 0, .last_use = 2},
                                  {.size = 100, .first_use = 1, .last_use = 3}};
  Plan p = plan_ok(bufs);
  p.offsets[1] = 64;
  Status s = check_plan(bufs, p);
  EXPECT_EQ(s.code(), TSR_ERR_INTERNAL);
  EXPECT_EQ(
      s.message(),
      "[planner] check: buffers 0 and 1 overlap: 0 is [0, 100) live [0, 2], 1 is [64, 164) live [1, 3]");
}

TEST(PlanChecker, CatchesBufferOutsideArena) {
  std::vector<PlanBuffer> bufs = {{.size = 100, .first_use = 0, .last_use = 2}};
  Plan p = plan_ok(bufs);
  p.arena_size = 99;
  EXPECT_NE(
      check_plan(bufs, p).message().find("buffer 0 (offset 0, size 100) does not fit the arena of 99 bytes"),
      std::string::npos);
}

TEST(PlanChecker, CatchesMisalignedOffset) {
  std::vector<PlanBuffer> bufs = {{.size = 100, .first_use = 0, .last_use = 2}};
  Plan p = plan_ok(bufs);
  p.offsets[0] = 8;
  p.arena_size = 200;
  EXPECT_NE(check_plan(bufs, p).message().find("buffer 0 offset 8"), std::string::npos);
}

TEST(PlanChecker, CatchesIllegalInplaceClaims) {
  std::vector<PlanBuffer> bufs = {{.size = 100, .first_use = 0, .last_use = 2},
                                  {.size = 100, .first_use = 1, .last_use = 3, .inplace_source = 0}};
  Plan p = plan_ok(bufs);
  ASSERT_EQ(p.inplace_of[1], -1);
  // Pretend the planner had put 1 in place of 0: lifetimes overlap beyond the handover.
  p.inplace_of[1] = 0;
  p.n_inplace = 1;
  p.offsets[1] = p.offsets[0];
  EXPECT_NE(check_plan(bufs, p).message().find("buffer 1 (size 100, live [1, 3], offset"), std::string::npos);

  // A claim the buffer never asked for.
  std::vector<PlanBuffer> unasked = {{.size = 100, .first_use = 0, .last_use = 1},
                                     {.size = 100, .first_use = 1, .last_use = 3}};
  Plan q = plan_ok(unasked);
  q.inplace_of[1] = 0;
  q.n_inplace = 1;
  q.offsets[1] = q.offsets[0];
  EXPECT_NE(check_plan(unasked, q).message().find("its inplace_source is -1"), std::string::npos);
}

TEST(PlanChecker, CatchesWrongSizes) {
  std::vector<PlanBuffer> bufs = {{.size = 100, .first_use = 0, .last_use = 2}};
  Plan p = plan_ok(bufs);
  p.offsets.clear();
  EXPECT_EQ(check_plan(bufs, p).code(), TSR_ERR_INTERNAL);
}

// --- properties over random inputs ---

TEST(PlannerProperty, RandomBufferSetsGiveValidTightPlans) {
  std::mt19937_64 rng(20240607);
  auto uniform = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
  const int64_t alignments[] = {1, 8, 64, 256};
  int64_t total_inplace = 0;
  for (int iter = 0; iter < 5000; ++iter) {
    const int n = static_cast<int>(uniform(0, 40));
    const int steps = static_cast<int>(uniform(1, 30));
    const int64_t alignment = alignments[uniform(0, 3)];
    std::vector<PlanBuffer> bufs(n);
    for (int i = 0; i < n; ++i) {
      PlanBuffer& b = bufs[i];
      b.size = uniform(0, 9) == 0 ? 0 : uniform(1, 5000);
      b.first_use = static_cast<int32_t>(uniform(0, steps - 1));
      b.last_use = static_cast<int32_t>(uniform(b.first_use, std::min<int64_t>(steps - 1, b.first_use + 8)));
      // Often ask for an in-place takeover, legal or not.
      if (i > 0 && uniform(0, 2) == 0) {
        const int32_t s = static_cast<int32_t>(uniform(0, i - 1));
        b.inplace_source = s;
        if (uniform(0, 3) != 0) {  // mostly make the lifetimes meet
          b.first_use = bufs[s].last_use;
          b.last_use = std::max(b.last_use, b.first_use);
          if (uniform(0, 3) != 0) b.size = std::min(b.size, bufs[s].size);
        }
      }
    }
    Result<Plan> r = plan_memory(bufs, alignment);
    ASSERT_TRUE(r.is_ok()) << r.status().message();
    const Plan& p = r.value();
    Status check = check_plan(bufs, p);
    ASSERT_TRUE(check.is_ok()) << "iteration " << iter << ": " << check.message();

    int64_t sum = 0, sum_aligned = 0;
    for (const PlanBuffer& b : bufs) {
      sum += b.size;
      sum_aligned += (b.size + alignment - 1) / alignment * alignment;
    }
    const int64_t peak = live_bytes_peak(bufs, p.inplace_of);
    EXPECT_EQ(p.total_size, sum);
    EXPECT_EQ(p.max_live_bytes, peak) << "iteration " << iter;
    EXPECT_GE(p.arena_size, peak) << "iteration " << iter;
    EXPECT_LE(p.arena_size, sum_aligned) << "iteration " << iter;
    if (alignment == 1) {
      EXPECT_LE(p.arena_size, sum) << "iteration " << iter;
    }
    total_inplace += p.n_inplace;

    // Deterministic.
    Result<Plan> again = plan_memory(bufs, alignment);
    ASSERT_TRUE(again.is_ok());
    EXPECT_EQ(again.value().offsets, p.offsets);
  }
  EXPECT_GT(total_inplace, 1000);  // the in-place paths were exercised
}

// A llama-like decoder: per layer, norm -> q/k/v -> attention -> output
// projection -> residual add (in place) -> norm -> gate/up -> silu (in place)
// -> mul (in place) -> down -> residual add (in place).
class GraphRecorder {
 public:
  // A new value produced at the next step, reading `inputs` there.
  int32_t op(int64_t size, std::initializer_list<int32_t> inputs, int32_t inplace_source = -1) {
    const int32_t step = step_++;
    for (int32_t in : inputs) bufs_[in].last_use = step;
    bufs_.push_back({.size = size, .first_use = step, .last_use = step, .inplace_source = inplace_source});
    return static_cast<int32_t>(bufs_.size() - 1);
  }
  std::vector<PlanBuffer>& buffers() { return bufs_; }

 private:
  std::vector<PlanBuffer> bufs_;
  int32_t step_ = 0;
};

TEST(PlannerTransformer, ArenaFarBelowSumOfSizes) {
  constexpr int64_t kEmbd = 576, kTokens = 7, kHeads = 9, kKvHeads = 3, kHeadDim = 64, kFfn = 1536,
                    kLayers = 30;
  constexpr int64_t f32 = 4;
  const int64_t hidden = kEmbd * kTokens * f32;
  const int64_t kv = kKvHeads * kHeadDim * kTokens * f32;
  const int64_t scores = kHeads * kTokens * kTokens * f32;
  const int64_t ffn = kFfn * kTokens * f32;

  GraphRecorder g;
  int32_t x = g.op(hidden, {});  // embeddings
  for (int l = 0; l < kLayers; ++l) {
    int32_t n1 = g.op(hidden, {x});
    int32_t q = g.op(hidden, {n1});
    int32_t k = g.op(kv, {n1});
    int32_t v = g.op(kv, {n1});
    int32_t qr = g.op(hidden, {q}, q);  // rope in place
    int32_t kr = g.op(kv, {k}, k);
    int32_t s = g.op(scores, {qr, kr});
    int32_t sm = g.op(scores, {s}, s);  // softmax in place
    int32_t a = g.op(hidden, {sm, v});
    int32_t o = g.op(hidden, {a});
    int32_t x1 = g.op(hidden, {x, o}, x);  // residual add in place
    int32_t n2 = g.op(hidden, {x1});
    int32_t gate = g.op(ffn, {n2});
    int32_t up = g.op(ffn, {n2});
    int32_t act = g.op(ffn, {gate}, gate);  // silu in place
    int32_t m = g.op(ffn, {act, up}, act);  // mul in place
    int32_t d = g.op(hidden, {m});
    x = g.op(hidden, {x1, d}, x1);  // residual add in place
  }
  int32_t out = g.op(hidden, {x});
  g.buffers()[out].last_use += 1;  // read by the caller after the last step

  Plan p = plan_ok(g.buffers());
  // Per layer: rope q, rope k, softmax, two residual adds, silu, mul.
  EXPECT_EQ(p.n_inplace, kLayers * 7);
  EXPECT_GE(p.arena_size, p.max_live_bytes);
  EXPECT_LT(p.arena_size * 50, p.total_size) << "arena " << p.arena_size << " total " << p.total_size;
  // The plan stays close to the lower bound: every layer reuses one layer's worth.
  EXPECT_LE(p.arena_size, p.max_live_bytes + p.max_live_bytes / 2)
      << "arena " << p.arena_size << " live peak " << p.max_live_bytes;
  RecordProperty("arena_bytes", std::to_string(p.arena_size));
  RecordProperty("total_bytes", std::to_string(p.total_size));
}

}  // namespace
}  // namespace tsr
