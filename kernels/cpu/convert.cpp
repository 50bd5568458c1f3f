#include "cpu/convert.h"

#include <cpuid.h>
#include <immintrin.h>

#include <cstdlib>
#include <cstring>
#include <string_view>

#include "cpu/dequant.h"
#include "tessera/kit/dtype.h"
#include "tessera/kit/half.h"
#include "tessera/tessera_types.h"

namespace tsr::cpu {

namespace {

// 0: scalar only, 1: up to AVX2, 2: everything detected.
int isa_cap() {
  static const int cap = [] {
    const char* v = std::getenv("TESSERA_CPU_ISA");
    if (!v) return 2;
    const std::string_view s(v);
    return s == "scalar" ? 0 : s == "avx2" ? 1 : 2;
  }();
  return cap;
}

}  // namespace

bool cpu_has_avx2_fma() {
  static const bool v = isa_cap() >= 1 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return v;
}
bool cpu_has_f16c() {
  // The F16C paths also use AVX2 integer ops for the tails; require both.
  // CPUID directly: clang's __builtin_cpu_supports has no "f16c".
  static const bool v = cpu_has_avx2_fma() && [] {
    unsigned a = 0, b = 0, c = 0, d = 0;
    return __get_cpuid(1, &a, &b, &c, &d) && (c & bit_F16C) != 0;
  }();
  return v;
}
bool cpu_has_avx512bw() {
  static const bool v = isa_cap() >= 2 && cpu_has_f16c() && __builtin_cpu_supports("avx512f") &&
                        __builtin_cpu_supports("avx512bw");
  return v;
}

const char* cpu_simd_path() {
  return cpu_has_avx512bw()   ? "avx512bw+avx2+fma+f16c"
         : cpu_has_f16c()     ? "avx2+fma+f16c"
         : cpu_has_avx2_fma() ? "avx2+fma"
                              : "scalar";
}

void f16_to_f32_row_scalar(const uint16_t* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = f16_to_f32(src[i]);
}
void f32_to_f16_row_scalar(const float* src, uint16_t* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = f32_to_f16(src[i]);
}
void bf16_to_f32_row_scalar(const uint16_t* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_f32(src[i]);
}
void f32_to_bf16_row_scalar(const float* src, uint16_t* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = f32_to_bf16(src[i]);
}

namespace {

__attribute__((target("f16c,avx2"))) void f16_to_f32_f16c(const uint16_t* src, float* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i));
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(h));
  }
  for (; i < n; ++i) dst[i] = _cvtsh_ss(src[i]);
}

__attribute__((target("f16c,avx2"))) void f32_to_f16_f16c(const float* src, uint16_t* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), h);
  }
  // The scalar tail goes through the same instruction so NaN payloads agree.
  for (; i < n; ++i) dst[i] = _cvtss_sh(src[i], _MM_FROUND_TO_NEAREST_INT);
}

__attribute__((target("avx2"))) void bf16_to_f32_avx2(const uint16_t* src, float* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i)));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i), _mm256_slli_epi32(w, 16));
  }
  for (; i < n; ++i) dst[i] = bf16_to_f32(src[i]);
}

// Round to nearest even as tessera/kit/half.h does; NaN becomes (x >> 16) | 0x40.
__attribute__((target("avx2"))) void f32_to_bf16_avx2(const float* src, uint16_t* dst, int64_t n) {
  const __m256i abs_mask = _mm256_set1_epi32(0x7fffffff);
  const __m256i inf = _mm256_set1_epi32(0x7f800000);
  const __m256i bias = _mm256_set1_epi32(0x7fff);
  const __m256i one = _mm256_set1_epi32(1);
  const __m256i quiet = _mm256_set1_epi32(0x40);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i));
    const __m256i is_nan = _mm256_cmpgt_epi32(_mm256_and_si256(x, abs_mask), inf);
    const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(x, 16), one);
    const __m256i rounded = _mm256_srli_epi32(_mm256_add_epi32(x, _mm256_add_epi32(bias, lsb)), 16);
    const __m256i nan_v = _mm256_or_si256(_mm256_srli_epi32(x, 16), quiet);
    __m256i r = _mm256_blendv_epi8(rounded, nan_v, is_nan);
    // Pack 8 x u32 (each < 65536) into 8 x u16.
    r = _mm256_packus_epi32(r, r);
    r = _mm256_permute4x64_epi64(r, 0x08);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), _mm256_castsi256_si128(r));
  }
  for (; i < n; ++i) dst[i] = f32_to_bf16(src[i]);
}

}  // namespace

