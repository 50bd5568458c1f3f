#version 450
// rms_norm and layer_norm over dim 0 (KU(0) = 1: layer_norm). One workgroup
// per row; f32 sums; layer_norm takes the variance about the mean in a second
// pass (not E[x^2] - mean^2, which cancels catastrophically for large means).
// Slots: 0 x (f32/f16/bf16, any strides), TOUT out (x's dtype and shape).
#include "common.glsl"

#include "norm_reduce.glsl"

void main() {
  const uint row = flat_group();
  if (row >= N_GROUPS) return;
  const uvec3 r = row_index(0, row);
  const uint n = TNE(0).x;
  const uint tid = gl_LocalInvocationIndex;
  const uint xdt = TTYPE(0), xnb = TNB(0).x, xb = elem_byte(0, 0, r.x, r.y, r.z);

  float mean = 0.0;
  if (KU(0) != 0u) {
    float s = 0.0;
    for (uint i = tid; i < n; i += WG) s += load_float(0, xdt, xb + i * xnb);
    mean = wg_sum(s) / float(n);
  }
  float sq = 0.0;
  for (uint i = tid; i < n; i += WG) {
    const float d = load_float(0, xdt, xb + i * xnb) - mean;
    sq += d * d;
  }
  const float inv = inversesqrt(wg_sum(sq) / float(n) + FP(0));

  const uint odt = TTYPE(TOUT), onb = TNB(TOUT).x, ob = elem_byte(TOUT, 0, r.x, r.y, r.z);
  for (uint i = tid; i < n; i += WG) store_float(TOUT, odt, ob + i * onb, (load_float(0, xdt, xb + i * xnb) - mean) * inv);
}
