// The tile limits of kernels/gpu/attention.cu, shared with its encoder
// (backends/gpu/gpu_op_attention.cpp), which picks tile sizes within them.
// The kernel's shared arrays are static, so their sizes are fixed here and
// the encoder's choices only decide how much of them a launch uses.
// Plain constants: included by device code and by the host glue alike.
#pragma once

#include <stdint.h>

namespace tsr::gpu::attn {

constexpr uint32_t kThreads = 128;       // threads per attention block (a multiple of 32 and 64)
constexpr int64_t kMaxHeadDim = 256;     // D
constexpr int64_t kMaxKvFloats = 4096;   // a staged K (or V) chunk: C rows x D, f32
constexpr int64_t kMaxRowFloats = 1024;  // q rows and accumulators of a block: R rows x D
constexpr int64_t kMaxRows = 32;         // R: (query heads x tokens) per block
constexpr int64_t kMaxChunk = 64;        // C: kv rows staged per round
constexpr int64_t kMaxScores = 1024;     // R x C scores of one round
// Accumulators per thread: the R x D outputs spread over the block.
constexpr int kAccPerThread = static_cast<int>(kMaxRowFloats / kThreads);

// ku slots of the attention and merge launches.
enum : int {
  kKuHeads = 0,       // G: query heads per block (of one kv head's group)
  kKuTokens = 1,      // T: query tokens per block; R = G x T
  kKuChunk = 2,       // C: kv rows per round
  kKuHeadChunks = 3,  // blocks per kv head along the heads (grid y = n_kv_head x this)
  kKuSplits = 4,      // S: blocks along the kv range (grid z); 1 writes the output directly
  kKuPartials = 5,    // device address of the split partials (S > 1)
};

// One partial of the split-KV variant per (split, token, head): the running
// max, the denominator, then D unnormalised accumulators, f32. (A constant,
// not a constexpr function: nvcc will not call host functions from kernels.)
constexpr int64_t kPartialHeader = 2;

}  // namespace tsr::gpu::attn
