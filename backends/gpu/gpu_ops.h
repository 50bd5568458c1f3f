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
#include "tessera/kit/op_support.h"
#include "tessera/kit/status.h"
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

struct OpKernel {
  // True when the device runs the node exactly as tsr_op documents it; else
  // false with a short reason.
  bool (*supports)(const Caps& caps, const tsr_node_desc& node, std::string& reason);
  // Adds the node's launches. Called only for supported nodes.
  Status (*encode)(Encoder& enc, const tsr_subgraph_node& node);
};

// The encoder for op, or nullptr when there is none.
const OpKernel* op_kernel(int32_t op);

// ---- helpers shared by the encoders ----
using ops::is_float_dtype;  // f32, f16, bf16
// The block formats the kernels read (matmul weights, get_rows tables, cpy
// to float and block copies): q8_0, q4_0, q4_1, q5_0, q5_1, q2_K..q6_K, as
// kernels/gpu/block_formats.h lists them. The ops:: contract checks take it.
bool gpu_block_dtype(int32_t dt);
// The block formats the kernels also write (cpy and set_rows from floats):
// q8_0, q4_0, q4_1 (kernels/gpu/copy.cu).
inline bool gpu_quantizable_dtype(int32_t dt) { return ops::is_block_dtype(dt); }
uint64_t n_elements(const tsr_tensor_desc& d);
constexpr uint64_t ceil_div(uint64_t a, uint64_t b) { return (a + b - 1) / b; }
// A 1-D grid of n_blocks blocks spread over x and y (y past 2^22 - 1 blocks,
// so x times any block size fits 32 bits).
Dim3 flat_grid(uint64_t n_blocks);

}  // namespace tsr::gpu
