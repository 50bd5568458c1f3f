// The device side of Tessera's GPU runtime layer: what a kernel in
// kernels/gpu/*.cu may use, written once for three compilers.
//
//   TSR_GPU_CUDA  nvcc, for the CUDA backend
//   TSR_GPU_HIP   hipcc (clang -x hip), for the HIP backend
//   TSR_GPU_EMU   the host C++ compiler, for the kernel emulator that runs
//                 these sources on the CPU in tests (kernels/gpu/emu)
//
// The build defines exactly one. Kernels use the inline functions below, not
// vendor intrinsics, so a kernel compiles for every vendor or for none.
// Warp (wavefront) size is a run-time value: 32 on NVIDIA and RDNA, 64 on
// CDNA (gfx90a), and the emulator runs with either; no kernel assumes 32.
#pragma once

#include <stdint.h>

#include "gpu/kernel_args.h"

#if defined(TSR_GPU_CUDA)
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#elif defined(TSR_GPU_HIP)
#include <hip/hip_fp16.h>
#include <hip/hip_runtime.h>
#elif defined(TSR_GPU_EMU)
#include <cmath>

#include "gpu/emu/emu_runtime.h"
#include "tessera/kit/half.h"
#else
#error "define one of TSR_GPU_CUDA, TSR_GPU_HIP, TSR_GPU_EMU"
#endif

#if defined(TSR_GPU_CUDA) || defined(TSR_GPU_HIP)
#define TSR_DEV __device__ __forceinline__
// A kernel entry point: C linkage so the host finds it by name in the module.
// Every kernel takes the one argument block (kernel_args.h) by value.
#define TSR_KERNEL(name) extern "C" __global__ void name(const ::tsr::gpu::KArgs a)
#define TSR_SHARED(type, name, count) __shared__ type name[count]
#else
#define TSR_DEV inline
#define TSR_KERNEL(name)                                                     \
  static void name##_body(const ::tsr::gpu::KArgs& a);                       \
  static const ::tsr::gpu::emu::Registration name##_reg(#name, name##_body); \
  static void name##_body(const ::tsr::gpu::KArgs& a)
// One copy for all emulated blocks: the emulator runs one block at a time in
// the whole process (emu::launch holds a lock), so a plain static is the
// block's shared memory. (thread_local would do too, but its storage in a
// dlopen'ed plugin outlives dlclose, which LeakSanitizer reports.)
#define TSR_SHARED(type, name, count) static type name[count]
#endif

