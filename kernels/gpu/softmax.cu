// softmax over dim 0 of x * scale + mask: one block per row.
// Each thread keeps an online (max, sum) over its strided share of the row;
// the block combines them (the sums rescaled to the block's max) and a
// second pass writes exp(v - max) / sum. Two reads of x, none of them kept.
// In place (output = x) is safe: in the second pass every element is read
// and written by the same thread, after the whole block finished the first.
// A fully masked row (max -inf) gives zeros, as the reference does.
//
// Slots: 0 x [ne0, ne1, ne2, ne3] (f32/f16/bf16), 1 mask [ne0, >= ne1]
// (f32/f16, optional: ku[0] = 1 when present), out as x. fp[0] scale (0: 1).
#include "gpu/tensor_access.h"

namespace tsr::gpu {

TSR_KERNEL(tsr_softmax) {
  TSR_SHARED(float, red, kMaxWarps);
  const GpuTensor &x = a.t[0], &mask = a.t[1], &o = a.t[kOutSlot];
  const int64_t row = static_cast<int64_t>(block_y()) * grid_x() + block_x();
  if (row >= x.ne[1] * x.ne[2] * x.ne[3]) return;  // uniform: the whole block leaves
  const int64_t i1 = row % x.ne[1], i2 = row / x.ne[1] % x.ne[2], i3 = row / (x.ne[1] * x.ne[2]);
  const float scale = a.fp[0] == 0.0f ? 1.0f : a.fp[0];
  const bool has_mask = a.ku[0] != 0;
  const int64_t xrow = offset_of(x, 0, i1, i2, i3), orow = offset_of(o, 0, i1, i2, i3);
  const int64_t mrow = has_mask ? offset_of(mask, 0, i1, 0, 0) : 0;
  auto value = [&](int64_t i) {
    const float v = load_f(x, xrow + i * x.nb[0]) * scale;
    return has_mask ? v + load_f(mask, mrow + i * mask.nb[0]) : v;
  };

  float m = -INFINITY, l = 0.0f;
  for (int64_t i = thread_x(); i < x.ne[0]; i += block_dim()) {
    const float v = value(i);
    if (v == -INFINITY) continue;  // masked: adds nothing, and -inf - -inf is NaN
    if (v > m) {
      l = l * expf(m - v) + 1.0f;
      m = v;
    } else {
      l += expf(v - m);
    }
  }
  const float M = block_max(m, red);
  const float sum = block_sum(m == -INFINITY ? 0.0f : l * expf(m - M), red);
  for (int64_t i = thread_x(); i < x.ne[0]; i += block_dim())
    store_f(o, orow + i * o.nb[0], M == -INFINITY ? 0.0f : expf(value(i) - M) / sum);
}

}  // namespace tsr::gpu
