#include "tessera/kit/op_support.h"

#include <fmt/format.h>

#include <cmath>

#include "tessera/kit/dtype.h"
#include "tessera/kit/quant.h"
#include "tessera/kit/tensor.h"

namespace tsr::ops {
namespace {

bool fail(std::string& reason, std::string msg) {
  reason = std::move(msg);
  return false;
}

bool readable(int32_t dt, BlockDtypes blocks) { return is_float_dtype(dt) || blocks(dt); }

// Output of x's dtype and shape (any strides).
bool same_as_input(const tsr_node_desc& n, std::string& reason) {
  const tsr_tensor_desc& x = n.inputs[0];
  const tsr_tensor_desc& o = n.output;
  if (!is_float_dtype(x.dtype))
    return fail(reason, fmt::format("{} input (f32, f16, bf16 only)", dtype_name(x.dtype)));
  if (o.dtype != x.dtype || !same_shape(o, x))
    return fail(reason, fmt::format("output {} differs from input {}", desc_str(o), desc_str(x)));
  return true;
}

int64_t unit_bytes(int32_t dt) { return dtype_traits(dt)->block_bytes; }

// Strides of the dims in use are multiples of unit.
bool strides_aligned(const tsr_tensor_desc& d, int64_t unit) {
  for (int i = 0; i < TSR_MAX_DIMS; ++i)
    if (d.ne[i] > 1 && d.nb[i] % unit != 0) return false;
  return true;
}

}  // namespace

bool is_float_dtype(int32_t dt) { return dt == TSR_DTYPE_F32 || dt == TSR_DTYPE_F16 || dt == TSR_DTYPE_BF16; }

bool is_block_dtype(int32_t dt) {
  return dt == TSR_DTYPE_Q8_0 || dt == TSR_DTYPE_Q4_0 || dt == TSR_DTYPE_Q4_1;
}

bool is_weight_block_dtype(int32_t dt) {
  switch (dt) {
    case TSR_DTYPE_Q8_0:
    case TSR_DTYPE_Q4_0:
    case TSR_DTYPE_Q4_1:
    case TSR_DTYPE_Q5_0:
    case TSR_DTYPE_Q5_1:
    case TSR_DTYPE_Q2_K:
    case TSR_DTYPE_Q3_K:
    case TSR_DTYPE_Q4_K:
    case TSR_DTYPE_Q5_K:
    case TSR_DTYPE_Q6_K:
      return true;
    default:
      return false;
  }
}

bool elementwise_supported(const tsr_node_desc& n, std::string& reason) {
  const bool binary =
      n.op != TSR_OP_SCALE && n.op != TSR_OP_SILU && n.op != TSR_OP_GELU && n.op != TSR_OP_SOFTCAP;
  const int want = binary ? 2 : 1;
  if (n.n_inputs != want) return fail(reason, fmt::format("{} inputs, expected {}", n.n_inputs, want));
  for (int i = 0; i < want; ++i)
    if (!is_float_dtype(n.inputs[i].dtype))
      return fail(reason, fmt::format("input {} dtype {} is not f32/f16/bf16", i, n.inputs[i].dtype));
  if (!is_float_dtype(n.output.dtype)) return fail(reason, "output dtype is not f32/f16/bf16");
  if (n.op == TSR_OP_SOFTCAP && (!(n.params.f[0] > 0.0f) || !std::isfinite(n.params.f[0])))
    return fail(reason, fmt::format("softcap cap {} must be finite and > 0", n.params.f[0]));
  for (int i = 0; i < want; ++i)
    for (int k = 0; k < TSR_MAX_DIMS; ++k)
      if (n.inputs[i].ne[k] != 1 && n.inputs[i].ne[k] != n.output.ne[k])
        return fail(reason, fmt::format("input {} dim {} is {}, output's is {}", i, k, n.inputs[i].ne[k],
                                        n.output.ne[k]));
  return true;
}

bool norm_supported(const tsr_node_desc& n, std::string& reason) {
  if (n.n_inputs != 1) return fail(reason, fmt::format("{} inputs, expected 1", n.n_inputs));
  return same_as_input(n, reason);
}

bool softmax_supported(const tsr_node_desc& n, std::string& reason) {
  if (n.n_inputs != 1 && n.n_inputs != 2)
    return fail(reason, fmt::format("{} inputs, expected x and an optional mask", n.n_inputs));
  if (!same_as_input(n, reason)) return false;
  if (n.n_inputs == 2) {
    const tsr_tensor_desc& x = n.inputs[0];
    const tsr_tensor_desc& m = n.inputs[1];
    if (m.dtype != TSR_DTYPE_F32 && m.dtype != TSR_DTYPE_F16)
      return fail(reason, fmt::format("{} mask (f32, f16 only)", dtype_name(m.dtype)));
    if (m.ne[0] != x.ne[0] || m.ne[1] < x.ne[1] || m.ne[2] != 1 || m.ne[3] != 1)
      return fail(reason, fmt::format("mask {} is not [{}, >= {}, 1, 1]", shape_str(m), x.ne[0], x.ne[1]));
  }
  return true;
}

bool rope_supported(const tsr_node_desc& n, std::string& reason, bool freq_factors) {
  if (n.n_inputs == 3 && !freq_factors) return fail(reason, "freq_factors (input 2)");
  if (n.n_inputs != 2 && n.n_inputs != 3)
    return fail(reason, fmt::format("{} inputs, expected x, pos and optional freq_factors", n.n_inputs));
  if (!same_as_input(n, reason)) return false;
  const tsr_tensor_desc& x = n.inputs[0];
  const tsr_tensor_desc& pos = n.inputs[1];
  if (pos.dtype != TSR_DTYPE_I32 || pos.ne[0] != x.ne[2] || pos.ne[1] * pos.ne[2] * pos.ne[3] != 1)
    return fail(reason, fmt::format("pos {} is not i32 [n_tokens = {}]", desc_str(pos), x.ne[2]));
  const int64_t n_rot = n.params.i[0];
  if (n_rot <= 0 || n_rot % 2 != 0 || n_rot > x.ne[0])
    return fail(reason, fmt::format("n_rot {} must be even and in 2..head_dim {}", n_rot, x.ne[0]));
  if (n.params.i[1] != TSR_ROPE_NORMAL && n.params.i[1] != TSR_ROPE_NEOX)
    return fail(reason, fmt::format("rope mode {}", n.params.i[1]));
  if (!(n.params.f[0] > 0.0f) || !std::isfinite(n.params.f[0]))
    return fail(reason, fmt::format("freq_base {} must be finite and > 0", n.params.f[0]));
  if (n.n_inputs == 3) {
    const tsr_tensor_desc& ff = n.inputs[2];
    if (ff.dtype != TSR_DTYPE_F32 || ff.ne[0] != n_rot / 2 || ff.ne[1] * ff.ne[2] * ff.ne[3] != 1 ||
        ff.nb[0] != 4)
      return fail(reason, fmt::format("freq_factors {} is not contiguous f32 [n_rot / 2 = {}]", desc_str(ff),
                                      n_rot / 2));
  }
  return true;
}

namespace {

// q float, k and v f32/f16 of one shape [D, n_kv_head, kv_size], n_head a
// multiple of n_kv_head, head dim 1..max_head_dim, output f32 of q's shape:
// what attention and paged_attention kernels both read and write.
bool qkv_supported(const tsr_node_desc& n, int64_t max_head_dim, std::string& reason) {
  const tsr_tensor_desc& q = n.inputs[0];
  const tsr_tensor_desc& k = n.inputs[1];
  const tsr_tensor_desc& v = n.inputs[2];
  const tsr_tensor_desc& o = n.output;
  if (!is_float_dtype(q.dtype))
    return fail(reason, fmt::format("{} q (f32, f16, bf16 only)", dtype_name(q.dtype)));
  for (const tsr_tensor_desc* kv : {&k, &v})
    if (kv->dtype != TSR_DTYPE_F32 && kv->dtype != TSR_DTYPE_F16)
      return fail(reason, fmt::format("{} {} (f32, f16 only)", dtype_name(kv->dtype), kv == &k ? "k" : "v"));
  if (k.ne[0] != q.ne[0] || !same_shape(k, v) || q.ne[3] != 1 || k.ne[3] != 1 || k.ne[1] <= 0 ||
      q.ne[1] % k.ne[1] != 0 || k.ne[2] <= 0)
    return fail(reason, fmt::format("q {}, k {}, v {} are not [D, n_head, T], [D, n_kv_head, kv_size] x2",
                                    shape_str(q), shape_str(k), shape_str(v)));
  if (q.ne[0] < 1 || q.ne[0] > max_head_dim)
    return fail(reason, fmt::format("head dim {} outside 1..{}", q.ne[0], max_head_dim));
  if (o.dtype != TSR_DTYPE_F32 || !same_shape(o, q))
    return fail(reason, fmt::format("output {} is not f32 of q's shape {}", desc_str(o), shape_str(q)));
  return true;
}

// An i32 vector of n elements (pos, seq).
bool is_i32_vector(const tsr_tensor_desc& d, int64_t n) {
  return d.dtype == TSR_DTYPE_I32 && d.ne[0] == n && d.ne[1] * d.ne[2] * d.ne[3] == 1;
}

}  // namespace

bool attention_supported(const tsr_node_desc& n, int64_t max_head_dim, int64_t n_step_values,
                         std::string& reason, bool sliding_window) {
  if (n.params.i[2] != 0 && !sliding_window) return fail(reason, "sliding window (ip[2])");
  if (n.params.i[2] < 0 || (n.params.i[2] > 0 && n.params.i[0] == 0))
    return fail(reason, fmt::format("sliding window {} must be >= 0 and causal", n.params.i[2]));
  if (n.n_inputs != 3 && n.n_inputs != 4)
    return fail(reason, fmt::format("{} inputs, expected q, k, v and an optional pos", n.n_inputs));
  if (!qkv_supported(n, max_head_dim, reason)) return false;
  if (n.params.i[1] >= n_step_values)
    return fail(reason, fmt::format("kv length step value {} >= {} (the kernel sees {} step values)",
                                    n.params.i[1], n_step_values, n_step_values));
  if (n.params.i[0] != 0 && (n.n_inputs != 4 || !is_i32_vector(n.inputs[3], n.inputs[0].ne[2])))
    return fail(reason, "causal attention needs pos i32 [n_tokens]");
  return true;
}

bool paged_attention_supported(const tsr_node_desc& n, int64_t max_head_dim, std::string& reason) {
  if (n.n_inputs != 6)
    return fail(reason, fmt::format("{} inputs, expected q, k, v, pos, seq and block_table", n.n_inputs));
  if (!qkv_supported(n, max_head_dim, reason)) return false;
  const int64_t n_tokens = n.inputs[0].ne[2], pool_rows = n.inputs[1].ne[2], bs = n.params.i[0];
  if (bs < 1 || pool_rows % bs != 0)
    return fail(reason,
                fmt::format("block size {} must be >= 1 and divide the pool's {} rows", bs, pool_rows));
  if (n.params.i[1] != 0) return fail(reason, fmt::format("ip[1] = {} is reserved (0)", n.params.i[1]));
  if (n.params.i[2] < 0) return fail(reason, fmt::format("sliding window {} must be >= 0", n.params.i[2]));
  if (!is_i32_vector(n.inputs[3], n_tokens) || !is_i32_vector(n.inputs[4], n_tokens))
    return fail(reason, fmt::format("pos {} and seq {} must be i32 [n_tokens = {}]", desc_str(n.inputs[3]),
                                    desc_str(n.inputs[4]), n_tokens));
  const tsr_tensor_desc& table = n.inputs[5];
  if (table.dtype != TSR_DTYPE_I32 || table.ne[0] < 1 || table.ne[1] < 1 || table.ne[2] * table.ne[3] != 1)
    return fail(reason, fmt::format("block_table {} is not i32 [max_blocks, n_rows]", desc_str(table)));
  for (int i = 3; i < 6; ++i)
    if (!strides_aligned(n.inputs[i], 4)) return fail(reason, "pos, seq or block_table strides not 4-byte");
  return true;
}

bool matmul_supported(const tsr_node_desc& n, std::string& reason, BlockDtypes blocks) {
  if (n.n_inputs != 2) return fail(reason, fmt::format("matmul takes 2 inputs, got {}", n.n_inputs));
  const tsr_tensor_desc& w = n.inputs[0];
  const tsr_tensor_desc& x = n.inputs[1];
  const tsr_tensor_desc& o = n.output;
  if (!readable(w.dtype, blocks)) return fail(reason, fmt::format("{} weights", dtype_name(w.dtype)));
  if (!is_float_dtype(x.dtype)) return fail(reason, fmt::format("{} activations", dtype_name(x.dtype)));
  if (o.dtype != TSR_DTYPE_F32)
    return fail(reason, fmt::format("{} output (matmul writes f32)", dtype_name(o.dtype)));
  if (w.ne[0] != x.ne[0] || o.ne[0] != w.ne[1] || o.ne[1] != x.ne[1] || o.ne[2] != x.ne[2] ||
      o.ne[3] != x.ne[3])
    return fail(reason, "shapes are not w [K, M, B2w, B3w], x [K, N, B2, B3], out [M, N, B2, B3]");
  if (n_elements(o) == 0) return true;  // nothing to compute
  if (w.ne[2] <= 0 || w.ne[3] <= 0 || x.ne[2] % w.ne[2] != 0 || x.ne[3] % w.ne[3] != 0)
    return fail(reason, "x batch dims are not multiples of w batch dims");
  if (blocks(w.dtype)) {
    if (w.ne[0] % dtype_traits(w.dtype)->block_size != 0)
      return fail(reason,
                  fmt::format("{} weights with K = {} (not whole blocks)", dtype_name(w.dtype), w.ne[0]));
    if (w.nb[0] != unit_bytes(w.dtype))
      return fail(reason, fmt::format("{} weights with dim 0 not contiguous (nb[0] = {})",
                                      dtype_name(w.dtype), w.nb[0]));
    if (!strides_aligned(w, 2)) return fail(reason, "block weight strides not 2-byte aligned");
  } else if (!strides_aligned(w, unit_bytes(w.dtype))) {
    return fail(reason, "weight strides not multiples of the element size");
  }
  if (!strides_aligned(x, unit_bytes(x.dtype)) || !strides_aligned(o, 4))
    return fail(reason, "x or output strides not multiples of the element size");
  return true;
}

bool get_rows_supported(const tsr_node_desc& n, std::string& reason, BlockDtypes blocks) {
  if (n.n_inputs != 2 || !readable(n.inputs[0].dtype, blocks) || n.inputs[1].dtype != TSR_DTYPE_I32)
    return fail(reason,
                fmt::format("table {} and ids {}: a float or block table this device reads and i32 ids",
                            dtype_name(n.inputs[0].dtype), dtype_name(n.inputs[1].dtype)));
  return true;
}

bool set_rows_supported(const tsr_node_desc& n, std::string& reason, BlockDtypes blocks) {
  if (n.n_inputs != 3) return fail(reason, "set_rows needs 3 inputs");
  if (!readable(n.inputs[0].dtype, blocks)) return fail(reason, "dst must be a float or block dtype");
  if (!is_float_dtype(n.inputs[1].dtype) || n.inputs[2].dtype != TSR_DTYPE_I32)
    return fail(reason, "src must be f32/f16/bf16 and idx i32");
  return true;
}

bool cpy_supported(const tsr_node_desc& n, std::string& reason, BlockDtypes blocks) {
  if (n.n_inputs != 1) return fail(reason, "cpy needs 1 input");
  const int32_t from = n.inputs[0].dtype, to = n.output.dtype;
  if (from == to) {
    if (readable(from, blocks) || from == TSR_DTYPE_I32) return true;
    return fail(reason, fmt::format("copy of dtype {}", dtype_name(from)));
  }
  if (!readable(from, blocks)) return fail(reason, fmt::format("conversion from dtype {}", dtype_name(from)));
  if (!readable(to, blocks)) return fail(reason, fmt::format("conversion to dtype {}", dtype_name(to)));
  return true;
}

bool concat_supported(const tsr_node_desc& n, std::string& reason) {
  if (n.n_inputs != 2) return fail(reason, "concat needs 2 inputs");
  const int32_t dt = n.inputs[0].dtype;
  if (!is_float_dtype(dt) && dt != TSR_DTYPE_I32) return fail(reason, fmt::format("concat of dtype {}", dt));
  return true;
}

bool argmax_supported(const tsr_node_desc& n, std::string& reason) {
  if (n.n_inputs != 1 || !is_float_dtype(n.inputs[0].dtype)) return fail(reason, "x must be f32/f16/bf16");
  return true;
}

}  // namespace tsr::ops
