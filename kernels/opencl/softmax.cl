// softmax over dim 0 of x * scale + mask. One workgroup per row: a max pass,
// a sum-of-exp pass (max subtracted), a write pass. A row whose every entry
// is -inf gives zeros, as the reference does.
// Slots: 0 x (f32/f16/bf16, any strides), 1 mask (f32/f16 [ne0, >= ne1],
// used when KU(0) = 1; row i1 serves every i2, i3), TOUT out (x's dtype).
// WG (SPEC0) work-items per workgroup, wg_sum, wg_max and row_index: reduce.cl.
// Port of kernels/vulkan/softmax.comp (its non-SUBGROUP variant).

__kernel __attribute__((reqd_work_group_size(WG, 1, 1))) void tsr_main(TSR_ARGS) {
  __local float red[WG];
  const uint row = flat_group();
  if (row >= N_GROUPS) return;  // the whole workgroup: no barrier is skipped by part of it
  const uint3 r = row_index(0, row);
  const uint n = TNE(0).x;
  const uint tid = (uint)get_local_id(0);
  __global const uchar *x = TB(0);
  const uint xdt = TTYPE(0), xnb = TNB(0).x, xb = elem_byte(0, 0u, r.x, r.y, r.z);
  const bool has_mask = KU(0) != 0u;
  __global const uchar *mask = TB(1);
  const uint mdt = TTYPE(1), mnb = TNB(1).x, mb = has_mask ? elem_byte(1, 0u, r.x, 0u, 0u) : 0u;
  const float scale = FP(0) == 0.0f ? 1.0f : FP(0);

  float mx = -INFINITY;
  for (uint i = tid; i < n; i += WG) {
    const float v =
        load_float(x, xdt, xb + i * xnb) * scale + (has_mask ? load_float(mask, mdt, mb + i * mnb) : 0.0f);
    mx = max(mx, v);
  }
  mx = wg_max(red, mx);

  __global uchar *out = TB(TOUT);
  const uint odt = TTYPE(TOUT), onb = TNB(TOUT).x, ob = elem_byte(TOUT, 0u, r.x, r.y, r.z);
  if (mx == -INFINITY) {  // mx is the workgroup's: the whole workgroup returns here
    for (uint i = tid; i < n; i += WG) store_float(out, odt, ob + i * onb, 0.0f);
    return;
  }
  float s = 0.0f;
  for (uint i = tid; i < n; i += WG) {
    const float v =
        load_float(x, xdt, xb + i * xnb) * scale + (has_mask ? load_float(mask, mdt, mb + i * mnb) : 0.0f);
    s += exp(v - mx);
  }
  const float inv = 1.0f / wg_sum(red, s);
  for (uint i = tid; i < n; i += WG) {
    const float v =
        load_float(x, xdt, xb + i * xnb) * scale + (has_mask ? load_float(mask, mdt, mb + i * mnb) : 0.0f);
    store_float(out, odt, ob + i * onb, exp(v - mx) * inv);
  }
}
