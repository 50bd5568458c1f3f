#version 450
// argmax over dim 0, one workgroup per row: each invocation scans a strided
// part of the row, then a shared-memory reduction keeps the first maximum.
// NaN never wins (an all-NaN row gives 0), as in ops/copy.cpp.
#include "common.glsl"

layout(local_size_x = 128) in;
shared float s_val[128];
shared uint s_idx[128];

// true when (v, i) beats (bv, bi): larger, or equal and earlier; NaN loses.
bool better(float v, uint i, float bv, uint bi) {
  if (isnan(v)) return false;
  if (isnan(bv)) return true;
  return v > bv || (v == bv && i < bi);
}

void main() {
  const uint row = flat_group();
  if (row >= N_GROUPS) return;
  const uvec4 ne = TNE(0);
  const uint i1 = row % ne.y, i2 = (row / ne.y) % ne.z, i3 = row / (ne.y * ne.z);
  const uint tid = gl_LocalInvocationID.x;
  float bv = 0.0;
  uint bi = 0xffffffffu;
  bool have = false;
  for (uint i = tid; i < ne.x; i += 128u) {
    const float v = load_at(0, uvec4(i, i1, i2, i3));
    if (!have || better(v, i, bv, bi)) {
      bv = v;
      bi = i;
      have = true;
    }
  }
  if (!have) bv = uintBitsToFloat(0x7fc00000u);  // an empty slot loses to anything
  s_val[tid] = bv;
  s_idx[tid] = bi;
  barrier();
  for (uint s = 64u; s > 0u; s >>= 1) {
    if (tid < s && better(s_val[tid + s], s_idx[tid + s], s_val[tid], s_idx[tid])) {
      s_val[tid] = s_val[tid + s];
      s_idx[tid] = s_idx[tid + s];
    }
    barrier();
  }
  if (tid == 0u) {
    const uint best = s_idx[0] == 0xffffffffu || isnan(s_val[0]) ? 0u : s_idx[0];
    t32[TOUT].w[elem_byte(TOUT, i1, i2, i3, 0u) >> 2] = best;
  }
}
