// rms_norm and layer_norm over dim 0: one block per row (ku[0]: 1 for
// layer_norm). Two passes over the row for layer_norm (mean, then squared
// deviations) so a large mean does not cancel the variance away.
#include "gpu/tensor_access.h"

namespace tsr::gpu {

TSR_KERNEL(tsr_norm) {
  TSR_SHARED(float, scratch, kMaxWarps);
  const GpuTensor& x = a.t[0];
  const GpuTensor& o = a.t[kOutSlot];
  const int64_t row = flat_block();
  if (row >= a.ku[1]) return;
  const int64_t r1 = row % x.ne[1], r2 = row / x.ne[1] % x.ne[2], r3 = row / x.ne[1] / x.ne[2];
  const int64_t xrow = r1 * x.nb[1] + r2 * x.nb[2] + r3 * x.nb[3];
  const int64_t orow = r1 * o.nb[1] + r2 * o.nb[2] + r3 * o.nb[3];
  const int64_t n = x.ne[0];
  float mean = 0.0f;
  if (a.ku[0] == 1) {
    float s = 0.0f;
    for (int64_t i = thread_x(); i < n; i += block_dim()) s += load_f(x, xrow + i * x.nb[0]);
    mean = block_sum(s, scratch) / static_cast<float>(n);
  }
  float sq = 0.0f;
  for (int64_t i = thread_x(); i < n; i += block_dim()) {
    const float v = load_f(x, xrow + i * x.nb[0]) - mean;
    sq += v * v;
  }
  sq = block_sum(sq, scratch);
  const float inv = 1.0f / sqrtf(sq / static_cast<float>(n) + a.fp[0]);
  for (int64_t i = thread_x(); i < n; i += block_dim())
    store_f(o, orow + i * o.nb[0], (load_f(x, xrow + i * x.nb[0]) - mean) * inv);
}

}  // namespace tsr::gpu
