// Bulk conversion between f32 and f16/bf16, plus strided row load/store used
// by every float kernel. F16C/AVX2 paths are chosen at run time, so the binary
// runs on any x86-64; the scalar paths use tessera/kit/half.h and are the reference
// the SIMD paths are tested against.
#pragma once

#include <cstdint>

namespace tsr::cpu {

// CPU features, detected once. TESSERA_CPU_ISA=scalar|avx2 caps what is
// used (read once per process), so every path a machine can run can also be
// tested on it end to end; unknown values are ignored.
bool cpu_has_avx2_fma();
bool cpu_has_f16c();
bool cpu_has_avx512bw();  // AVX-512 F and BW, with AVX2, FMA and F16C
// The SIMD path the kernels dispatch to on this CPU, for reports:
// "avx512bw+avx2+fma+f16c", "avx2+fma+f16c", "avx2+fma" or "scalar". A static string.
const char* cpu_simd_path();

// Contiguous arrays; n is any count.
void f16_to_f32_row(const uint16_t* src, float* dst, int64_t n);
void f32_to_f16_row(const float* src, uint16_t* dst, int64_t n);
void bf16_to_f32_row(const uint16_t* src, float* dst, int64_t n);
void f32_to_bf16_row(const float* src, uint16_t* dst, int64_t n);

// Scalar versions (always available; used by tests and as fallbacks).
void f16_to_f32_row_scalar(const uint16_t* src, float* dst, int64_t n);
void f32_to_f16_row_scalar(const float* src, uint16_t* dst, int64_t n);
void bf16_to_f32_row_scalar(const uint16_t* src, float* dst, int64_t n);
void f32_to_bf16_row_scalar(const float* src, uint16_t* dst, int64_t n);

// Loads n elements of a float-dtype (f32, f16, bf16) row whose elements are
// nb0 bytes apart into dst as f32.
void load_row_f32(const void* src, int64_t nb0, int32_t dtype, int64_t n, float* dst);
// Stores n f32 values into a float-dtype row with element stride nb0.
void store_row_f32(const float* src, void* dst, int64_t nb0, int32_t dtype, int64_t n);
// Like load_row_f32 but also accepts the block formats (q8_0, q4_0, q4_1,
// rows contiguous) and i8/i32; n is a multiple of the block size.
void load_row_any_f32(const void* src, int64_t nb0, int32_t dtype, int64_t n, float* dst);

}  // namespace tsr::cpu
