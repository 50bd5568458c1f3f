#version 450
// softmax over dim 0 of x * scale + mask. One workgroup per row: a max pass,
// a sum-of-exp pass (max subtracted), a write pass. A row whose every entry
// is -inf gives zeros, as the reference does.
// Slots: 0 x (f32/f16/bf16, any strides), 1 mask (f32/f16 [ne0, >= ne1],
// used when KU(0) = 1; row i1 serves every i2, i3), TOUT out (x's dtype).
#include "common.glsl"

#include "norm_reduce.glsl"

void main() {
  const uint row = flat_group();
  if (row >= N_GROUPS) return;
  const uvec3 r = row_index(0, row);
  const uint n = TNE(0).x;
  const uint tid = gl_LocalInvocationIndex;
  const uint xdt = TTYPE(0), xnb = TNB(0).x, xb = elem_byte(0, 0, r.x, r.y, r.z);
  const bool has_mask = KU(0) != 0u;
  const uint mdt = TTYPE(1), mnb = TNB(1).x, mb = has_mask ? elem_byte(1, 0, r.x, 0, 0) : 0u;
  const float scale = FP(0) == 0.0 ? 1.0 : FP(0);

  float mx = -1.0 / 0.0;
  for (uint i = tid; i < n; i += WG) {
    const float v = load_float(0, xdt, xb + i * xnb) * scale + (has_mask ? load_float(1, mdt, mb + i * mnb) : 0.0);
    mx = max(mx, v);
  }
  mx = wg_max(mx);

  const uint odt = TTYPE(TOUT), onb = TNB(TOUT).x, ob = elem_byte(TOUT, 0, r.x, r.y, r.z);
  if (mx == -1.0 / 0.0) {
    for (uint i = tid; i < n; i += WG) store_float(TOUT, odt, ob + i * onb, 0.0);
    return;
  }
  float s = 0.0;
  for (uint i = tid; i < n; i += WG) {
    const float v = load_float(0, xdt, xb + i * xnb) * scale + (has_mask ? load_float(1, mdt, mb + i * mnb) : 0.0);
    s += exp(v - mx);
  }
  const float inv = 1.0 / wg_sum(s);
  for (uint i = tid; i < n; i += WG) {
    const float v = load_float(0, xdt, xb + i * xnb) * scale + (has_mask ? load_float(1, mdt, mb + i * mnb) : 0.0);
    store_float(TOUT, odt, ob + i * onb, exp(v - mx) * inv);
  }
}
