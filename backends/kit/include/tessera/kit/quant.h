// GGUF block formats, byte-compatible with GGUF files so weights are used in
// place. Layouts are fixed by the file format; see tsr_dtype.
#pragma once

#include <cstdint>

namespace tsr {

constexpr int kQK = 32;    // elements per block for q8_0, q4_0, q4_1, q5_0, q5_1
constexpr int kQKK = 256;  // elements per super-block of the k-quants

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
// 5-bit: the low 4 bits as in q4_0 (element j low nibble of qs[j], j + 16
// the high nibble) and bit 4 of element j in bit j of qh (little-endian u32).
struct BlockQ5_0 {
  uint16_t d;  // value = (q - 16) * d
  uint8_t qh[4];
  uint8_t qs[kQK / 2];
};
struct BlockQ5_1 {
  uint16_t d;  // value = q * d + m
  uint16_t m;
  uint8_t qh[4];
  uint8_t qs[kQK / 2];
};

// k-quants: 256-element super-blocks with f16 super-scales and small integer
// sub-block scales. Element orders are spelled out in quant_k.cpp's decoders.
struct BlockQ2_K {
  uint8_t scales[kQKK / 16];  // per 16 elements: low nibble scale, high nibble min
  uint8_t qs[kQKK / 4];       // 2-bit quants
  uint16_t d;                 // f16 super-scale of the scales
  uint16_t dmin;              // f16 super-scale of the mins
};
struct BlockQ3_K {
  uint8_t hmask[kQKK / 8];  // bit 2 of each quant (set: +0, clear: -4)
  uint8_t qs[kQKK / 4];     // low 2 bits
  uint8_t scales[12];       // 16 6-bit scales, stored + 32
  uint16_t d;
};
struct BlockQ4_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[12];  // 8 6-bit (scale, min) pairs, one per 32 elements
  uint8_t qs[kQKK / 2];
};
struct BlockQ5_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[12];
  uint8_t qh[kQKK / 8];  // bit 4 of each quant
  uint8_t qs[kQKK / 2];
};
struct BlockQ6_K {
  uint8_t ql[kQKK / 2];      // low 4 bits
  uint8_t qh[kQKK / 4];      // high 2 bits
  int8_t scales[kQKK / 16];  // per 16 elements
  uint16_t d;
};
struct BlockQ8_K {
  float d;
  int8_t qs[kQKK];
  int16_t bsums[kQKK / 16];  // sum of each 16 quants
};

static_assert(sizeof(BlockQ8_0) == 34);
static_assert(sizeof(BlockQ4_0) == 18);
static_assert(sizeof(BlockQ4_1) == 20);
static_assert(sizeof(BlockQ5_0) == 22 && sizeof(BlockQ5_1) == 24);
static_assert(sizeof(BlockQ2_K) == 84 && sizeof(BlockQ3_K) == 110 && sizeof(BlockQ4_K) == 144);
static_assert(sizeof(BlockQ5_K) == 176 && sizeof(BlockQ6_K) == 210 && sizeof(BlockQ8_K) == 292);

// Scale and min of sub-block j (0..7) of q4_K / q5_K: 6 bits each. j < 4 sit
// in the low 6 bits of bytes j and j + 4; j >= 4 keep their low 4 bits in
// byte j + 4 and their top 2 bits in the spare top bits of bytes j - 4 / j.
inline void k4_scale_min(int j, const uint8_t* s, int& sc, int& m) {
  if (j < 4) {
    sc = s[j] & 63;
    m = s[j + 4] & 63;
  } else {
    sc = (s[j + 4] & 0x0f) | ((s[j - 4] >> 6) << 4);
    m = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
  }
}

// Signed scale of sub-block j (0..15) of q3_K: the low 4 bits are nibble
// j / 8 of byte j % 8, the top 2 bits are bits 2 (j / 4) of byte 8 + j % 4.
inline int q3k_scale(int j, const uint8_t* s) {
  const int lo = (s[j % 8] >> (4 * (j / 8))) & 0x0f;
  const int hi = (s[8 + j % 4] >> (2 * (j / 4))) & 3;
  return (lo | (hi << 4)) - 32;
}

// The 5-bit quant (0..31) of element j of a q5_0 / q5_1 block, qh its
// high-bit word.
inline int q5_at(const uint8_t* qs, uint32_t qh, int j) {
  const int lo = j < kQK / 2 ? qs[j] & 0x0f : qs[j - kQK / 2] >> 4;
  return lo | static_cast<int>(((qh >> j) & 1u) << 4);
}

