// argmax over dim 0, one workgroup per row: each work-item scans a strided
// part of the row, then a local-memory reduction keeps the first maximum.
// NaN never wins (an all-NaN row gives 0), as in ops/copy.cpp.
// Slots: 0 x (f32/f16/bf16, any strides), TOUT out i32 [ne1, ne2, ne3].
// Port of kernels/vulkan/argmax.comp; 128 work-items per workgroup.

#define WG 128u

// true when (v, i) beats (bv, bi): larger, or equal and earlier; NaN loses.
inline bool better(float v, uint i, float bv, uint bi) {
  if (isnan(v)) return false;
  if (isnan(bv)) return true;
  return v > bv || (v == bv && i < bi);
}

__kernel __attribute__((reqd_work_group_size(WG, 1, 1))) void tsr_main(TSR_ARGS) {
  __local float s_val[WG];
  __local uint s_idx[WG];
  const uint row = flat_group();
  if (row >= N_GROUPS) return;  // the whole workgroup: no barrier is skipped by part of it
  const uint4 ne = TNE(0);
  const uint i1 = row % ne.y, i2 = (row / ne.y) % ne.z, i3 = row / (ne.y * ne.z);
  const uint tid = (uint)get_local_id(0);
  float bv = 0.0f;
  uint bi = 0xffffffffu;
  bool have = false;
  for (uint i = tid; i < ne.x; i += WG) {
    const float v = load_at(0, (uint4)(i, i1, i2, i3));
    if (!have || better(v, i, bv, bi)) {
      bv = v;
      bi = i;
      have = true;
    }
  }
  if (!have) bv = as_float(0x7fc00000u);  // an empty slot loses to anything
  s_val[tid] = bv;
  s_idx[tid] = bi;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (uint s = WG / 2u; s > 0u; s >>= 1) {
    if (tid < s && better(s_val[tid + s], s_idx[tid + s], s_val[tid], s_idx[tid])) {
      s_val[tid] = s_val[tid + s];
      s_idx[tid] = s_idx[tid + s];
    }
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  if (tid == 0u) {
    const uint best = s_idx[0] == 0xffffffffu || isnan(s_val[0]) ? 0u : s_idx[0];
    *(__global uint *)(TB(TOUT) + elem_byte(TOUT, i1, i2, i3, 0u)) = best;
  }
}
