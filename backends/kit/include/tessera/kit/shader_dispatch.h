// Tessera's portable compute kernels and their op encoders, for backends on
// APIs that dispatch workgroups over bound buffers (Vulkan, OpenCL; Metal or
// WebGPU would fit the same way).
//
// The kernels exist once per kernel language with one calling convention:
// kernels/vulkan/*.comp (GLSL, compiled to SPIR-V) and kernels/opencl/*.cl
// (OpenCL C) have the same names, variants, constants, parameter block and
// workgroup shapes. An op encoder (one file per op family, shader_<family>.cpp
// in the kit) answers supports_op for its ops from the device's ComputeCaps
// and, at prepare time, turns one node into one or more Dispatches. The
// backend's Recorder binds each dispatch's tensors (bind_tensor fills their
// rows of the parameter block) and records or enqueues it: what differs
// between APIs is only the Recorder and how constants reach the kernel
// (Vulkan specialization constants, OpenCL build defines).
//
// The parameter block (kernels/vulkan/common.glsl, kernels/opencl/common.cl):
// 128 32-bit words; 12 per tensor slot t: ne[0..3] at 12t, nb[0..3] at 12t+4,
// the byte offset of element 0 from the bound start at 12t+8 (high 32 bits
// at 12t+10, for APIs that bind whole buffers), the dtype at 12t+9; ip[0..15]
// at 84, fp[0..7] at 100, kernel values KU(0..18) at 108, N_GROUPS at 127.
// Step values (tsr_step_params) reach kernels as 16 int32 (STEP(k)).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "tessera/kit/op_families.h"
#include "tessera/kit/op_support.h"
#include "tessera/kit/status.h"
#include "tessera/kit/tensor.h"
#include "tessera/tessera_backend.h"

namespace tsr::kit::shader {

// Subgroup operations usable in compute kernels (ComputeCaps::subgroup_ops):
// the values of Vulkan's VkSubgroupFeatureFlagBits, so a Vulkan backend
// passes its flags through; OpenCL maps cl_khr_subgroups to basic and
// arithmetic.
constexpr uint32_t kSubgroupBasic = 0x1;
constexpr uint32_t kSubgroupArithmetic = 0x4;
constexpr uint32_t kSubgroupBallot = 0x8;

// Limits and features of one opened device that encoders decide with.
struct ComputeCaps {
  uint64_t max_storage_range = 0;      // the largest span one binding may cover, in bytes
  uint64_t storage_align = 0;          // bindings start at multiples of this (bytes)
  uint32_t max_groups[3] = {0, 0, 0};  // workgroups per dispatch, per dimension
  uint32_t max_invocations = 0;        // work-items per workgroup
  uint32_t max_shared_bytes = 0;       // shared (local) memory per workgroup
  uint32_t subgroup_size = 0;          // 0: unknown or none
  uint32_t subgroup_ops = 0;           // kSubgroup* flags (0: none)
  bool fp16_arith = false;
  bool int8_arith = false;
  // The recorder binds each tensor's whole buffer and passes the full 64-bit
  // offset of element 0 (OpenCL); else it binds from the offset aligned down
  // to storage_align and passes the rest (Vulkan).
  bool binds_whole_buffers = false;
  // > 0: the matrix-vector kernel exchanges partial sums through a workgroup
  // barrier and runs this many work-items (OpenCL C 1.2, no subgroups);
  // 0: it runs as one subgroup (needs kSubgroupBasic).
  uint32_t barrier_vec_workgroup = 0;
};

// Tensor slots of a dispatch: inputs 0..5, output 6 (TOUT in the kernels).
constexpr int kOutSlot = 6;
constexpr int kSlots = 7;

// Constants a kernel variant is built with: 0..3 the kernel's own
// (Dispatch::spec), 4..10 the dtypes of tensor slots 0..6 (set by the
// recorder, read in the kernels as TTYPE(slot)).
constexpr int kSpecConstants = 4 + kSlots;
using SpecConstants = std::array<uint32_t, kSpecConstants>;

// The 512-byte node parameter block (rows above).
struct ParamBlock {
  std::array<uint32_t, 128> u{};
  void set_ip(int k, int32_t v) { u[84 + k] = static_cast<uint32_t>(v); }
  void set_fp(int k, float v);
  // Kernel-specific value KU(k), k in 0..18.
  void set_ku(int k, uint32_t v) { u[108 + k] = v; }
  uint32_t ku(int k) const { return u[108 + k]; }
};

struct Dispatch {
  std::string_view kernel;                 // the kernel variant's name ("matmul_tile_q4_K")
  std::array<uint32_t, 4> spec{};          // constants 0..3
  std::array<tsr_tensor_ref, kSlots> t{};  // buffer == nullptr: slot unused
  ParamBlock p;                            // tensor rows are filled by the recorder
  uint32_t groups[3] = {1, 1, 1};
  // Work-items per workgroup (x only). GLSL declares it in the kernel; OpenCL
  // passes it at enqueue.
  uint32_t local_size = 1;
};

class Recorder {
 public:
  virtual ~Recorder() = default;
  virtual const ComputeCaps& caps() const = 0;
  // Records d. Every bound tensor must lie inside its buffer and within
  // max_storage_range of its bound start, with offsets and strides aligned
  // to its element size; else an error naming the node.
  virtual Status add(const Dispatch& d) = 0;
  // Records d with n_groups workgroups spread over x (and y when more than
  // max_groups[0]); sets N_GROUPS (KU(19)). Kernels index with flat_group()
  // and return when it is >= N_GROUPS.
  Status add_flat(Dispatch d, uint64_t n_groups);
};

// Where a recorder binds one tensor: `size` bytes of its buffer from `start`.
struct Binding {
  uint64_t start = 0, size = 0;
};

// Checks tensor `ref` for slot `slot` of node `node` (op `op`) against the
// caps and its buffer of buffer_size bytes, fills its rows of *p and says
// where to bind it (*out). Errors (TSR_ERR_INVALID_ARGUMENT for a tensor
// outside its buffer, TSR_ERR_UNSUPPORTED past the device's limits) name the
// node, its op and the tensor.
Status bind_tensor(const ComputeCaps& caps, int node, int32_t op, const tsr_tensor_ref& ref, int slot,
                   uint64_t buffer_size, ParamBlock* p, Binding* out);

// The op families' encoders, found by kit::find_kernel<Kernels>(op).
struct Kernels {
  using Kernel = kit::OpKernel<ComputeCaps, Recorder>;
  static const Kernel data, argmax, elementwise, matmul, norm, rope, softmax, attention, paged_attention;
};
using OpKernel = Kernels::Kernel;

// A dispatch for node n running `kernel` on local_size work-items per
// workgroup: slots from the node's inputs and output, ip (as int32) and fp
// copied.
Dispatch node_dispatch(const tsr_subgraph_node& n, std::string_view kernel, uint32_t local_size);

// supports_op of a shader backend named `backend` ("Vulkan"): the op has an
// encoder, every tensor fits one binding (matmul cuts a larger weight into
// row chunks itself) and the encoder takes the node on these caps.
bool supports(const ComputeCaps& caps, const tsr_node_desc& node, std::string_view backend,
              std::string& reason);

// ---- helpers shared by the encoders (shader_dispatch.cpp) ----
using ops::is_float_dtype;  // f32, f16, bf16
// False (with reason) when the tensor's span does not fit one binding.
bool fits_binding(const ComputeCaps& caps, const tsr_tensor_desc& d, const char* what, std::string& reason);

}  // namespace tsr::kit::shader