void f16_to_f32_row(const uint16_t* src, float* dst, int64_t n) {
  if (cpu_has_f16c())
    f16_to_f32_f16c(src, dst, n);
  else
    f16_to_f32_row_scalar(src, dst, n);
}
void f32_to_f16_row(const float* src, uint16_t* dst, int64_t n) {
  if (cpu_has_f16c())
    f32_to_f16_f16c(src, dst, n);
  else
    f32_to_f16_row_scalar(src, dst, n);
}
void bf16_to_f32_row(const uint16_t* src, float* dst, int64_t n) {
  if (cpu_has_avx2_fma())
    bf16_to_f32_avx2(src, dst, n);
  else
    bf16_to_f32_row_scalar(src, dst, n);
}
void f32_to_bf16_row(const float* src, uint16_t* dst, int64_t n) {
  if (cpu_has_avx2_fma())
    f32_to_bf16_avx2(src, dst, n);
  else
    f32_to_bf16_row_scalar(src, dst, n);
}

void load_row_f32(const void* src, int64_t nb0, int32_t dtype, int64_t n, float* dst) {
  const char* p = static_cast<const char*>(src);
  switch (dtype) {
    case TSR_DTYPE_F32:
      if (nb0 == 4) {
        std::memcpy(dst, p, n * sizeof(float));
      } else {
        for (int64_t i = 0; i < n; ++i) std::memcpy(dst + i, p + i * nb0, 4);
      }
      return;
    case TSR_DTYPE_F16:
    case TSR_DTYPE_BF16: {
      const bool f16 = dtype == TSR_DTYPE_F16;
      if (nb0 == 2) {
        const auto* h = reinterpret_cast<const uint16_t*>(p);
        f16 ? f16_to_f32_row(h, dst, n) : bf16_to_f32_row(h, dst, n);
      } else {
        for (int64_t i = 0; i < n; ++i) {
          uint16_t h;
          std::memcpy(&h, p + i * nb0, 2);
          dst[i] = f16 ? f16_to_f32(h) : bf16_to_f32(h);
        }
      }
      return;
    }
    default:
      return;  // callers check dtypes in supports_op
  }
}

void store_row_f32(const float* src, void* dst, int64_t nb0, int32_t dtype, int64_t n) {
  char* p = static_cast<char*>(dst);
  switch (dtype) {
    case TSR_DTYPE_F32:
      if (nb0 == 4) {
        std::memmove(p, src, n * sizeof(float));
      } else {
        for (int64_t i = 0; i < n; ++i) std::memcpy(p + i * nb0, src + i, 4);
      }
      return;
    case TSR_DTYPE_F16:
    case TSR_DTYPE_BF16: {
      const bool f16 = dtype == TSR_DTYPE_F16;
      if (nb0 == 2) {
        auto* h = reinterpret_cast<uint16_t*>(p);
        f16 ? f32_to_f16_row(src, h, n) : f32_to_bf16_row(src, h, n);
      } else {
        for (int64_t i = 0; i < n; ++i) {
          const uint16_t h = f16 ? f32_to_f16(src[i]) : f32_to_bf16(src[i]);
          std::memcpy(p + i * nb0, &h, 2);
        }
      }
      return;
    }
    default:
      return;
  }
}

void load_row_any_f32(const void* src, int64_t nb0, int32_t dtype, int64_t n, float* dst) {
  if (dtype == TSR_DTYPE_F32 || dtype == TSR_DTYPE_F16 || dtype == TSR_DTYPE_BF16) {
    load_row_f32(src, nb0, dtype, n, dst);
    return;
  }
  const DtypeTraits* t = dtype_traits(dtype);
  if (!t || !t->to_float) return;
  if (nb0 == t->block_bytes) {
    if (!dequantize_row_fast(src, dtype, n, dst)) t->to_float(src, dst, n);
    return;
  }
  // Scalar integer types with a strided dim 0.
  const char* p = static_cast<const char*>(src);
  for (int64_t i = 0; i < n / t->block_size; ++i)
    t->to_float(p + i * nb0, dst + i * t->block_size, t->block_size);
}

}  // namespace tsr::cpu
