// The contract between the Vulkan glue and the op encoders.
//
// An op encoder (one file per op family, vk_op_<family>.cpp) answers
// supports_op for its ops and, at prepare time, turns one node into one or
// more dispatches of embedded SPIR-V kernels (kernels/vulkan/*.comp). The
// Recorder binds the tensors, fills the tensor rows of the parameter block
// (kernels/vulkan/common.glsl documents the layout), records the dispatch and
// the barrier after it into the prepared subgraph's command buffer.
// Internal to backends/vulkan.
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

namespace tsr::vk {

// Limits and features of one opened device that encoders decide with.
struct DeviceCaps {
  uint64_t max_storage_range = 0;      // maxStorageBufferRange
  uint64_t storage_align = 0;          // minStorageBufferOffsetAlignment
  uint32_t max_groups[3] = {0, 0, 0};  // maxComputeWorkGroupCount
  uint32_t max_invocations = 0;        // maxComputeWorkGroupInvocations
  uint32_t max_shared_bytes = 0;       // maxComputeSharedMemorySize
  uint32_t subgroup_size = 0;
  uint32_t subgroup_ops = 0;  // VkSubgroupFeatureFlags usable in compute shaders (0: none)
  bool fp16_arith = false;    // shaderFloat16
  bool int8_arith = false;    // shaderInt8
};

// Tensor slots of a dispatch: inputs 0..5, output 6 (TOUT in GLSL).
constexpr int kOutSlot = 6;
constexpr int kSlots = 7;

// Specialization constants of a pipeline: 0..3 the kernel's own
// (Dispatch::spec), 4..10 the dtypes of tensor slots 0..6 (set by the
// recorder, read in GLSL as TTYPE(slot)).
constexpr int kSpecConstants = 4 + kSlots;
using SpecConstants = std::array<uint32_t, kSpecConstants>;

// The 512-byte node parameter block (see common.glsl for the rows).
struct ParamBlock {
  std::array<uint32_t, 128> u{};
  void set_ip(int k, int32_t v) { u[84 + k] = static_cast<uint32_t>(v); }
  void set_fp(int k, float v);
  // Kernel-specific value KU(k), k in 0..18.
  void set_ku(int k, uint32_t v) { u[108 + k] = v; }
  uint32_t ku(int k) const { return u[108 + k]; }
};

struct Dispatch {
  std::string_view kernel;                 // name of an embedded SPIR-V kernel
  std::array<uint32_t, 4> spec{};          // specialization constants 0..3
  std::array<tsr_tensor_ref, kSlots> t{};  // buffer == nullptr: slot unused
  ParamBlock p;                            // tensor rows are filled by the recorder
  uint32_t groups[3] = {1, 1, 1};
};

class Recorder {
 public:
  virtual ~Recorder() = default;
  virtual const DeviceCaps& caps() const = 0;
  // Records d. Every bound tensor must lie inside its buffer and within
  // max_storage_range of its aligned start, with offsets and strides aligned
  // to its element size; else an error naming the node.
  virtual Status add(const Dispatch& d) = 0;
  // Records d with n_groups workgroups spread over x (and y when more than
  // maxComputeWorkGroupCount[0]); sets N_GROUPS (KU(19)). Kernels index with
  // flat_group() and return when it is >= N_GROUPS.
  Status add_flat(Dispatch d, uint64_t n_groups);
};

// The op families' encoders, found by kit::find_kernel<Kernels>(op).
struct Kernels {
  using Kernel = kit::OpKernel<DeviceCaps, Recorder>;
  static const Kernel data, argmax, elementwise, matmul, norm, rope, softmax, attention, paged_attention;
};
using OpKernel = Kernels::Kernel;

// A dispatch for node n running `kernel`: slots from the node's inputs and
// output, ip (as int32) and fp copied.
Dispatch node_dispatch(const tsr_subgraph_node& n, std::string_view kernel);

// ---- helpers shared by the encoders (vk_kernels.cpp) ----
using ops::is_float_dtype;  // f32, f16, bf16
// False (with reason) when the tensor's span does not fit one binding.
bool fits_binding(const DeviceCaps& caps, const tsr_tensor_desc& d, const char* what, std::string& reason);

}  // namespace tsr::vk
