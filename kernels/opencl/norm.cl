// rms_norm and layer_norm over dim 0 (KU(0) = 1: layer_norm). One workgroup
// per row; f32 sums; layer_norm takes the variance about the mean in a second
// pass (not E[x^2] - mean^2, which cancels catastrophically for large means).
// Slots: 0 x (f32/f16/bf16, any strides), TOUT out (x's dtype and shape).
// WG (SPEC0) work-items per workgroup, wg_sum and row_index: reduce.cl.
// Port of kernels/vulkan/norm.comp (its non-SUBGROUP variant).

__kernel __attribute__((reqd_work_group_size(WG, 1, 1))) void tsr_main(TSR_ARGS) {
  __local float red[WG];
  const uint row = flat_group();
  if (row >= N_GROUPS) return;  // the whole workgroup: no barrier is skipped by part of it
  const uint3 r = row_index(0, row);
  const uint n = TNE(0).x;
  const uint tid = (uint)get_local_id(0);
  __global const uchar *x = TB(0);
  const uint xdt = TTYPE(0), xnb = TNB(0).x, xb = elem_byte(0, 0u, r.x, r.y, r.z);

  float mean = 0.0f;
  if (KU(0) != 0u) {
    float s = 0.0f;
    for (uint i = tid; i < n; i += WG) s += load_float(x, xdt, xb + i * xnb);
    mean = wg_sum(red, s) / (float)n;
  }
  float sq = 0.0f;
  for (uint i = tid; i < n; i += WG) {
    const float d = load_float(x, xdt, xb + i * xnb) - mean;
    sq += d * d;
  }
  const float inv = rsqrt(wg_sum(red, sq) / (float)n + FP(0));

  __global uchar *out = TB(TOUT);
  const uint odt = TTYPE(TOUT), onb = TNB(TOUT).x, ob = elem_byte(TOUT, 0u, r.x, r.y, r.z);
  for (uint i = tid; i < n; i += WG)
    store_float(out, odt, ob + i * onb, (load_float(x, xdt, xb + i * xnb) - mean) * inv);
}
