#version 450
// rope(x [head_dim, n_head, n_tokens, ne3], pos i32 [n_tokens]). One
// invocation per item of a row: items 0 .. n_rot/2-1 rotate a pair, the rest
// copy the dims past n_rot. ip[0] n_rot, ip[1] mode (0 normal, 2 neox),
// fp[1] freq_scale (0 -> 1).
// KU(0) items per row (head_dim - n_rot/2), KU(1) items in all,
// KU(2) -2 log2(freq_base) / n_rot as f32 bits (computed in double on the host:
// inv_freq_i = exp2(i * KU(2)) then has a single f32 rounding in the exponent).
// Slots: 0 x (f32/f16/bf16, any strides), 1 pos, TOUT out (x's dtype).
#include "common.glsl"

#define WG 64
layout(local_size_x = WG) in;

// theta reduced to [-pi, pi] before sin/cos (Cody-Waite, 2 pi split in three
// so k * C1 and k * C2 are exact for |k| < 2^14): the builtins are only
// required to be accurate on [-pi, pi], and positions reach 1e5 rad.
float reduce_angle(float theta) {
  const float k = round(theta * 0.15915493667125702);
  precise float r = theta - k * 6.28125;
  r = r - k * 0.0019359588623046875;
  r = r - k * -6.516827397717861e-07;
  return r;
}

void main() {
  const uint item = flat_group() * WG + gl_LocalInvocationIndex;
  if (item >= KU(1)) return;
  const uint per_row = KU(0);
  const uint j = item % per_row;
  const uvec3 r = uvec3((item / per_row) % TNE(0).y, (item / per_row / TNE(0).y) % TNE(0).z,
                        item / per_row / (TNE(0).y * TNE(0).z));
  const uint n_rot = uint(IP(0));
  const uint half_rot = n_rot / 2u;
  const uint xdt = TTYPE(0), xnb = TNB(0).x, xb = elem_byte(0, 0, r.x, r.y, r.z);
  const uint odt = TTYPE(TOUT), onb = TNB(TOUT).x, ob = elem_byte(TOUT, 0, r.x, r.y, r.z);
  if (j >= half_rot) {
    const uint i = n_rot + (j - half_rot);
    store_float(TOUT, odt, ob + i * onb, load_float(0, xdt, xb + i * xnb));
    return;
  }
  const bool neox = IP(1) == 2;
  const uint i0 = neox ? j : 2u * j;
  const uint i1 = neox ? j + half_rot : 2u * j + 1u;
  const int p = int(t32[1].w[elem_byte(1, r.y, 0, 0, 0) >> 2]);
  const float freq_scale = FP(1) == 0.0 ? 1.0 : FP(1);
  const float inv_freq = freq_scale * exp2(float(j) * uintBitsToFloat(KU(2)));
  const float theta = reduce_angle(float(p) * inv_freq);
  const float c = cos(theta), s = sin(theta);
  const float a = load_float(0, xdt, xb + i0 * xnb), b = load_float(0, xdt, xb + i1 * xnb);
  store_float(TOUT, odt, ob + i0 * onb, a * c - b * s);
  store_float(TOUT, odt, ob + i1 * onb, a * s + b * c);
}
