// The kernel emulator itself (kernels/gpu/emu): warp reductions and shuffles
// at warp 32 and 64, block barriers, and the errors a broken kernel or launch
// gets. The kernels here are written with gpu_runtime.h as kernels/gpu are.
#include "kernels/gpu/emu/emu_runtime.h"

#include <gtest/gtest.h>

#include <numeric>
#include <string>
#include <vector>

#include "kernels/gpu/gpu_runtime.h"

namespace tsr::gpu {
namespace {

// out[tid] = {warp_sum(tid), block_sum(tid), value of lane 1 of the warp}
TSR_KERNEL(test_reductions) {
  TSR_SHARED(float, scratch, kMaxWarps);
  float* out = reinterpret_cast<float*>(a.t[kOutSlot].ptr);
  const float v = static_cast<float>(thread_x());
  const float ws = warp_sum(v);
  const float bs = block_sum(v, scratch);
  const float from1 = shfl(v, 1);
  out[3 * thread_x() + 0] = ws;
  out[3 * thread_x() + 1] = bs;
  out[3 * thread_x() + 2] = from1;
}

// Each thread writes its id to shared memory, waits, then reads its
// neighbour's: wrong without a real barrier.
TSR_KERNEL(test_barrier) {
  TSR_SHARED(int32_t, slots, 1024);
  int32_t* out = reinterpret_cast<int32_t*>(a.t[kOutSlot].ptr);
  slots[thread_x()] = static_cast<int32_t>(thread_x() * 10 + block_x());
  sync_threads();
  out[block_x() * block_dim() + thread_x()] = slots[(thread_x() + 1) % block_dim()];
}

// A bug: thread t reads thread t-1's shared-memory write with no barrier in
// between. Run in thread order the write always comes first and the bug
// hides; in reverse order it shows.
TSR_KERNEL(test_missing_barrier) {
  TSR_SHARED(int32_t, slots, 1024);
  int32_t* out = reinterpret_cast<int32_t*>(a.t[kOutSlot].ptr);
  const int32_t t = static_cast<int32_t>(thread_x());
  slots[t] = static_cast<int32_t>(a.ip[0]) + t;
  out[t] = slots[t > 0 ? t - 1 : 0];
}

// Even threads wait at a block barrier, odd ones in a warp shuffle: a
// kernel bug that hangs a GPU; the emulator reports it.
TSR_KERNEL(test_divergent_barrier) {
  if (thread_x() % 2 == 0)
    sync_threads();
  else
    (void)shfl_xor(1.0f, 1);
}

KArgs args_for(void* out) {
  KArgs a{};
  a.t[kOutSlot].ptr = reinterpret_cast<uint64_t>(out);
  return a;
}

class EmuWarp : public ::testing::TestWithParam<uint32_t> {};

TEST_P(EmuWarp, ReductionsAndShufflesFollowTheWarpSize) {
  const uint32_t warp = GetParam();
  for (uint32_t block : {warp, 2 * warp, 256u}) {
    std::vector<float> out(3 * block, -1.0f);
    const KArgs a = args_for(out.data());
    const uint32_t grid[3] = {1, 1, 1};
    std::string error;
    ASSERT_TRUE(emu::launch(emu::find_kernel("test_reductions"), grid, block, warp, a, &error)) << error;
    const float total = static_cast<float>(block) * static_cast<float>(block - 1) / 2.0f;
    for (uint32_t t = 0; t < block; ++t) {
      const uint32_t w0 = t / warp * warp;
      const float wsum =
          static_cast<float>(warp) * static_cast<float>(w0) + static_cast<float>(warp * (warp - 1) / 2);
      EXPECT_EQ(out[3 * t], wsum) << "warp_sum, thread " << t << " of " << block << ", warp " << warp;
      EXPECT_EQ(out[3 * t + 1], total) << "block_sum, thread " << t << " of " << block;
      EXPECT_EQ(out[3 * t + 2], static_cast<float>(w0 + 1)) << "shfl from lane 1, thread " << t;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Warp, EmuWarp, ::testing::Values(32u, 64u));

TEST(Emu, BarrierOrdersSharedMemoryWithinEachBlock) {
  const uint32_t block = 128, blocks = 3;
  std::vector<int32_t> out(block * blocks, -1);
  const KArgs a = args_for(out.data());
  const uint32_t grid[3] = {blocks, 1, 1};
  std::string error;
  ASSERT_TRUE(emu::launch(emu::find_kernel("test_barrier"), grid, block, 32, a, &error)) << error;
  for (uint32_t b = 0; b < blocks; ++b)
    for (uint32_t t = 0; t < block; ++t)
      ASSERT_EQ(out[b * block + t], static_cast<int32_t>(((t + 1) % block) * 10 + b))
          << "block " << b << " thread " << t;
}

TEST(Emu, ReverseOrderExposesAMissingBarrier) {
  const uint32_t block = 64;
  const uint32_t grid[3] = {1, 1, 1};
  int mismatches[2] = {0, 0};
  for (int reverse = 0; reverse < 2; ++reverse) {
    std::vector<int32_t> out(block, -1);
    KArgs a = args_for(out.data());
    a.ip[0] = 1000 * (reverse + 1);  // other values than the previous launch left in shared memory
    std::string error;
    ASSERT_TRUE(
        emu::launch(emu::find_kernel("test_missing_barrier"), grid, block, 32, a, &error, reverse == 1))
        << error;
    for (uint32_t t = 1; t < block; ++t)
      mismatches[reverse] += out[t] != static_cast<int32_t>(a.ip[0] + t - 1);
  }
  EXPECT_EQ(mismatches[0], 0) << "thread order runs each write before the next thread's read";
  EXPECT_EQ(mismatches[1], static_cast<int>(block) - 1) << "reverse order reads before every write";
}

TEST(Emu, DivergentBarrierIsReportedNotHung) {
  const KArgs a = args_for(nullptr);
  const uint32_t grid[3] = {1, 1, 1};
  std::string error;
  EXPECT_FALSE(emu::launch(emu::find_kernel("test_divergent_barrier"), grid, 64, 32, a, &error));
  EXPECT_NE(error.find("deadlocked"), std::string::npos) << error;
}

TEST(Emu, LaunchPastGpuLimitsIsRefused) {
  const KArgs a = args_for(nullptr);
  std::string error;
  const uint32_t big_y[3] = {1, 70000, 1};
  EXPECT_FALSE(emu::launch(emu::find_kernel("test_reductions"), big_y, 32, 32, a, &error));
  EXPECT_NE(error.find("70000"), std::string::npos) << error;
  const uint32_t one[3] = {1, 1, 1};
  EXPECT_FALSE(emu::launch(emu::find_kernel("test_reductions"), one, 2048, 32, a, &error));
  EXPECT_NE(error.find("2048 threads"), std::string::npos) << error;
}

}  // namespace
}  // namespace tsr::gpu
