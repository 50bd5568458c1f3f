// The GGUF block formats as the kernels in kernels/gpu read them: the one
// device-side statement of each layout (the host's is tessera/kit/quant.h, which
// device code does not include; the comments name its helpers).
//
// Every format is read in 32-element chunks (a q8_0 / q4_0 / q4_1 / q5_0 /
// q5_1 block is one chunk, a k-quant super-block eight) and a chunk in 4
// groups of 8 weights: decode_group<BT> gives one group as f32, so a
// matmul lane or thread decodes its group with a few loads and the group's
// scale once, and a single element (get_rows, cpy) is one group's decode.
// Blocks of 18, 22, 110 or 210 bytes leave rows only 2-byte aligned, so
// multi-byte fields are read as 16-bit words.
#pragma once

#include "gpu/gpu_runtime.h"

namespace tsr::gpu {

// tsr_dtype values (tessera_types.h) without including the C header in
// device code.
enum : int32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  kQ5_0 = 6,
  kQ5_1 = 7,
  kQ8_0 = 8,
  kQ2_K = 10,
  kQ3_K = 11,
  kQ4_K = 12,
  kQ5_K = 13,
  kQ6_K = 14,
  kI8 = 24,
  kI32 = 26,
  kBF16 = 30,
};

constexpr int kQK = 32;     // elements per chunk, and per block of the 32-element formats
constexpr int kGroupN = 8;  // weights per group, 4 groups per chunk

TSR_DEV uint16_t load_u16(const char* p) { return *reinterpret_cast<const uint16_t*>(p); }
TSR_DEV uint32_t load_u8(const char* p) { return *reinterpret_cast<const uint8_t*>(p); }
// 4 bytes at a 2-byte aligned address, little-endian.
TSR_DEV uint32_t load_u32(const char* p) {
  return static_cast<uint32_t>(load_u16(p)) | (static_cast<uint32_t>(load_u16(p + 2)) << 16);
}
TSR_DEV float load_half(const char* p) { return f16_to_f32(load_u16(p)); }

// Bytes and elements per block; kNibblePairs: a group is bytes 4g..4g+3 of
// the quants, element j in the low nibble and j + 16 in the high one (the
// 32-element 4- and 5-bit formats), so the group holds chunk elements
// 4g..4g+3 and 4g+16..4g+19; otherwise a group is elements 8g..8g+7.
template <int32_t BT>
struct Block {
  static constexpr int kBytes = 0;  // not a block format
  static constexpr int kElems = 1;
  static constexpr bool kNibblePairs = false;
};
template <int Bytes, int Elems, bool NibblePairs = false>
struct BlockShape {
  static constexpr int kBytes = Bytes;
  static constexpr int kElems = Elems;
  static constexpr bool kNibblePairs = NibblePairs;
};
template <>
struct Block<kQ8_0> : BlockShape<34, 32> {};
template <>
struct Block<kQ4_0> : BlockShape<18, 32, true> {};
template <>
struct Block<kQ4_1> : BlockShape<20, 32, true> {};
template <>
struct Block<kQ5_0> : BlockShape<22, 32, true> {};
template <>
struct Block<kQ5_1> : BlockShape<24, 32, true> {};
template <>
struct Block<kQ2_K> : BlockShape<84, 256> {};
template <>
struct Block<kQ3_K> : BlockShape<110, 256> {};
template <>
struct Block<kQ4_K> : BlockShape<144, 256> {};
template <>
struct Block<kQ5_K> : BlockShape<176, 256> {};
template <>
struct Block<kQ6_K> : BlockShape<210, 256> {};

// Where in its chunk weight i (0..7) of group g (0..3) sits, and back.
template <int32_t BT>
TSR_DEV int group_pos(int g, int i) {
  if constexpr (Block<BT>::kNibblePairs) return i < 4 ? 4 * g + i : 16 + 4 * g + (i - 4);
  return kGroupN * g + i;
}
template <int32_t BT>
TSR_DEV void group_of(int l, int& g, int& i) {
  if constexpr (Block<BT>::kNibblePairs) {
    g = (l % 16) / 4;
    i = l % 4 + (l < 16 ? 0 : 4);
  } else {
    g = l / kGroupN;
    i = l % kGroupN;
  }
}

// 8 quants as bytes, quant i in byte i % 4 of word i / 4, so bit fields
// are cut and merged 4 quants per operation.
struct Bytes8 {
  uint32_t w[2];
};
TSR_DEV Bytes8 load_8(const char* p) { return Bytes8{{load_u32(p), load_u32(p + 4)}}; }
// Bits shift .. shift + width of every byte (shift + width <= 8), moved to
// bit `to`.
TSR_DEV Bytes8 bit_field(const Bytes8& b, int shift, int width, int to = 0) {
  const uint32_t m = ((1u << width) - 1u) * 0x01010101u;
  return Bytes8{{((b.w[0] >> shift) & m) << to, ((b.w[1] >> shift) & m) << to}};
}
TSR_DEV Bytes8 operator|(const Bytes8& x, const Bytes8& y) {
  return Bytes8{{x.w[0] | y.w[0], x.w[1] | y.w[1]}};
}
// Bits 0..3 of x to bit 0 of bytes 0..3.
TSR_DEV uint32_t spread4(uint32_t x) {
  return (x & 1u) | ((x & 2u) << 7) | ((x & 4u) << 14) | ((x & 8u) << 21);
}

