// Shared by every Tessera compute shader. Included after `#version 450`.
//
// Bindings (set 0), the same for every kernel so one descriptor set layout
// serves all pipelines:
//   binding 0: T32[7]  tensors as 32-bit words   (aliases binding 0 below)
//   binding 0: T16[7]  the same tensors as 16-bit words
//   binding 1: node parameters (uniform, 512 bytes, layout below)
//   binding 2: step parameters (uniform, 16 ints: tsr_step_params values)
// Tensor slots: 0..5 are the node's inputs in order, 6 (TOUT) its output.
// Every tensor is bound from an offset aligned down to the device's storage
// offset alignment; TOFF(t) is the remaining byte offset of element 0.
//
// Node parameter rows (uvec4 each):
//   3t+0: ne[0..3] of tensor t      3t+1: nb[0..3] in bytes
//   3t+2: (offset in bytes, dtype, 0, 0); shaders read the dtype as a
//         specialization constant (TTYPE), the row keeps it for debugging
//   21..24: ip[0..15] as int32      25..26: fp[0..7]
//   27..31: kernel-specific values (KU(k), k in 0..18), set by the encoder;
//           KU(19) is N_GROUPS of a flat dispatch
// The device guarantees 16-bit storage, shaderInt16 and dynamic indexing of
// storage buffer arrays (device_open refuses a device without them).
#extension GL_EXT_shader_16bit_storage : require
#extension GL_EXT_shader_explicit_arithmetic_types_int16 : require
#extension GL_EXT_control_flow_attributes : enable

#define TOUT 6

layout(std430, set = 0, binding = 0) buffer T32 { uint w[]; } t32[7];
layout(std430, set = 0, binding = 0) buffer T16 { uint16_t h[]; } t16[7];
layout(std140, set = 0, binding = 1) uniform NodeParams { uvec4 np[32]; };
layout(std140, set = 0, binding = 2) uniform StepParams { ivec4 sv[4]; };

// dtype ids: tsr_dtype (GGUF's ids)
#define DT_F32 0u
#define DT_F16 1u
#define DT_Q4_0 2u
#define DT_Q4_1 3u
#define DT_Q5_0 6u
#define DT_Q5_1 7u
#define DT_Q8_0 8u
#define DT_Q2_K 10u
#define DT_Q3_K 11u
#define DT_Q4_K 12u
#define DT_Q5_K 13u
#define DT_Q6_K 14u
#define DT_I8 24u
#define DT_I32 26u
#define DT_BF16 30u

#define TNE(t) np[3 * (t) + 0]
#define TNB(t) np[3 * (t) + 1]
#define TOFF(t) np[3 * (t) + 2].x
// The dtype of each slot is a specialization constant (ids 4..10, set by the
// recorder from the bound tensors), so every dtype branch below folds away
// when the pipeline is created: runtime dtype switches cost a lot on drivers
// that execute both sides of a branch (lavapipe: 6x on element-wise ops).
layout(constant_id = 4) const uint DT_SLOT0 = 0u;
layout(constant_id = 5) const uint DT_SLOT1 = 0u;
layout(constant_id = 6) const uint DT_SLOT2 = 0u;
layout(constant_id = 7) const uint DT_SLOT3 = 0u;
layout(constant_id = 8) const uint DT_SLOT4 = 0u;
layout(constant_id = 9) const uint DT_SLOT5 = 0u;
layout(constant_id = 10) const uint DT_SLOT6 = 0u;
uint slot_dtype(uint t) {
  return t == 0u   ? DT_SLOT0
         : t == 1u ? DT_SLOT1
         : t == 2u ? DT_SLOT2
         : t == 3u ? DT_SLOT3
         : t == 4u ? DT_SLOT4
         : t == 5u ? DT_SLOT5
                   : DT_SLOT6;
}
#define TTYPE(t) slot_dtype(t)
#define IP(k) int(np[21 + (k) / 4][(k) % 4])
#define FP(k) uintBitsToFloat(np[25 + (k) / 4][(k) % 4])
#define KU(k) np[27 + (k) / 4][(k) % 4]
#define STEP(k) sv[(k) / 4][(k) % 4]
// Total workgroups of a flat dispatch (Recorder::add_flat); groups past it return.
#define N_GROUPS KU(19)

