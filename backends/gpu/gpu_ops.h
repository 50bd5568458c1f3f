// The contract between the GPU glue and the op encoders, shared by every
// GPU vendor (CUDA, HIP, the emulator).
//
// An op encoder (one file per op family, gpu_op_<family>.cpp) answers
// supports_op for its ops and, at prepare time, turns one node into one or
// more launches of kernels/gpu kernels (or a vendor GEMM). Launches are
// recorded once and replayed for every step.
// Internal to backends/gpu.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "gpu/kernel_args.h"
#include "gpu_driver.h"
#include "tessera/kit/op_families.h"
#include "tessera/kit/op_support.h"
#include "tessera/kit/status.h"
#include "tessera/kit/tensor.h"
#include "tessera/tessera_backend.h"

namespace tsr::gpu {

// What encoders decide with.
struct Caps {
  int warp_size = 32;
  int max_threads = 1024;
  int shared_bytes = 48 * 1024;
  bool gemm = false;  // the driver has a vendor GEMM (cuBLAS)
};

struct Launch {
  std::string kernel;    // a TSR_KERNEL name; empty when gemm is set
  Dim3 grid;             // x * block < 2^32, y and z up to 65535
  uint32_t block = 256;  // threads, a multiple of the warp size, <= 1024
  KArgs args{};
  std::optional<GemmDesc> gemm;
};

class Encoder {
 public:
  virtual ~Encoder() = default;
  virtual const Caps& caps() const = 0;
  virtual Status add(const Launch& l) = 0;
  // Device memory owned by the prepared subgraph (partial results), zeroed
  // once at prepare.
  virtual Result<DevPtr> scratch(uint64_t bytes) = 0;
};

// A launch for node n running `kernel`: tensor slots from the node's inputs
// and output (device addresses with offsets applied), ip and fp copied.
Launch node_launch(const tsr_subgraph_node& n, std::string_view kernel);

// One encoder per op family (gpu_op_<family>.cpp); kit::find_kernel picks it.
struct Kernels {
  using Kernel = kit::OpKernel<Caps, Encoder>;
  static const Kernel data, argmax, elementwise, matmul, norm, rope, softmax, attention, paged_attention;
};
using OpKernel = Kernels::Kernel;

// ---- helpers shared by the encoders ----
using ops::is_float_dtype;  // f32, f16, bf16
// A 1-D grid of n_blocks blocks spread over x and y (y past 2^22 - 1 blocks,
// so x times any block size fits 32 bits).
Dim3 flat_grid(uint64_t n_blocks);

}  // namespace tsr::gpu
