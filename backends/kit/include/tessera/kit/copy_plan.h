// The data ops (get_rows, set_rows, cpy, concat) as launches of one copy
// kernel, and the protocol that kernel follows on every device
// (kernels/gpu/copy.cu, kernels/vulkan/copy.comp):
//
//   tensor slot 0          the source
//   slot 1                 row ids for CopyRows::source_rows (get_rows)
//   slot 2                 row indices for CopyRows::dest_rows (set_rows)
//   output slot (6)        the destination
//   values (KU / ku) 0..3  units, the slot whose shape is iterated (0 or 6),
//                          the CopyRows, the CopyMode
//
// A backend answers supports_op for the family with data_op_supported and
// encodes a node by launching its kernel once per step of copy_steps, in
// order (a later step may read what an earlier one wrote).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "tessera/tessera_backend.h"

namespace tsr::kit {

enum class CopyMode : uint32_t {
  convert = 0,     // through float: any readable source into f32/f16/bf16
  raw = 1,         // same non-block dtype: element copies
  quantize = 2,    // floats into a block format the kernel writes
  block_copy = 3,  // same block format: whole blocks
};

enum class CopyRows : uint32_t {
  direct = 0,       // element i of the iterated shape maps to i in both
  source_rows = 1,  // source row = ids[i1, i2, i3] (slot 1)
  dest_rows = 2,    // destination row = idx[i1, i2, i3] (slot 2)
};

// The block formats a device's copy kernel reads (as a source, or as a
// destination of a block copy) and those it also writes by quantizing
// floats. Both must accept every format the other does not refuse: writes
// is a subset of reads.
struct CopyFormats {
  bool (*reads)(int32_t dtype);
  bool (*writes)(int32_t dtype);
};

constexpr int kCopyOutSlot = 6;

struct CopyStep {
  tsr_tensor_ref src;
  tsr_tensor_ref dst;
  tsr_tensor_ref index;  // buffer null unless rows != direct
  CopyRows rows = CopyRows::direct;
  CopyMode mode = CopyMode::raw;
  int iterated_slot = 0;  // 0: the source's shape; kCopyOutSlot: the destination's
  uint64_t units = 0;     // elements, or blocks for quantize and block_copy; never 0

  // The values 0..3 of the protocol above.
  std::array<uint64_t, 4> values() const;
  // node with its input slots and output replaced by this step's tensors
  // (slot 0 src, slot 1 or 2 the index, output dst); params kept.
  tsr_subgraph_node as_node(const tsr_subgraph_node& node) const;
};

// True when a device whose copy kernel handles formats f runs data-family
// node n (get_rows, set_rows, cpy, concat) as tsr_op documents it; else
// false with the reason.
bool data_op_supported(const tsr_node_desc& n, const CopyFormats& f, std::string& reason);

// data_op_supported as a family encoder's supports (kit::OpKernel) for a
// backend whose devices decide with Caps and whose formats are F.
template <class Caps, const CopyFormats& F>
bool data_supports(const Caps&, const tsr_node_desc& n, std::string& reason) {
  return data_op_supported(n, F, reason);
}

// The copies that compute supported data-family node n, in order; steps that
// would move nothing are left out.
std::vector<CopyStep> copy_steps(const tsr_subgraph_node& n, const CopyFormats& f);

}  // namespace tsr::kit
