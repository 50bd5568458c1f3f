// argmax over dim 0: one block per row; the first maximum wins, so ties
// reduce to the lower index at every step.
#include "gpu/tensor_access.h"

namespace tsr::gpu {

TSR_DEV void keep_first_max(float& v, int32_t& i, float ov, int32_t oi) {
  if (ov > v || (ov == v && oi < i)) {
    v = ov;
    i = oi;
  }
}

TSR_KERNEL(tsr_argmax) {
  TSR_SHARED(float, vals, kMaxWarps);
  TSR_SHARED(int32_t, idxs, kMaxWarps);
  const GpuTensor& x = a.t[0];
  const GpuTensor& o = a.t[kOutSlot];
  const int64_t row = flat_block();
  if (row >= a.ku[0]) return;
  const int64_t r1 = row % x.ne[1], r2 = row / x.ne[1] % x.ne[2], r3 = row / x.ne[1] / x.ne[2];
  const int64_t xrow = r1 * x.nb[1] + r2 * x.nb[2] + r3 * x.nb[3];
  float best = -INFINITY;
  int32_t at = 0x7fffffff;
  for (int64_t i = thread_x(); i < x.ne[0]; i += block_dim())
    keep_first_max(best, at, load_f(x, xrow + i * x.nb[0]), static_cast<int32_t>(i));
  for (uint32_t m = warp_size() / 2; m > 0; m /= 2) {
    const float ov = shfl_xor(best, m);
    const int32_t oi = shfl_xor(at, m);
    keep_first_max(best, at, ov, oi);
  }
  if (lane() == 0) {
    vals[warp_index()] = best;
    idxs[warp_index()] = at;
  }
  sync_threads();
  if (thread_x() != 0) return;
  best = vals[0];
  at = idxs[0];
  for (uint32_t w = 1; w < n_warps(); ++w) keep_first_max(best, at, vals[w], idxs[w]);
  // A row of NaNs has no maximum: index 0, as a scan that never updates gives.
  if (at == 0x7fffffff) at = 0;
  *reinterpret_cast<int32_t*>(mptr(o) + r1 * o.nb[0] + r2 * o.nb[1] + r3 * o.nb[2]) = at;
}

}  // namespace tsr::gpu