namespace tsr::gpu {

#if defined(TSR_GPU_EMU)
// The device math library's names, for the host compiler (expf, fmaxf, tanhf
// ... come from <cmath> as they are).
TSR_DEV float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
#endif

// ---- indices ----
#if defined(TSR_GPU_EMU)
TSR_DEV uint32_t thread_x() { return emu::cur().tid; }
TSR_DEV uint32_t block_dim() { return emu::cur().bdim; }
TSR_DEV uint32_t block_x() { return emu::cur().bid[0]; }
TSR_DEV uint32_t block_y() { return emu::cur().bid[1]; }
TSR_DEV uint32_t block_z() { return emu::cur().bid[2]; }
TSR_DEV uint32_t grid_x() { return emu::cur().gdim[0]; }
TSR_DEV uint32_t grid_y() { return emu::cur().gdim[1]; }
TSR_DEV uint32_t warp_size() { return emu::cur().warp; }
TSR_DEV void sync_threads() { emu::block_barrier(); }
#else
TSR_DEV uint32_t thread_x() { return threadIdx.x; }
TSR_DEV uint32_t block_dim() { return blockDim.x; }
TSR_DEV uint32_t block_x() { return blockIdx.x; }
TSR_DEV uint32_t block_y() { return blockIdx.y; }
TSR_DEV uint32_t block_z() { return blockIdx.z; }
TSR_DEV uint32_t grid_x() { return gridDim.x; }
TSR_DEV uint32_t grid_y() { return gridDim.y; }
TSR_DEV uint32_t warp_size() { return warpSize; }
TSR_DEV void sync_threads() { __syncthreads(); }
#endif
TSR_DEV uint32_t lane() { return thread_x() % warp_size(); }
TSR_DEV uint32_t warp_index() { return thread_x() / warp_size(); }
TSR_DEV uint32_t n_warps() { return (block_dim() + warp_size() - 1) / warp_size(); }

// ---- warp shuffles (every lane of the warp must take part) ----
TSR_DEV float shfl_xor(float v, uint32_t mask) {
#if defined(TSR_GPU_CUDA)
  return __shfl_xor_sync(0xffffffffu, v, static_cast<int>(mask));
#elif defined(TSR_GPU_HIP)
  return __shfl_xor(v, static_cast<int>(mask), warpSize);
#else
  return emu::shfl(v, lane() ^ mask);
#endif
}

// v of lane src (in the caller's warp).
TSR_DEV float shfl(float v, uint32_t src) {
#if defined(TSR_GPU_CUDA)
  return __shfl_sync(0xffffffffu, v, static_cast<int>(src));
#elif defined(TSR_GPU_HIP)
  return __shfl(v, static_cast<int>(src), warpSize);
#else
  return emu::shfl(v, src);
#endif
}

// Integer lanes travel as float bit patterns (moved, never computed on).
TSR_DEV int32_t shfl_xor(int32_t v, uint32_t mask);

TSR_DEV float warp_sum(float v) {
  for (uint32_t m = warp_size() / 2; m > 0; m /= 2) v += shfl_xor(v, m);
  return v;
}

TSR_DEV float warp_max(float v) {
  for (uint32_t m = warp_size() / 2; m > 0; m /= 2) v = fmaxf(v, shfl_xor(v, m));
  return v;
}

// Block-wide reductions; every thread of the block calls them and gets the
// result. scratch holds one float per warp (kMaxWarps covers 1024 threads of
// 32-wide warps); it may be reused right after the call returns.
constexpr int kMaxWarps = 32;

TSR_DEV float block_sum(float v, float* scratch) {
  v = warp_sum(v);
  if (n_warps() == 1) return v;
  sync_threads();  // scratch may still be read by a previous call
  if (lane() == 0) scratch[warp_index()] = v;
  sync_threads();
  float t = 0.0f;
  for (uint32_t w = 0; w < n_warps(); ++w) t += scratch[w];
  return t;
}

TSR_DEV float block_max(float v, float* scratch) {
  v = warp_max(v);
  if (n_warps() == 1) return v;
  sync_threads();
  if (lane() == 0) scratch[warp_index()] = v;
  sync_threads();
  float t = scratch[0];
  for (uint32_t w = 1; w < n_warps(); ++w) t = fmaxf(t, scratch[w]);
  return t;
}

// ---- scalar conversions ----
TSR_DEV float f16_to_f32(uint16_t h) {
#if defined(TSR_GPU_EMU)
  return ::tsr::f16_to_f32(h);
#else
  return __half2float(__ushort_as_half(h));
#endif
}

TSR_DEV uint16_t f32_to_f16(float f) {
#if defined(TSR_GPU_EMU)
  return ::tsr::f32_to_f16(f);
#else
  return __half_as_ushort(__float2half_rn(f));
#endif
}

TSR_DEV float bits_to_f32(uint32_t u) {
#if defined(TSR_GPU_EMU)
  return ::tsr::bits_f32(u);
#else
  return __uint_as_float(u);
#endif
}

TSR_DEV uint32_t f32_to_bits(float f) {
#if defined(TSR_GPU_EMU)
  return ::tsr::f32_bits(f);
#else
  return __float_as_uint(f);
#endif
}

TSR_DEV float bf16_to_f32(uint16_t b) { return bits_to_f32(static_cast<uint32_t>(b) << 16); }

// Round to nearest even; NaN stays a quiet NaN (as tessera/kit/half.h).
TSR_DEV uint16_t f32_to_bf16(float f) {
  const uint32_t u = f32_to_bits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40);
  return static_cast<uint16_t>((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

TSR_DEV int32_t shfl_xor(int32_t v, uint32_t mask) {
#if defined(TSR_GPU_CUDA)
  return __shfl_xor_sync(0xffffffffu, v, static_cast<int>(mask));
#elif defined(TSR_GPU_HIP)
  return __shfl_xor(v, static_cast<int>(mask), warpSize);
#else
  return static_cast<int32_t>(f32_to_bits(emu::shfl(bits_to_f32(static_cast<uint32_t>(v)), lane() ^ mask)));
#endif
}

}  // namespace tsr::gpu
