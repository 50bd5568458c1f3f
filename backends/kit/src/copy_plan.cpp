#include "tessera/kit/copy_plan.h"

#include <fmt/format.h>

#include "tessera/kit/dtype.h"
#include "tessera/kit/op_info.h"
#include "tessera/kit/op_support.h"

namespace tsr::kit {

namespace {

CopyMode mode_for(int32_t src, int32_t dst, const CopyFormats& f) {
  if (src == dst) return f.reads(dst) ? CopyMode::block_copy : CopyMode::raw;
  return f.writes(dst) ? CopyMode::quantize : CopyMode::convert;
}

void add_step(std::vector<CopyStep>& steps, const CopyFormats& f, const tsr_tensor_ref& src,
              const tsr_tensor_ref& dst, const tsr_tensor_ref* index, CopyRows rows, int iterated_slot) {
  CopyStep s;
  s.src = src;
  s.dst = dst;
  if (index) s.index = *index;
  s.rows = rows;
  s.mode = mode_for(src.desc.dtype, dst.desc.dtype, f);
  s.iterated_slot = iterated_slot;
  const tsr_tensor_desc& shape = iterated_slot == 0 ? src.desc : dst.desc;
  s.units = 1;
  for (int k = 0; k < TSR_MAX_DIMS; ++k) s.units *= static_cast<uint64_t>(shape.ne[k] > 0 ? shape.ne[k] : 0);
  if (s.mode == CopyMode::quantize || s.mode == CopyMode::block_copy)
    s.units /= static_cast<uint64_t>(dtype_traits(dst.desc.dtype)->block_size);
  if (s.units > 0) steps.push_back(s);
}

}  // namespace

std::array<uint64_t, 4> CopyStep::values() const {
  return {units, static_cast<uint64_t>(iterated_slot), static_cast<uint64_t>(rows),
          static_cast<uint64_t>(mode)};
}

tsr_subgraph_node CopyStep::as_node(const tsr_subgraph_node& node) const {
  tsr_subgraph_node c = node;
  for (tsr_tensor_ref& r : c.inputs) r = {};
  c.inputs[0] = src;
  if (rows == CopyRows::source_rows) c.inputs[1] = index;
  if (rows == CopyRows::dest_rows) c.inputs[2] = index;
  c.desc.n_inputs = rows == CopyRows::direct ? 1 : 3;
  c.output = dst;
  return c;
}

bool data_op_supported(const tsr_node_desc& n, const CopyFormats& f, std::string& reason) {
  switch (n.op) {
    case TSR_OP_GET_ROWS:
      return ops::get_rows_supported(n, reason, f.reads);
    case TSR_OP_SET_ROWS:
      // The destination is written by quantizing: only the formats written.
      return ops::set_rows_supported(n, reason, f.writes);
    case TSR_OP_CPY: {
      if (!ops::cpy_supported(n, reason, f.reads)) return false;
      const int32_t from = n.inputs[0].dtype, to = n.output.dtype;
      if (from != to && f.reads(to) && !f.writes(to)) {
        reason = fmt::format("conversion to {} (no kernel quantizes into it)", dtype_name(to));
        return false;
      }
      return true;
    }
    case TSR_OP_CONCAT:
      return ops::concat_supported(n, reason);
    default:
      reason = fmt::format("op {} is not a data op", ops::op_name(n.op));
      return false;
  }
}

std::vector<CopyStep> copy_steps(const tsr_subgraph_node& n, const CopyFormats& f) {
  std::vector<CopyStep> steps;
  switch (n.desc.op) {
    case TSR_OP_GET_ROWS:
      add_step(steps, f, n.inputs[0], n.output, &n.inputs[1], CopyRows::source_rows, kCopyOutSlot);
      break;
    case TSR_OP_SET_ROWS: {
      const tsr_tensor_ref& dst = n.inputs[0];
      // The output is dst after the write; when core gave it other memory,
      // dst is copied there first.
      if (dst.buffer != n.output.buffer || dst.offset != n.output.offset)
        add_step(steps, f, dst, n.output, nullptr, CopyRows::direct, kCopyOutSlot);
      add_step(steps, f, n.inputs[1], n.output, &n.inputs[2], CopyRows::dest_rows, 0);
      break;
    }
    case TSR_OP_CPY:
      add_step(steps, f, n.inputs[0], n.output, nullptr, CopyRows::direct, kCopyOutSlot);
      break;
    case TSR_OP_CONCAT: {
      // Each input is copied into its part of the output along dim ip[0].
      const int dim = static_cast<int>(n.desc.params.i[0]);
      for (int part = 0; part < 2; ++part) {
        const tsr_tensor_ref& src = n.inputs[part];
        tsr_tensor_ref out = n.output;
        for (int k = 0; k < TSR_MAX_DIMS; ++k) out.desc.ne[k] = src.desc.ne[k];
        if (part == 1) out.offset += static_cast<uint64_t>(n.inputs[0].desc.ne[dim] * n.output.desc.nb[dim]);
        add_step(steps, f, src, out, nullptr, CopyRows::direct, kCopyOutSlot);
      }
      break;
    }
    default:
      break;
  }
  return steps;
}

}  // namespace tsr::kit
