// Launch shapes of the matmul kernels (matmul_vec.cu, matmul_tile.cu), shared
// with their encoder (backends/gpu/gpu_op_matmul.cpp) so the grid the host
// computes and the rows a kernel covers cannot drift apart. Plain constants:
// included by device and host code alike.
#pragma once

#include <stdint.h>

namespace tsr::gpu::mm {

// matmul_vec: one warp per weight row, kVecWarps rows per block, so a block
// is kVecWarps * warp size threads. x columns are taken kVecCols[i] at a
// time by the kernel variant tsr_matmul_vec_<w>_n<kVecCols[i]>.
constexpr int kVecWarps = 8;
constexpr int kVecMaxN = 8;  // up to this many x columns per batch take matmul_vec

// matmul_tile: a kTileM x kTileN output tile per block of kTileThreads.
constexpr int kTileM = 64;
constexpr int kTileN = 64;
constexpr int kTileThreads = 256;

// ku[] slots the encoder fills.
constexpr int kKuWide = 0;  // 1: float weight rows are 16-byte aligned, dim 0 contiguous

}  // namespace tsr::gpu::mm
