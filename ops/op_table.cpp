// The op table and the two entry points of op_schema.h. Everything every op
// needs checked (arity, well-formed input descriptors, the output descriptor
// handed to reference) is checked here once; the family files check the rest.
#include <fmt/format.h>

#include <array>
#include <optional>
#include <string>

#include "ops/op_impl.h"
#include "ops/op_schema.h"
#include "ops/ref_util.h"
#include "tessera/kit/dtype.h"

namespace tsr::ops {
namespace {

using namespace impl;

struct OpFns {
  InferFn infer;
  RefFn ref;
};

// Indexed by tsr_op, in the order of the kit's op_info table (which holds
// each op's name and arity); entry 0 (TSR_OP_NONE) is "unknown".
constexpr std::array<OpFns, TSR_OP_COUNT> kOps = {{
    {nullptr, nullptr},                            // none
    {infer_get_rows, ref_get_rows},                // get_rows
    {infer_matmul, ref_matmul},                    // matmul
    {infer_binary, ref_binary},                    // add
    {infer_binary, ref_binary},                    // sub
    {infer_binary, ref_binary},                    // mul
    {infer_binary, ref_binary},                    // div
    {infer_unary, ref_unary},                      // scale
    {infer_norm, ref_norm},                        // rms_norm
    {infer_norm, ref_norm},                        // layer_norm
    {infer_rope, ref_rope},                        // rope
    {infer_softmax, ref_softmax},                  // softmax
    {infer_unary, ref_unary},                      // silu
    {infer_unary, ref_unary},                      // gelu
    {infer_swiglu, ref_swiglu},                    // swiglu
    {infer_attention, ref_attention},              // attention
    {infer_set_rows, ref_set_rows},                // set_rows
    {infer_cpy, ref_cpy},                          // cpy
    {infer_reshape, ref_view_like},                // reshape
    {infer_view, ref_view_like},                   // view
    {infer_permute, ref_view_like},                // permute
    {infer_concat, ref_concat},                    // concat
    {infer_argmax, ref_argmax},                    // argmax
    {infer_softcap, ref_unary},                    // softcap
    {infer_swiglu, ref_swiglu},                    // geglu
    {infer_paged_attention, ref_paged_attention},  // paged_attention
    {infer_collective, ref_collective},            // all_reduce
    {infer_collective, ref_collective},            // all_gather
}};

struct OpEntry {
  const OpInfo& info;
  const OpFns& fns;
};

std::optional<OpEntry> entry(int32_t op) {
  const OpInfo* info = op_info(op);
  if (!info) return std::nullopt;
  return OpEntry{*info, kOps[op]};
}

Status check_input_desc(const char* op, int i, const TensorDesc& d) {
  const DtypeTraits* t = dtype_traits(d.dtype);
  if (!t) return invalid_arg("[{}] input {} has unknown dtype id {}", op, i, d.dtype);
  if (d.rank < 1 || d.rank > TSR_MAX_DIMS)
    return invalid_arg("[{}] input {} has rank {} outside 1..{}", op, i, d.rank, TSR_MAX_DIMS);
  for (int k = 0; k < TSR_MAX_DIMS; ++k) {
    if (d.ne[k] < 0) return invalid_arg("[{}] input {} has negative dim {} in {}", op, i, k, desc_str(d));
    if (k >= d.rank && d.ne[k] != 1)
      return invalid_arg("[{}] input {} {}: dim {} = {} lies past rank {} and must be 1", op, i, desc_str(d),
                         k, d.ne[k], d.rank);
  }
  // Element count and spanned bytes must fit int64: descriptors come from users.
  int64_t count = 1, span = 0;
  for (int k = 0; k < TSR_MAX_DIMS; ++k) {
    int64_t term;
    const int64_t stride = d.nb[k] < 0 ? -(d.nb[k] + 1) : d.nb[k];  // |nb| - 1 when negative: no overflow
    if (__builtin_mul_overflow(count, d.ne[k], &count) || __builtin_mul_overflow(d.ne[k], stride, &term) ||
        __builtin_add_overflow(span, term, &span))
      return invalid_arg("[{}] input {} {} with strides [{}, {}, {}, {}] is too large", op, i, desc_str(d),
                         d.nb[0], d.nb[1], d.nb[2], d.nb[3]);
  }
  if (t->is_quantized) {
    if (d.ne[0] % t->block_size != 0)
      return invalid_arg("[{}] input {} {}: dim 0 is not a multiple of the block size {}", op, i, desc_str(d),
                         t->block_size);
    if (d.nb[0] != t->block_bytes)
      return invalid_arg("[{}] input {} {}: nb[0] = {} but block formats need contiguous dim 0 (nb[0] = {})",
                         op, i, desc_str(d), d.nb[0], t->block_bytes);
  }
  return Status::ok();
}

Result<TensorDesc> infer_checked(const OpEntry& e, int32_t op, const TensorDesc* inputs, int n_inputs,
                                 const tsr_op_params& params, int64_t* view_offset) {
  const char* name = e.info.name;
  if (n_inputs < e.info.min_inputs || n_inputs > e.info.max_inputs) {
    if (e.info.min_inputs == e.info.max_inputs)
      return invalid_arg("[{}] expects {} inputs, got {}", name, e.info.min_inputs, n_inputs);
    return invalid_arg("[{}] expects {} to {} inputs, got {}", name, e.info.min_inputs, e.info.max_inputs,
                       n_inputs);
  }
  if (!inputs) return invalid_arg("[{}] input descriptors are null", name);
  for (int i = 0; i < n_inputs; ++i) TSR_RETURN_IF_ERROR(check_input_desc(name, i, inputs[i]));
  *view_offset = 0;
  return e.fns.infer(InferCall{op, name, inputs, n_inputs, params, view_offset});
}

}  // namespace

Result<TensorDesc> infer(int32_t op, const TensorDesc* inputs, int n_inputs, const tsr_op_params& params,
                         int64_t* out_view_offset) {
  const std::optional<OpEntry> e = entry(op);
  if (!e) return invalid_arg("[infer] unknown op id {}", op);
  int64_t offset = 0;
  Result<TensorDesc> r = infer_checked(*e, op, inputs, n_inputs, params, &offset);
  if (r.is_ok() && out_view_offset) *out_view_offset = offset;
  return r;
}

Status reference(int32_t op, const TensorDesc* in_desc, const void* const* inputs, int n_inputs,
                 const TensorDesc& out_desc, void* out, const tsr_op_params& params,
                 const tsr_step_params* step) {
  const std::optional<OpEntry> e = entry(op);
  if (!e) return invalid_arg("[reference] unknown op id {}", op);
  const char* name = e->info.name;
  int64_t offset = 0;
  Result<TensorDesc> inferred = infer_checked(*e, op, in_desc, n_inputs, params, &offset);
  if (!inferred.is_ok()) return inferred.status();
  const TensorDesc& want = inferred.value();
  if (out_desc.dtype != want.dtype || !same_shape(out_desc, want))
    return invalid_arg("[{}] output is {}, expected {}", name, desc_str(out_desc), desc_str(want));
  if (dtype_traits(out_desc.dtype)->is_quantized &&
      out_desc.nb[0] != dtype_traits(out_desc.dtype)->block_bytes)
    return invalid_arg("[{}] output {} needs contiguous blocks in dim 0", name, desc_str(out_desc));
  if (!inputs) return invalid_arg("[{}] input pointers are null", name);
  for (int i = 0; i < n_inputs; ++i)
    if (!inputs[i] && n_elements(in_desc[i]) > 0)
      return invalid_arg("[{}] input {} pointer is null", name, i);
  if (!out && n_elements(out_desc) > 0) return invalid_arg("[{}] output pointer is null", name);
  return e->fns.ref(RefCall{op, name, in_desc, inputs, n_inputs, out_desc, out, params, step, want, offset});
}

}  // namespace tsr::ops
