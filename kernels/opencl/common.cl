// Shared by every Tessera OpenCL C kernel (OpenCL C 1.2). The backend builds
// each kernel variant from this file, blocks.cl and the kernel's own file,
// with the variant's defines (backends/opencl/cl_programs.cpp).
//
// Every kernel is `__kernel void tsr_main(TSR_ARGS)`, with the same
// arguments, set once at prepare:
//   t0_ .. t6_  tensor slots: 0..5 the node's inputs in order, 6 (TOUT) its
//               output; each the whole buffer (an unused slot: a dummy one)
//   np          the node's 512-byte parameter block (layout below)
//   sv          the step values (16 ints: tsr_step_params values)
// The parameter block is the one the Vulkan kernels read (common.glsl,
// tessera/kit/dispatch.h), 32-bit words:
//   12t + 0..3: ne[0..3] of tensor t   12t + 4..7: nb[0..3] in bytes
//   12t + 8: byte offset of element 0 in its buffer (low 32 bits)
//   12t + 9: dtype   12t + 10: byte offset, high 32 bits
//   84..99: ip[0..15] as int32   100..107: fp[0..7]
//   108..126: kernel-specific values KU(0..18); KU(19) is N_GROUPS
// TB(t) is slot t's buffer advanced to element 0, so TOFF(t) is 0 here and
// every byte position a kernel computes is relative to element 0 and fits 32
// bits (the host refuses tensors that span 4 GiB or more).
//
// Build defines (the dispatch's constants, as Vulkan's specialization
// constants): SPEC0..SPEC3 (the kernel's own), DT_SLOT0..DT_SLOT6 (the dtype
// of each bound slot), so dtype branches fold away at build time.

#define TOUT 6

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

#ifndef SPEC0
#define SPEC0 0u
#endif
#ifndef SPEC1
#define SPEC1 0u
#endif
#ifndef SPEC2
#define SPEC2 0u
#endif
#ifndef SPEC3
#define SPEC3 0u
#endif
#ifndef DT_SLOT0
#define DT_SLOT0 0u
#endif
#ifndef DT_SLOT1
#define DT_SLOT1 0u
#endif
#ifndef DT_SLOT2
#define DT_SLOT2 0u
#endif
#ifndef DT_SLOT3
#define DT_SLOT3 0u
#endif
#ifndef DT_SLOT4
#define DT_SLOT4 0u
#endif
#ifndef DT_SLOT5
#define DT_SLOT5 0u
#endif
#ifndef DT_SLOT6
#define DT_SLOT6 0u
#endif

#define TSR_ARGS                                                                                      \
  __global uchar *t0_, __global uchar *t1_, __global uchar *t2_, __global uchar *t3_, __global uchar *t4_, \
      __global uchar *t5_, __global uchar *t6_, __constant uint *np, __constant int *sv

#define TSLOT(t) \
  ((t) == 0 ? t0_ : (t) == 1 ? t1_ : (t) == 2 ? t2_ : (t) == 3 ? t3_ : (t) == 4 ? t4_ : (t) == 5 ? t5_ : t6_)
#define TOFF64(t) (((ulong)np[12 * (t) + 10] << 32) | (ulong)np[12 * (t) + 8])
// Slot t's memory from element 0 (bytes).
#define TB(t) (TSLOT(t) + TOFF64(t))
#define TOFF(t) 0u
#define TNE(t) vload4(3 * (t), np)
#define TNB(t) vload4(3 * (t) + 1, np)
#define TTYPE(t)                                                                                   \
  ((t) == 0   ? DT_SLOT0                                                                           \
   : (t) == 1 ? DT_SLOT1                                                                           \
   : (t) == 2 ? DT_SLOT2                                                                           \
   : (t) == 3 ? DT_SLOT3                                                                           \
   : (t) == 4 ? DT_SLOT4                                                                           \
   : (t) == 5 ? DT_SLOT5                                                                           \
              : DT_SLOT6)
#define IP(k) ((int)np[84 + (k)])
#define FP(k) as_float(np[100 + (k)])
#define KU(k) np[108 + (k)]
#define STEP(k) sv[(k)]
// Total workgroups of a flat dispatch (Recorder::add_flat); groups past it return.
#define N_GROUPS KU(19)

// Index of this workgroup when the host spread a 1-D range of workgroups
// over x and y (Recorder::add_flat).
inline uint flat_group(void) { return (uint)(get_group_id(1) * get_num_groups(0) + get_group_id(0)); }

// Byte of element (i0, i1, i2, i3) of tensor t from its element 0 (not for
// block dtypes). A macro: it reads np.
#define elem_byte(t, i0, i1, i2, i3) \
  ((i0) * TNB(t).x + (i1) * TNB(t).y + (i2) * TNB(t).z + (i3) * TNB(t).w)

// (i0, i1, i2, i3) of the n-th element of a tensor of shape ne in row-major
// ne order.
inline uint4 unflatten_ne(uint4 ne, uint n) {
  uint4 i;
  i.x = n % ne.x;
  n /= ne.x;
  i.y = n % ne.y;
  n /= ne.y;
  i.z = n % ne.z;
  i.w = n / ne.z;
  return i;
}
#define unflatten(t, n) unflatten_ne(TNE(t), (n))

inline float f16_at(__global const uchar *b, uint byte) { return vload_half(0, (__global const half *)(b + byte)); }

inline float load_float(__global const uchar *b, uint dtype, uint byte) {
  if (dtype == DT_F32) return *(__global const float *)(b + byte);
  if (dtype == DT_F16) return f16_at(b, byte);
  if (dtype == DT_BF16) return as_float((uint)(*(__global const ushort *)(b + byte)) << 16);
  if (dtype == DT_I32) return (float)(*(__global const int *)(b + byte));
  return 0.0f;
}

// Round to nearest even, NaN stays a quiet NaN (as tessera/kit/half.h does).
inline ushort f32_to_bf16(float v) {
  const uint u = as_uint(v);
  if ((u & 0x7fffffffu) > 0x7f800000u) return (ushort)((u >> 16) | 0x40u);
  return (ushort)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

inline void store_float(__global uchar *b, uint dtype, uint byte, float v) {
  if (dtype == DT_F32) {
    *(__global float *)(b + byte) = v;
  } else if (dtype == DT_F16) {
    vstore_half_rte(v, 0, (__global half *)(b + byte));
  } else if (dtype == DT_BF16) {
    *(__global ushort *)(b + byte) = f32_to_bf16(v);
  } else if (dtype == DT_I32) {
    *(__global int *)(b + byte) = (int)v;
  }
}

// Element i of float tensor t, whatever its float dtype (macros: they read np).
#define load_at(t, i) load_float(TB(t), TTYPE(t), elem_byte(t, (i).x, (i).y, (i).z, (i).w))
#define store_at(t, i, v) store_float(TB(t), TTYPE(t), elem_byte(t, (i).x, (i).y, (i).z, (i).w), (v))
