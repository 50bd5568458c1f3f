// Workgroup-wide reductions for the row kernels (norm, softmax). Include
// after common.glsl; declares the workgroup size WG (specialization constant
// 0, a power of two chosen by the encoder).
//
// SUBGROUP defined (the device has subgroup arithmetic in compute shaders):
// subgroup reductions, then one exchange through shared memory when the
// workgroup holds more than one subgroup. A workgroup of one subgroup needs
// no barrier at all, which is what CPU implementations want (lavapipe: an
// rms_norm of 9 rows of 64 takes 55 us this way, 680 us with the tree).
// Otherwise a shared-memory tree.
// Every invocation of the workgroup must call these (they may contain barriers).

layout(constant_id = 0) const uint WG = 128;
// Subgroups per workgroup: ceil(WG / subgroupSize), set by the encoder (the
// SubgroupSize of a SPIR-V 1.3 pipeline is the device's subgroupSize). 1 lets
// the exchange through shared memory, and its barriers, fold away.
layout(constant_id = 1) const uint NSG = 0;
layout(local_size_x_id = 0) in;

shared float red_[WG];

#ifdef SUBGROUP
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require

float wg_sum(float v) {
  v = subgroupAdd(v);
  if (NSG == 1u) return v;
  if (subgroupElect()) red_[gl_SubgroupID] = v;
  barrier();
  float r = 0.0;
  for (uint i = 0; i < gl_NumSubgroups; ++i) r += red_[i];
  barrier();  // red_ is reused by the next reduction
  return r;
}

float wg_max(float v) {
  v = subgroupMax(v);
  if (NSG == 1u) return v;
  if (subgroupElect()) red_[gl_SubgroupID] = v;
  barrier();
  float r = red_[0];
  for (uint i = 1; i < gl_NumSubgroups; ++i) r = max(r, red_[i]);
  barrier();
  return r;
}

#else

float wg_sum(float v) {
  const uint tid = gl_LocalInvocationIndex;
  red_[tid] = v;
  barrier();
  [[unroll]] for (uint s = WG / 2; s > 0; s >>= 1) {
    if (tid < s) red_[tid] += red_[tid + s];
    barrier();
  }
  const float r = red_[0];
  barrier();  // red_ is reused by the next reduction
  return r;
}

float wg_max(float v) {
  const uint tid = gl_LocalInvocationIndex;
  red_[tid] = v;
  barrier();
  [[unroll]] for (uint s = WG / 2; s > 0; s >>= 1) {
    if (tid < s) red_[tid] = max(red_[tid], red_[tid + s]);
    barrier();
  }
  const float r = red_[0];
  barrier();
  return r;
}

#endif

// Row (i1, i2, i3) of tensor t from a flat row index over ne[1..3].
uvec3 row_index(uint t, uint row) {
  const uvec4 ne = TNE(t);
  return uvec3(row % ne.y, (row / ne.y) % ne.z, row / (ne.y * ne.z));
}