// Index of this workgroup when the host spread a 1-D range of workgroups
// over x and y because of maxComputeWorkGroupCount (see encoder.h).
uint flat_group() { return gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x; }

// Byte offset of element (i0, i1, i2, i3) of tensor t (not for block dtypes).
uint elem_byte(uint t, uint i0, uint i1, uint i2, uint i3) {
  const uvec4 nb = TNB(t);
  return TOFF(t) + i0 * nb.x + i1 * nb.y + i2 * nb.z + i3 * nb.w;
}

// (i0, i1, i2, i3) of the n-th element of tensor t in row-major ne order.
uvec4 unflatten(uint t, uint n) {
  const uvec4 ne = TNE(t);
  uvec4 i;
  i.x = n % ne.x;
  n /= ne.x;
  i.y = n % ne.y;
  n /= ne.y;
  i.z = n % ne.z;
  i.w = n / ne.z;
  return i;
}

float f16_at(uint t, uint byte) { return unpackHalf2x16(uint(t16[t].h[byte >> 1])).x; }

float load_float(uint t, uint dtype, uint byte) {
  if (dtype == DT_F32) return uintBitsToFloat(t32[t].w[byte >> 2]);
  if (dtype == DT_F16) return f16_at(t, byte);
  if (dtype == DT_BF16) return uintBitsToFloat(uint(t16[t].h[byte >> 1]) << 16);
  if (dtype == DT_I32) return float(int(t32[t].w[byte >> 2]));
  return 0.0;
}

// Round to nearest even, NaN stays a quiet NaN (as tessera/kit/half.h does).
uint16_t f32_to_bf16(float v) {
  const uint u = floatBitsToUint(v);
  if ((u & 0x7fffffffu) > 0x7f800000u) return uint16_t((u >> 16) | 0x40u);
  return uint16_t((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

void store_float(uint t, uint dtype, uint byte, float v) {
  if (dtype == DT_F32) {
    t32[t].w[byte >> 2] = floatBitsToUint(v);
  } else if (dtype == DT_F16) {
    t16[t].h[byte >> 1] = uint16_t(packHalf2x16(vec2(v, 0.0)));
  } else if (dtype == DT_BF16) {
    t16[t].h[byte >> 1] = f32_to_bf16(v);
  } else if (dtype == DT_I32) {
    t32[t].w[byte >> 2] = uint(int(v));
  }
}

// Element (i0..i3) of float tensor t, whatever its float dtype.
float load_at(uint t, uvec4 i) { return load_float(t, TTYPE(t), elem_byte(t, i.x, i.y, i.z, i.w)); }
void store_at(uint t, uvec4 i, float v) { store_float(t, TTYPE(t), elem_byte(t, i.x, i.y, i.z, i.w), v); }

// ---- block formats (GGUF layouts; blocks start on 2-byte boundaries) ----
// Byte j (0-based) of tensor t's memory at `byte`, as a uint 0..255.
uint byte_at(uint t, uint byte) {
  const uint h = uint(t16[t].h[byte >> 1]);
  return (byte & 1u) != 0u ? (h >> 8) : (h & 0xffu);
}

#include "blocks.glsl"

// Element i0 of row (i1, i2, i3) of tensor t, any dtype including blocks.
// For block formats nb.x is the block's byte size.
float load_any(uint t, uvec4 i) {
  const uint dt = TTYPE(t);
  if (is_block_type(dt)) {
    const uvec4 nb = TNB(t);
    const uint n = block_elems(dt);
    const uint bb = TOFF(t) + (i.x / n) * nb.x + i.y * nb.y + i.z * nb.z + i.w * nb.w;
    return chunk_elem(read_chunk(t, dt, bb, (i.x % n) / 32u), i.x % 32u);
  }
  return load_at(t, i);
}
