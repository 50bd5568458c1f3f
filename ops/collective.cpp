// all_reduce and all_gather: shapes, and the reference for a world of one
// rank (a copy). Ranks beyond one exist only in the executor, which runs
// these nodes through the context's communicator.
#include "ops/op_impl.h"
#include "ops/ref_util.h"

namespace tsr::ops::impl {

using namespace detail;

Result<TensorDesc> infer_collective(const InferCall& c) {
  const TensorDesc& x = c.in[0];
  const int64_t ranks = c.p.i[0];
  if (ranks < 1 || ranks > 65536)
    return invalid_arg("[{}] world size (ip[0]) = {}, expected 1..65536", c.name, ranks);
  if (!is_contiguous(x))
    return invalid_arg("[{}] x {} must be contiguous (collectives move whole buffers): add a cpy", c.name,
                       desc_str(x));
  if (c.op == TSR_OP_ALL_REDUCE) {
    TSR_RETURN_IF_ERROR(expect_dtype(c.name, "x", x, TSR_DTYPE_F32));
    return make_output(c.name, x.dtype, x.rank, x.ne);
  }
  if (x.dtype != TSR_DTYPE_F32 && x.dtype != TSR_DTYPE_F16 && x.dtype != TSR_DTYPE_I32)
    return invalid_arg("[{}] x is {}; f32, f16 or i32 expected", c.name, desc_str(x));
  if (x.ne[3] != 1)
    return invalid_arg("[{}] x {} must have ne[3] = 1 (the ranks go there)", c.name, desc_str(x));
  int64_t ne[TSR_MAX_DIMS] = {x.ne[0], x.ne[1], x.ne[2], ranks};
  return make_output(c.name, x.dtype, TSR_MAX_DIMS, ne);
}

Status ref_collective(const RefCall& c) {
  if (c.p.i[0] != 1)
    return make_error(
        TSR_ERR_UNSUPPORTED,
        "[{}] the reference runs a world of 1 rank, this node is for {}: run it in a compiled model "
        "with a communicator",
        c.name, c.p.i[0]);
  copy_units(c.in_desc[0], c.in[0], c.out_desc, c.out);
  return Status::ok();
}

}  // namespace tsr::ops::impl
