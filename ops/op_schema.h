// Op schema: shape/dtype inference and the reference implementation of
// every op (names and arity come from the kit's op_info.h). The reference is plain, obviously correct C++
// run on host memory: the ground truth every backend is compared with.
#pragma once

#include <cstdint>
#include <string_view>

#include "tessera/kit/op_info.h"
#include "tessera/kit/status.h"
#include "tessera/kit/tensor.h"
#include "tessera/tessera_backend.h"

namespace tsr::ops {

// Shape and dtype inference. Checks the input count, dtypes, shapes and
// parameters; on failure the message starts with "[<op>]" and names the
// shapes, e.g. "[matmul] inner dims differ: w is [4, 576], x is [577, 1]".
// For compute ops the output is contiguous. For view ops (and set_rows) the
// output describes memory inside input 0: *out_view_offset receives the byte
// offset from input 0's first byte (0 for non-view ops).
Result<TensorDesc> infer(int32_t op, const TensorDesc* inputs, int n_inputs, const tsr_op_params& params,
                         int64_t* out_view_offset);

// Runs op on host memory. inputs[i] points at input i's first element laid out
// as in_desc[i] (any strides); out points at the output laid out as out_desc.
// For set_rows, out is the same memory as inputs[0] and only the indexed rows
// are written. step may be null (no step parameters). Fails on run-time
// input errors (an id outside the table, a step parameter out of range) with
// a message naming the op and the values.
Status reference(int32_t op, const TensorDesc* in_desc, const void* const* inputs, int n_inputs,
                 const TensorDesc& out_desc, void* out, const tsr_op_params& params,
                 const tsr_step_params* step);

}  // namespace tsr::ops