// k-quant layouts: each super-block is read as eight chunks of 32 consecutive
// elements; chunk c (0..7) covers sub-blocks 2c and 2c + 1 (16-element
// formats: q2_K, q3_K, q6_K) or sub-block c (q4_K, q5_K). These give the
// quant of element l (0..31) of chunk c; codecs and kernels follow them.

// q2_K: bytes 32 (c / 4) .. + 31, bit pair c % 4.
inline int q2k_q(const BlockQ2_K& b, int c, int l) { return (b.qs[32 * (c / 4) + l] >> (2 * (c % 4))) & 3; }

// q3_K: the same two low bits, and bit c of hmask[l] (clear means -4).
inline int q3k_q(const BlockQ3_K& b, int c, int l) {
  const int lo = (b.qs[32 * (c / 4) + l] >> (2 * (c % 4))) & 3;
  return lo - (((b.hmask[l] >> c) & 1) ? 0 : 4);
}

// q4_K: bytes 32 (c / 2) .. + 31, low nibble for even c, high for odd.
inline int q4k_q(const uint8_t* qs, int c, int l) { return (qs[32 * (c / 2) + l] >> (4 * (c % 2))) & 0x0f; }

// q5_K: q4_K's nibble plus bit c of qh[l] as bit 4.
inline int q5k_q(const BlockQ5_K& b, int c, int l) { return q4k_q(b.qs, c, l) | (((b.qh[l] >> c) & 1) << 4); }

// q6_K: half h = c / 4 uses ql[64 h ..], qh[32 h ..], scales[8 h ..]; within
// it, chunk t = c % 4 takes the low (t < 2) or high nibble of ql[64 h + 32 (t % 2) + l]
// and bits 2t, 2t + 1 of qh[32 h + l].
inline int q6k_q(const BlockQ6_K& b, int c, int l) {
  const int h = c / 4, t = c % 4;
  const int lo = (b.ql[64 * h + 32 * (t % 2) + l] >> (4 * (t / 2))) & 0x0f;
  const int hi = (b.qh[32 * h + l] >> (2 * t)) & 3;
  return (lo | (hi << 4)) - 32;
}

// The element of largest magnitude, with its sign (0 for an empty or zero
// row): the symmetric formats map it to their most negative quant.
float signed_absmax(const float* x, int64_t n);

// Reference codecs of the 32-element formats (n is a multiple of 32). Quantization follows the same
// rounding rules as GGUF producers so re-quantizing a dequantized row is stable.
void dequantize_q8_0(const void* src, float* dst, int64_t n);
void dequantize_q4_0(const void* src, float* dst, int64_t n);
void dequantize_q4_1(const void* src, float* dst, int64_t n);
void quantize_q8_0(const float* src, void* dst, int64_t n);
void quantize_q4_0(const float* src, void* dst, int64_t n);
void quantize_q4_1(const float* src, void* dst, int64_t n);
void dequantize_q5_0(const void* src, float* dst, int64_t n);
void dequantize_q5_1(const void* src, float* dst, int64_t n);
void quantize_q5_0(const float* src, void* dst, int64_t n);
void quantize_q5_1(const float* src, void* dst, int64_t n);

// k-quant codecs (n is a multiple of 256), quant_k.cpp. The quantizers search
// each sub-block's scale (and min) for the least squared error, then quantize
// the sub-block scales and requantize the elements against the stored scales.
void dequantize_q2_K(const void* src, float* dst, int64_t n);
void dequantize_q3_K(const void* src, float* dst, int64_t n);
void dequantize_q4_K(const void* src, float* dst, int64_t n);
void dequantize_q5_K(const void* src, float* dst, int64_t n);
void dequantize_q6_K(const void* src, float* dst, int64_t n);
void dequantize_q8_K(const void* src, float* dst, int64_t n);
void quantize_q2_K(const float* src, void* dst, int64_t n);
void quantize_q3_K(const float* src, void* dst, int64_t n);
void quantize_q4_K(const float* src, void* dst, int64_t n);
void quantize_q5_K(const float* src, void* dst, int64_t n);
void quantize_q6_K(const float* src, void* dst, int64_t n);
void quantize_q8_K(const float* src, void* dst, int64_t n);

}  // namespace tsr