// Weight i of a group: a * quant i + b as one fused multiply-add, so one
// rounding as the kit quant.h's decoders (their scale products and offsets are
// exact in f32), with the byte made a float by the 2^23 trick (an OR and an
// add, where an integer conversion runs at a quarter rate on NVIDIA).
TSR_DEV void expand(const Bytes8& q, float a, float b, float* v) {
  for (int i = 0; i < kGroupN; ++i) {
    const uint32_t byte = (q.w[i / 4] >> (8 * (i % 4))) & 0xffu;
    v[i] = fmaf(a, bits_to_f32(0x4b000000u | byte) - 8388608.0f, b);
  }
}

// Scale and min of sub-block j (0..7) of q4_K / q5_K (k4_scale_min): 6 bits
// each; j < 4 in the low 6 bits of bytes j and j + 4, j >= 4 low 4 bits in
// byte j + 4 and top 2 bits in the spare top bits of bytes j - 4 / j.
TSR_DEV void k4_scale_min(const char* s, int j, int& sc, int& m) {
  if (j < 4) {
    sc = static_cast<int>(load_u8(s + j) & 63);
    m = static_cast<int>(load_u8(s + j + 4) & 63);
  } else {
    const uint32_t b = load_u8(s + j + 4);
    sc = static_cast<int>((b & 0x0f) | ((load_u8(s + j - 4) >> 6) << 4));
    m = static_cast<int>((b >> 4) | ((load_u8(s + j) >> 6) << 4));
  }
}

// Signed scale of sub-block j (0..15) of q3_K (q3k_scale): low 4 bits in
// nibble j / 8 of byte j % 8, top 2 bits at bit 2 (j / 4) of byte 8 + j % 4.
TSR_DEV int q3k_scale(const char* s, int j) {
  const uint32_t lo = (load_u8(s + j % 8) >> (4 * (j / 8))) & 0x0f;
  const uint32_t hi = (load_u8(s + 8 + j % 4) >> (2 * (j / 4))) & 3;
  return static_cast<int>(lo | (hi << 4)) - 32;
}

