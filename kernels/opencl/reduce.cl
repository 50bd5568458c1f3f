// Workgroup-wide reductions for the row kernels (norm.cl, softmax.cl), the
// PRELUDE of both (inserted after blocks.cl, before the kernel's own file).
// Declares the workgroup size WG (SPEC0, a power of two chosen by the
// encoder; the host launches workgroups of WG work-items).
//
// Port of the shared-memory tree of kernels/vulkan/norm_reduce.glsl. The
// SUBGROUP variant (subgroup reductions, then one exchange through shared
// memory) is not ported: OpenCL 1.2 has no subgroups, and the host reports
// none, so the encoders pick norm and softmax, never norm_sg / softmax_sg.
// (On lavapipe the subgroup form mattered: an rms_norm of 9 rows of 64 took
// 55 us with one barrier-free subgroup, 680 us with the tree.)
//
// OpenCL 1.2 declares __local arrays at kernel function scope only, so the
// kernel declares `__local float red[WG]` and passes it in. Every work-item
// of the workgroup must call these (they contain barriers).

#define WG SPEC0

inline float wg_sum(__local float *red, float v) {
  const uint tid = (uint)get_local_id(0);
  red[tid] = v;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (uint s = WG / 2u; s > 0u; s >>= 1) {
    if (tid < s) red[tid] += red[tid + s];
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  const float r = red[0];
  barrier(CLK_LOCAL_MEM_FENCE);  // red is reused by the next reduction
  return r;
}

inline float wg_max(__local float *red, float v) {
  const uint tid = (uint)get_local_id(0);
  red[tid] = v;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (uint s = WG / 2u; s > 0u; s >>= 1) {
    if (tid < s) red[tid] = max(red[tid], red[tid + s]);
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  const float r = red[0];
  barrier(CLK_LOCAL_MEM_FENCE);
  return r;
}

// Row (i1, i2, i3) of a tensor of shape ne from a flat row index over ne[1..3].
inline uint3 row_index_ne(uint4 ne, uint row) {
  return (uint3)(row % ne.y, (row / ne.y) % ne.z, row / (ne.y * ne.z));
}
// Of tensor t (a macro: it reads np).
#define row_index(t, row) row_index_ne(TNE(t), (row))
