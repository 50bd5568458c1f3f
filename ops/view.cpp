// Metadata ops: reshape, view and permute describe memory inside input 0.
// Their reference materialises that description into out (nothing to do when
// out already is that memory with those strides).
#include <algorithm>

#include "ops/op_impl.h"
#include "ops/ref_util.h"

namespace tsr::ops::impl {

using namespace detail;

namespace {

// Bytes spanned by ne/nb of dtype t (0 when any dim is empty); false on
// int64 overflow. Strides must be non-negative.
bool checked_span(const DtypeTraits* t, const int64_t* ne, const int64_t* nb, int64_t* out) {
  for (int k = 0; k < TSR_MAX_DIMS; ++k)
    if (ne[k] == 0) {
      *out = 0;
      return true;
    }
  int64_t last = t->block_bytes;
  for (int k = 0; k < TSR_MAX_DIMS; ++k) {
    const int64_t n = (k == 0 ? ne[0] / t->block_size : ne[k]) - 1;
    int64_t term;
    if (__builtin_mul_overflow(n, nb[k], &term) || __builtin_add_overflow(last, term, &last)) return false;
  }
  *out = last;
  return true;
}

}  // namespace

Result<TensorDesc> infer_reshape(const InferCall& c) {
  const TensorDesc& x = c.in[0];
  if (!is_contiguous(x))
    return invalid_arg("[{}] x must be contiguous, got {} with strides [{}, {}, {}, {}]", c.name, desc_str(x),
                       x.nb[0], x.nb[1], x.nb[2], x.nb[3]);
  int64_t ne[TSR_MAX_DIMS];
  const int32_t rank = dims_from_params(c.p.i, ne);
  int64_t count = 1;
  for (int k = 0; k < TSR_MAX_DIMS; ++k) {
    if (ne[k] < 0) return invalid_arg("[{}] new shape {} has a negative dim", c.name, dims_str(ne, rank));
    if (__builtin_mul_overflow(count, ne[k], &count))
      return invalid_arg("[{}] new shape {} overflows", c.name, dims_str(ne, rank));
  }
  if (count != n_elements(x))
    return invalid_arg("[{}] element counts differ: x {} has {}, new shape {} has {}", c.name, desc_str(x),
                       n_elements(x), dims_str(ne, rank), count);
  return make_output(c.name, x.dtype, rank, ne);
}

Result<TensorDesc> infer_view(const InferCall& c) {
  const TensorDesc& x = c.in[0];
  const DtypeTraits* t = dtype_traits(x.dtype);
  TensorDesc v{};
  v.dtype = x.dtype;
  v.rank = dims_from_params(c.p.i, v.ne);
  v.nb[0] = x.nb[0];
  for (int k = 1; k < TSR_MAX_DIMS; ++k) {
    v.nb[k] = c.p.i[3 + k];
    // Unused trailing dims keep a stride continuing the layout, as make_desc.
    if (k >= v.rank && v.nb[k] == 0 &&
        __builtin_mul_overflow(v.nb[k - 1], k == 1 ? v.ne[0] / t->block_size : v.ne[k - 1], &v.nb[k]))
      v.nb[k] = 0;  // a size-1 dim's stride never moves a byte
  }
  const int64_t offset = c.p.i[7];
  for (int k = 0; k < TSR_MAX_DIMS; ++k)
    if (v.ne[k] < 0 || v.nb[k] < 0)
      return invalid_arg("[{}] negative dim or stride: ne {}, nb [{}, {}, {}, {}]", c.name, shape_str(v),
                         v.nb[0], v.nb[1], v.nb[2], v.nb[3]);
  if (offset < 0) return invalid_arg("[{}] negative byte offset {}", c.name, offset);
  // The minimum alignment tessera_backend.h promises backends (tsr_tensor_ref):
  // an element's size, 2 bytes for block formats.
  const int64_t align = t->block_size == 1 ? t->block_bytes : 2;
  if (offset % align != 0 || v.nb[1] % align != 0 || v.nb[2] % align != 0 || v.nb[3] % align != 0)
    return invalid_arg("[{}] {} view: byte offset {} and strides [{}, {}, {}] must be multiples of {}",
                       c.name, t->name, offset, v.nb[1], v.nb[2], v.nb[3], align);
  if (v.ne[0] % t->block_size != 0)
    return invalid_arg("[{}] {} dim 0 = {} is not a multiple of the block size {}", c.name, t->name, v.ne[0],
                       t->block_size);
  // The shape must be one a tensor can have: with strides of 0 a few bytes
  // span any number of elements, and the size of such a view overflowed
  // int64 wherever it was taken (compile, copies; found by fuzz_graph_api).
  if (const Result<TensorDesc> shape = make_desc(v.dtype, v.rank, v.ne); !shape.is_ok())
    return invalid_arg("[{}] view shape: {}", c.name, shape.status().message());
  int64_t span = 0;
  if (!checked_span(t, v.ne, v.nb, &span))
    return invalid_arg("[{}] view out of range: {} with strides [{}, {}, {}, {}] overflows", c.name,
                       desc_str(v), v.nb[0], v.nb[1], v.nb[2], v.nb[3]);
  const int64_t in_span = n_bytes_spanned(x);
  if (offset > in_span || span > in_span - offset)
    return invalid_arg(
        "[{}] view out of range: offset {} + {} bytes spanned by {} exceed the {} bytes of input {}", c.name,
        offset, span, desc_str(v), in_span, desc_str(x));
  *c.view_offset = offset;
  return v;
}

Result<TensorDesc> infer_permute(const InferCall& c) {
  const TensorDesc& x = c.in[0];
  const int64_t* perm = c.p.i;
  bool seen[TSR_MAX_DIMS] = {};
  bool ok = true;
  for (int k = 0; k < TSR_MAX_DIMS; ++k) {
    if (perm[k] < 0 || perm[k] >= TSR_MAX_DIMS || seen[perm[k]]) {
      ok = false;
      break;
    }
    seen[perm[k]] = true;
  }
  if (!ok)
    return invalid_arg("[{}] ip[0..3] = [{}, {}, {}, {}] is not a permutation of 0..3 (x is {})", c.name,
                       perm[0], perm[1], perm[2], perm[3], shape_str(x));
  if (dtype_traits(x.dtype)->is_quantized && perm[0] != 0)
    return invalid_arg("[{}] dim 0 of a block format must stay dim 0: x is {}, ip[0] = {}", c.name,
                       desc_str(x), perm[0]);
  TensorDesc v = x;
  v.rank = x.rank;
  for (int k = 0; k < TSR_MAX_DIMS; ++k) {
    v.ne[perm[k]] = x.ne[k];
    v.nb[perm[k]] = x.nb[k];
    if (k < x.rank) v.rank = std::max<int32_t>(v.rank, static_cast<int32_t>(perm[k] + 1));
  }
  return v;
}

Status ref_view_like(const RefCall& c) {
  const auto* src = static_cast<const uint8_t*>(c.in[0]) + c.view_offset;
  copy_units(c.inferred, src, c.out_desc, c.out);
  return Status::ok();
}

}  // namespace tsr::ops::impl
