// rope(x [head_dim, n_head, n_tokens, ne3], pos i32 [n_tokens]). One
// work-item per item of a row: items 0 .. n_rot/2-1 rotate a pair, the rest
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
// Port of kernels/vulkan/rope.comp.

#define WG 64u

// ---- double-float arithmetic: value = x + y with |y| <= ulp(x) / 2 ----
// GLSL marks the error terms `precise`. OpenCL C never reassociates without
// -cl-fast-relaxed-math / -cl-unsafe-math-optimizations, but it may contract
// a * b + c into an fma (FP_CONTRACT is on by default): off, for this file
// (the last one of the program source, so no other kernel is affected).
#pragma OPENCL FP_CONTRACT OFF

inline float2 split(float a) {  // a = hi + lo, each with 12 significant bits
  const float c = 4097.0f * a;
  const float hi = c - (c - a);
  const float lo = a - hi;
  return (float2)(hi, lo);
}

inline float2 two_prod(float a, float b) {  // a * b exactly, as (product, error)
  const float p = a * b;
  const float2 as = split(a), bs = split(b);
  const float e = ((as.x * bs.x - p) + as.x * bs.y + as.y * bs.x) + as.y * bs.y;
  return (float2)(p, e);
}

inline float2 df_mul(float2 a, float2 b) {
  const float2 p = two_prod(a.x, b.x);
  const float e = p.y + (a.x * b.y + a.y * b.x);
  const float s = p.x + e;
  const float t = e - (s - p.x);
  return (float2)(s, t);
}

// a / b, b an f32. The f32 quotient's rounding error comes back from the
// remainder a - q b, which is exact: two_prod is, and a.x - p.x by
// Sterbenz's lemma (p.x is within a few ulp of a.x).
inline float2 df_div(float2 a, float b) {
  const float q = a.x / b;
  const float2 p = two_prod(q, b);
  const float e = (((a.x - p.x) - p.y) + a.y) / b;
  const float s = q + e;
  const float t = e - (s - q);
  return (float2)(s, t);
}

// frac(pos * g) in [-0.5, 0.5] turns, g a double-float. rint (ties to even)
// for GLSL's round (ties either way): any nearest integer will do here.
inline float turns(float pos, float2 g) {
  const float2 p = two_prod(pos, g.x);
  const float whole = rint(p.x);
  const float r = (p.x - whole) + (p.y + pos * g.y);  // p.x - whole is exact
  return r - rint(r);
}

__kernel __attribute__((reqd_work_group_size(WG, 1, 1))) void tsr_main(TSR_ARGS) {
  const uint item = flat_group() * WG + (uint)get_local_id(0);
  if (item >= KU(1)) return;  // no barrier here: a work-item may leave alone
  const uint per_row = KU(0);
  const uint j = item % per_row;
  const uint row = item / per_row;
  const uint4 ne = TNE(0);
  const uint3 r = (uint3)(row % ne.y, (row / ne.y) % ne.z, row / (ne.y * ne.z));
  const uint n_rot = (uint)IP(0);
  const uint half_rot = n_rot / 2u;
  __global const uchar *x = TB(0);
  __global uchar *out = TB(TOUT);
  const uint xdt = TTYPE(0), xnb = TNB(0).x, xb = elem_byte(0, 0u, r.x, r.y, r.z);
  const uint odt = TTYPE(TOUT), onb = TNB(TOUT).x, ob = elem_byte(TOUT, 0u, r.x, r.y, r.z);
  if (j >= half_rot) {
    const uint i = n_rot + (j - half_rot);
    store_float(out, odt, ob + i * onb, load_float(x, xdt, xb + i * xnb));
    return;
  }
  const bool neox = IP(1) == 2;
  const uint i0 = neox ? j : 2u * j;
  const uint i1 = neox ? j + half_rot : 2u * j + 1u;

  // g_j = g_0 * c^j / ff[j] (turns per position unit).
  float2 g = (float2)(as_float(KU(4)), as_float(KU(5)));
  float2 c = (float2)(as_float(KU(2)), as_float(KU(3)));
  for (uint e = j; e != 0u; e >>= 1) {
    if ((e & 1u) != 0u) g = df_mul(g, c);
    c = df_mul(c, c);
  }
  if (KU(6) != 0u) g = df_div(g, *(__global const float *)(TB(2) + elem_byte(2, j, 0u, 0u, 0u)));
  const float p = (float)(*(__global const int *)(TB(1) + elem_byte(1, r.y, 0u, 0u, 0u)));
  const float theta = turns(p, g) * 6.2831853071795865f;
  const float cs = cos(theta), sn = sin(theta);
  const float a = load_float(x, xdt, xb + i0 * xnb), b = load_float(x, xdt, xb + i1 * xnb);
  store_float(out, odt, ob + i0 * onb, a * cs - b * sn);
  store_float(out, odt, ob + i1 * onb, a * sn + b * cs);
}
