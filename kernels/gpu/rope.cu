// rope: one thread per rotated pair or passed-through element of a row
// (ku[0] items per row, ku[1] items in all). Angles are computed in double:
// positions reach tens of thousands, where an f32 angle is off by ~1e-3 rad.
// ku[2] != 0: slot 2 holds the frequency factors, f32 [n_rot / 2]
// contiguous, dividing pair i's angle (Llama 3's rope_freqs).
#include "gpu/tensor_access.h"

namespace tsr::gpu {

TSR_KERNEL(tsr_rope) {
  const int64_t item = flat_thread();
  if (item >= a.ku[1]) return;
  const GpuTensor& x = a.t[0];
  const GpuTensor& o = a.t[kOutSlot];
  const int64_t per_row = a.ku[0];
  const int64_t i = item % per_row;
  const int64_t row = item / per_row;
  const int64_t h = row % x.ne[1], t = row / x.ne[1] % x.ne[2], b = row / x.ne[1] / x.ne[2];
  const int64_t xrow = h * x.nb[1] + t * x.nb[2] + b * x.nb[3];
  const int64_t orow = h * o.nb[1] + t * o.nb[2] + b * o.nb[3];
  const int64_t n_rot = a.ip[0];
  if (i >= n_rot / 2) {  // dims past n_rot pass through
    const int64_t j = n_rot + (i - n_rot / 2);
    store_f(o, orow + j * o.nb[0], load_f(x, xrow + j * x.nb[0]));
    return;
  }
  const bool neox = a.ip[1] == 2;
  const int64_t j0 = neox ? i : 2 * i;
  const int64_t j1 = neox ? i + n_rot / 2 : 2 * i + 1;
  const GpuTensor& pos = a.t[1];
  const double p = static_cast<double>(load_i32(pos, t * pos.nb[0]));
  const double freq_scale = a.fp[1] == 0.0f ? 1.0 : static_cast<double>(a.fp[1]);
  const double factor = a.ku[2] != 0 ? static_cast<double>(load_f(a.t[2], i * a.t[2].nb[0])) : 1.0;
  const double theta =
      p * freq_scale *
      pow(static_cast<double>(a.fp[0]), -2.0 * static_cast<double>(i) / static_cast<double>(n_rot)) / factor;
  const double c = cos(theta), s = sin(theta);
  const double x0 = load_f(x, xrow + j0 * x.nb[0]), x1 = load_f(x, xrow + j1 * x.nb[0]);
  store_f(o, orow + j0 * o.nb[0], static_cast<float>(x0 * c - x1 * s));
  store_f(o, orow + j1 * o.nb[0], static_cast<float>(x0 * s + x1 * c));
}

}  // namespace tsr::gpu