// The 8 weights of group g (0..3) of chunk c (0 .. kElems / 32 - 1) of the
// block at p, as f32 in group_pos order. Byte offsets are tessera/kit/quant.h's
// Block* structs; the k-quant element orders are its q*k_q helpers.
template <int32_t BT>
TSR_DEV void decode_group(const char* p, int c, int g, float* v) {
  Bytes8 q;
  float a = 0.0f, b = 0.0f;
  if constexpr (BT == kQ8_0) {  // d, int8 qs[32]; the sign bit flipped: q + 128
    q = load_8(p + 2 + kGroupN * g);
    q.w[0] ^= 0x80808080u;
    q.w[1] ^= 0x80808080u;
    a = load_half(p);
    b = -128.0f * a;
  } else if constexpr (Block<BT>::kNibblePairs) {
    // q4_0: d, qs[16]; q4_1: d, m, qs[16]; q5_0: d, qh[4], qs[16]; q5_1: d,
    // m, qh[4], qs[16]. Bit j of the qh word is bit 4 of element j. value =
    // q d + m, with m = -8 d (q4_0) or -16 d (q5_0).
    constexpr bool kMin = BT == kQ4_1 || BT == kQ5_1;
    constexpr bool k5 = BT == kQ5_0 || BT == kQ5_1;
    constexpr int kQh = kMin ? 4 : 2;
    constexpr int kQs = kQh + (k5 ? 4 : 0);
    const uint32_t nib = load_u32(p + kQs + 4 * g);
    q = Bytes8{{nib & 0x0f0f0f0fu, (nib >> 4) & 0x0f0f0f0fu}};
    if constexpr (k5) {
      const uint32_t qh = load_u32(p + kQh) >> (4 * g);
      q.w[0] |= spread4(qh) << 4;
      q.w[1] |= spread4(qh >> 16) << 4;
    }
    a = load_half(p);
    b = kMin ? load_half(p + 2) : (k5 ? -16.0f : -8.0f) * a;
  } else if constexpr (BT == kQ2_K) {
    // scales[16] (per 16 elements: low nibble scale, high nibble min),
    // qs[64], d, dmin; q2k_q: bit pair c % 4 of qs[32 (c / 4) + l].
    const uint32_t sm = load_u8(p + 2 * c + g / 2);
    q = bit_field(load_8(p + 16 + 32 * (c / 4) + kGroupN * g), 2 * (c % 4), 2);
    a = load_half(p + 80) * static_cast<float>(sm & 0x0f);
    b = -load_half(p + 82) * static_cast<float>(sm >> 4);
  } else if constexpr (BT == kQ3_K) {
    // hmask[32], qs[64], scales[12], d; q3k_q: q2_K's bit pair, minus 4
    // where bit c of hmask[l] is clear (so q + 4 has it as bit 2).
    q = bit_field(load_8(p + 32 + 32 * (c / 4) + kGroupN * g), 2 * (c % 4), 2) |
        bit_field(load_8(p + kGroupN * g), c, 1, 2);
    a = load_half(p + 108) * static_cast<float>(q3k_scale(p + 96, 2 * c + g / 2));
    b = -4.0f * a;
  } else if constexpr (BT == kQ4_K || BT == kQ5_K) {
    // d, dmin, scales[12], (q5_K: qh[32],) qs[128]; q4k_q: nibble c % 2 of
    // qs[32 (c / 2) + l]; q5k_q adds bit c of qh[l] as bit 4.
    constexpr int kQs = BT == kQ5_K ? 48 : 16;
    q = bit_field(load_8(p + kQs + 32 * (c / 2) + kGroupN * g), 4 * (c % 2), 4);
    if constexpr (BT == kQ5_K) q = q | bit_field(load_8(p + 16 + kGroupN * g), c, 1, 4);
    int sc = 0, mn = 0;
    k4_scale_min(p + 4, c, sc, mn);
    a = load_half(p) * static_cast<float>(sc);
    b = -load_half(p + 2) * static_cast<float>(mn);
  } else if constexpr (BT == kQ6_K) {
    // ql[128], qh[64], int8 scales[16], d; q6k_q: half h = c / 4, t = c % 4:
    // nibble t / 2 of ql[64 h + 32 (t % 2) + l] and bits 2t, 2t + 1 of
    // qh[32 h + l] as bits 4, 5, minus 32.
    const int h = c / 4, t = c % 4;
    q = bit_field(load_8(p + 64 * h + 32 * (t % 2) + kGroupN * g), 4 * (t / 2), 4) |
        bit_field(load_8(p + 128 + 32 * h + kGroupN * g), 2 * t, 2, 4);
    a = load_half(p + 208) * static_cast<float>(static_cast<int8_t>(load_u8(p + 192 + 2 * c + g / 2)));
    b = -32.0f * a;
  } else {
    static_assert(Block<BT>::kBytes != 0, "not a block format");
  }
  expand(q, a, b, v);
}

// Element k (0 .. kElems - 1) of the block at p.
template <int32_t BT>
TSR_DEV float block_elem(const char* p, int k) {
  int g = 0, i = 0;
  group_of<BT>(k % kQK, g, i);
  float v[kGroupN];
  decode_group<BT>(p, k / kQK, g, v);
  return v[i];
}

// Runs Op::run<BT>(args...) for the block format of runtime dtype dt, or
// Op::run<kF32> for any other dtype: the one list of the block formats the
// kernels read, for kernels that take any dtype (a branch uniform across a
// launch).
template <class Op, class... Args>
TSR_DEV auto with_format(int32_t dt, Args... args) {
  switch (dt) {
    case kQ8_0:
      return Op::template run<kQ8_0>(args...);
    case kQ4_0:
      return Op::template run<kQ4_0>(args...);
    case kQ4_1:
      return Op::template run<kQ4_1>(args...);
    case kQ5_0:
      return Op::template run<kQ5_0>(args...);
    case kQ5_1:
      return Op::template run<kQ5_1>(args...);
    case kQ2_K:
      return Op::template run<kQ2_K>(args...);
    case kQ3_K:
      return Op::template run<kQ3_K>(args...);
    case kQ4_K:
      return Op::template run<kQ4_K>(args...);
    case kQ5_K:
      return Op::template run<kQ5_K>(args...);
    case kQ6_K:
      return Op::template run<kQ6_K>(args...);
    default:
      return Op::template run<kF32>(args...);
  }
}

struct BlockElemsOp {
  template <int32_t BT>
  TSR_DEV static int run() {
    return Block<BT>::kElems;
  }
};
struct BlockElemOp {
  template <int32_t BT>
  TSR_DEV static float run(const char* p, int k) {
    if constexpr (Block<BT>::kBytes == 0)
      return 0.0f;
    else
      return block_elem<BT>(p, k);
  }
};

// Elements per block of dtype dt (1 for a non-block dtype).
TSR_DEV int block_elems(int32_t dt) { return with_format<BlockElemsOp>(dt); }
TSR_DEV bool is_block(int32_t dt) { return block_elems(dt) > 1; }
// Element k of the dt block at p (dt a block format).
TSR_DEV float block_elem(int32_t dt, const char* p, int k) { return with_format<BlockElemOp>(dt, p, k); }

}  // namespace tsr::gpu
