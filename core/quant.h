// GGUF block formats, byte-compatible with GGUF files so weights are used in
// place. Layouts are fixed by the file format; see tsr_dtype.
#pragma once

#include <cstdint>

namespace tsr {

constexpr int kQK = 32;  // elements per block for q8_0, q4_0, q4_1

struct BlockQ8_0 {
  uint16_t d;  // f16 scale
  int8_t qs[kQK];
};
struct BlockQ4_0 {
  uint16_t d;           // f16 scale; value = (nibble - 8) * d
  uint8_t qs[kQK / 2];  // element j in low nibble of qs[j], j+16 in high nibble
};
struct BlockQ4_1 {
  uint16_t d;  // f16 scale
  uint16_t m;  // f16 min; value = nibble * d + m
  uint8_t qs[kQK / 2];
};
static_assert(sizeof(BlockQ8_0) == 34);
static_assert(sizeof(BlockQ4_0) == 18);
static_assert(sizeof(BlockQ4_1) == 20);

// Reference codecs (n is a multiple of 32). Quantization follows the same
// rounding rules as GGUF producers so re-quantizing a dequantized row is stable.
void dequantize_q8_0(const void* src, float* dst, int64_t n);
void dequantize_q4_0(const void* src, float* dst, int64_t n);
void dequantize_q4_1(const void* src, float* dst, int64_t n);
void quantize_q8_0(const float* src, void* dst, int64_t n);
void quantize_q4_0(const float* src, void* dst, int64_t n);
void quantize_q4_1(const float* src, void* dst, int64_t n);

}  // namespace tsr
