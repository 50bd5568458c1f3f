// Workgroup-wide reductions through shared memory, for the row kernels
// (norm, softmax). Include after common.glsl; declares the workgroup size WG
// (specialization constant 0, a power of two chosen by the encoder). Shared
// memory rather than subgroup operations: the subgroup size differs between
// devices (8 on lavapipe, 32/64 on GPUs) and subgroup arithmetic is an
// optional feature.
// Every invocation of the workgroup must call these (they contain barriers).

layout(constant_id = 0) const uint WG = 128;
layout(local_size_x_id = 0) in;

shared float red_[WG];

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

// Row (i1, i2, i3) of tensor t from a flat row index over ne[1..3].
uvec3 row_index(uint t, uint row) {
  const uvec4 ne = TNE(t);
  return uvec3(row % ne.y, (row / ne.y) % ne.z, row / (ne.y * ne.z));
}
