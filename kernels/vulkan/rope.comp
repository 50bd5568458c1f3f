#version 450
// rope(x [head_dim, n_head, n_tokens, ne3], pos i32 [n_tokens]). One
// invocation per item of a row: items 0 .. n_rot/2-1 rotate a pair, the rest
// copy the dims past n_rot. ip[0] n_rot, ip[1] mode (0 normal, 2 neox).
//
// The angle pos * freq_scale * base^(-2i/n_rot) reaches 1e5 rad and more; an
// f32 product would be off by ~pos * 1e-7 rad. It is computed in turns with
// double-float arithmetic (pairs of f32, exact products by Dekker's split):
// g_i = freq_scale / (2 pi) * c^i with c = base^(-2/n_rot), both given by the
// host as double-floats, c^i by binary powering, then frac(pos * g_i), so the
// only f32 rounding left is that of the reduced angle (positions < 2^24).
// Frequency factors (Llama 3's rope_freqs) divide g_i, also in double-float.
// KU(0) items per row (head_dim - n_rot/2), KU(1) items in all,
// KU(2), KU(3) c (hi, lo), KU(4), KU(5) freq_scale / (2 pi) (hi, lo), f32 bits,
// KU(6) 1 when slot 2 holds the factors.
// Slots: 0 x (f32/f16/bf16, any strides), 1 pos, 2 freq_factors (f32
// [n_rot/2], optional), TOUT out (x's dtype).
#include "common.glsl"

#define WG 64
layout(local_size_x = WG) in;

// ---- double-float arithmetic: value = x + y with |y| <= ulp(x) / 2 ----
// `precise` keeps the compiler from fusing or reassociating the error terms.
vec2 split(float a) {  // a = hi + lo, each with 12 significant bits
  precise float c = 4097.0 * a;
  precise float hi = c - (c - a);
  precise float lo = a - hi;
  return vec2(hi, lo);
}

vec2 two_prod(float a, float b) {  // a * b exactly, as (product, error)
  precise float p = a * b;
  const vec2 as = split(a), bs = split(b);
  precise float e = ((as.x * bs.x - p) + as.x * bs.y + as.y * bs.x) + as.y * bs.y;
  return vec2(p, e);
}

vec2 df_mul(vec2 a, vec2 b) {
  const vec2 p = two_prod(a.x, b.x);
  precise float e = p.y + (a.x * b.y + a.y * b.x);
  precise float s = p.x + e;
  precise float t = e - (s - p.x);
  return vec2(s, t);
}

// a / b, b an f32. The f32 quotient's rounding error comes back from the
// remainder a - q b, which is exact: two_prod is, and a.x - p.x by
// Sterbenz's lemma (p.x is within a few ulp of a.x).
vec2 df_div(vec2 a, float b) {
  precise float q = a.x / b;
  const vec2 p = two_prod(q, b);
  precise float e = (((a.x - p.x) - p.y) + a.y) / b;
  precise float s = q + e;
  precise float t = e - (s - q);
  return vec2(s, t);
}

// frac(pos * g) in [-0.5, 0.5] turns, g a double-float.
float turns(float pos, vec2 g) {
  const vec2 p = two_prod(pos, g.x);
  precise float whole = round(p.x);
  precise float r = (p.x - whole) + (p.y + pos * g.y);  // p.x - whole is exact
  return r - round(r);
}

void main() {
  const uint item = flat_group() * WG + gl_LocalInvocationIndex;
  if (item >= KU(1)) return;
  const uint per_row = KU(0);
  const uint j = item % per_row;
  const uint row = item / per_row;
  const uvec3 r = uvec3(row % TNE(0).y, (row / TNE(0).y) % TNE(0).z, row / (TNE(0).y * TNE(0).z));
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

  // g_j = g_0 * c^j / ff[j] (turns per position unit).
  vec2 g = vec2(uintBitsToFloat(KU(4)), uintBitsToFloat(KU(5)));
  vec2 c = vec2(uintBitsToFloat(KU(2)), uintBitsToFloat(KU(3)));
  for (uint e = j; e != 0u; e >>= 1) {
    if ((e & 1u) != 0u) g = df_mul(g, c);
    c = df_mul(c, c);
  }
  if (KU(6) != 0u) g = df_div(g, uintBitsToFloat(t32[2].w[elem_byte(2, j, 0, 0, 0) >> 2]));
  const float p = float(int(t32[1].w[elem_byte(1, r.y, 0, 0, 0) >> 2]));
  const float theta = turns(p, g) * 6.2831853071795865;
  const float cs = cos(theta), sn = sin(theta);
  const float a = load_float(0, xdt, xb + i0 * xnb), b = load_float(0, xdt, xb + i1 * xnb);
  store_float(TOUT, odt, ob + i0 * onb, a * cs - b * sn);
  store_float(TOUT, odt, ob + i1 * onb, a * sn + b * cs);
}
