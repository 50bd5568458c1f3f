// What attention and paged_attention share: the checks of q, k, v and the
// scale, and the reference arithmetic for one (query token, head) over a list
// of kv rows. Internal to ops/.
#pragma once

#include <cstdint>
#include <span>

#include "ops/op_impl.h"

namespace tsr::ops::impl {

// q float, k/v f32 or f16 of one shape, head dims equal, n_head a multiple
// of n_kv_head, kv_size > 0, a finite scale (fp[0]).
Status check_qkv(const InferCall& c);

// out[0, D) = softmax(scale * q[t, h] . k[rows]) v[rows] for query head h's kv
// head, scores and sums in double; zeros when rows is empty. rows index dim 2
// of k and v.
void attend_rows(const RefCall& c, int64_t t, int64_t h, std::span<const int64_t> rows, float* out);

}  // namespace tsr::ops::impl
