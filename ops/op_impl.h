// The per-family entry points behind op_schema.h. op_table.cpp checks the op
// id, the input count and that every input descriptor is well formed (known
// dtype, rank 1..4, ne >= 0, dims past rank are 1, block formats with whole
// blocks and nb[0] == block bytes) before calling an infer function, and runs
// infer (and checks the output descriptor against it) before calling a
// reference function. Internal to ops/.
#pragma once

#include <cstdint>

#include "tessera/kit/status.h"
#include "tessera/kit/tensor.h"
#include "tessera/tessera_backend.h"

namespace tsr::ops::impl {

struct InferCall {
  int32_t op;
  const char* name;
  const TensorDesc* in;
  int n;  // within the op's arity
  const tsr_op_params& p;
  int64_t* view_offset;  // never null; preset to 0
};

struct RefCall {
  int32_t op;
  const char* name;
  const TensorDesc* in_desc;
  const void* const* in;
  int n;
  const TensorDesc& out_desc;  // dtype and shape equal the inferred output
  void* out;
  const tsr_op_params& p;
  const tsr_step_params* step;  // may be null
  const TensorDesc& inferred;   // infer's output (view ops: memory inside input 0)
  int64_t view_offset;          // infer's byte offset into input 0
};

using InferFn = Result<TensorDesc> (*)(const InferCall&);
using RefFn = Status (*)(const RefCall&);

// elementwise.cpp: add, sub, mul, div, scale, silu, gelu, softcap, swiglu, geglu
Result<TensorDesc> infer_binary(const InferCall& c);
Status ref_binary(const RefCall& c);
Result<TensorDesc> infer_unary(const InferCall& c);
Status ref_unary(const RefCall& c);
Result<TensorDesc> infer_softcap(const InferCall& c);
Result<TensorDesc> infer_swiglu(const InferCall& c);
Status ref_swiglu(const RefCall& c);
// norm.cpp
Result<TensorDesc> infer_norm(const InferCall& c);
Status ref_norm(const RefCall& c);
// rope.cpp
Result<TensorDesc> infer_rope(const InferCall& c);
Status ref_rope(const RefCall& c);
// softmax.cpp
Result<TensorDesc> infer_softmax(const InferCall& c);
Status ref_softmax(const RefCall& c);
// matmul.cpp
Result<TensorDesc> infer_matmul(const InferCall& c);
Status ref_matmul(const RefCall& c);
// attention.cpp
Result<TensorDesc> infer_attention(const InferCall& c);
Status ref_attention(const RefCall& c);
Result<TensorDesc> infer_paged_attention(const InferCall& c);
Status ref_paged_attention(const RefCall& c);
// rows.cpp
Result<TensorDesc> infer_get_rows(const InferCall& c);
Status ref_get_rows(const RefCall& c);
Result<TensorDesc> infer_set_rows(const InferCall& c);
Status ref_set_rows(const RefCall& c);
// copy.cpp
Result<TensorDesc> infer_cpy(const InferCall& c);
Status ref_cpy(const RefCall& c);
Result<TensorDesc> infer_concat(const InferCall& c);
Status ref_concat(const RefCall& c);
Result<TensorDesc> infer_argmax(const InferCall& c);
Status ref_argmax(const RefCall& c);
// collective.cpp: all_reduce, all_gather (the reference runs a world of one)
Result<TensorDesc> infer_collective(const InferCall& c);
Status ref_collective(const RefCall& c);
// view.cpp
Result<TensorDesc> infer_reshape(const InferCall& c);
Result<TensorDesc> infer_view(const InferCall& c);
Result<TensorDesc> infer_permute(const InferCall& c);
Status ref_view_like(const RefCall& c);

}  // namespace tsr::ops::impl
