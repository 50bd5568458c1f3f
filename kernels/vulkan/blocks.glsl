// The GGUF block formats as the Vulkan kernels read them: the one GLSL
// statement of each layout (the host's is tessera/kit/quant.h; the comments name its
// helpers, kernels/gpu/block_formats.h is the CUDA/HIP side). Included by
// common.glsl after the tensor bindings.
//
// Every format is read in 32-element chunks: a q8_0 / q4_0 / q4_1 / q5_0 /
// q5_1 block is one chunk, a k-quant super-block eight (chunk c covers
// elements 32c .. 32c + 31). read_chunk gives a chunk as 32 unsigned quant
// bytes and an affine map per 16 elements, value = d[h] * q + m[h], so the
// matmul kernels do their dot products on the bytes and apply the scales once
// per half (the 16-element sub-blocks of q2_K, q3_K and q6_K have a scale of
// their own; the others have the same d and m in both halves).
//
// Blocks of 18, 22, 110 or 210 bytes leave every other block only 2-byte
// aligned, so every field is read through words that lie inside it (16-bit
// words at its ends when it starts mid-word), never past the block.
//
// The dtype argument is a compile-time or specialization constant in every
// caller, so the format branches fold away.

// Bytes of one block of dtype dt; 0 when dt is not a block format.
uint block_bytes(uint dt) {
  return dt == DT_Q8_0   ? 34u
         : dt == DT_Q4_0 ? 18u
         : dt == DT_Q4_1 ? 20u
         : dt == DT_Q5_0 ? 22u
         : dt == DT_Q5_1 ? 24u
         : dt == DT_Q2_K ? 84u
         : dt == DT_Q3_K ? 110u
         : dt == DT_Q4_K ? 144u
         : dt == DT_Q5_K ? 176u
         : dt == DT_Q6_K ? 210u
                         : 0u;
}
bool is_block_type(uint dt) { return block_bytes(dt) != 0u; }
// Elements per block: 256 for the k-quants, 32 for the other block formats.
uint block_elems(uint dt) { return dt >= DT_Q2_K && dt <= DT_Q6_K ? 256u : 32u; }

// One 32-element chunk: element e (0..31) is d[e / 16] * q + m[e / 16], q the
// unsigned byte e % 16 of q[e / 16] (byte j of a uvec4 is byte j % 4 of word
// j / 4).
struct Chunk {
  vec2 d, m;
  uvec4 q[2];
};

uint half_at(uint t, uint byte) { return uint(t16[t].h[byte >> 1]); }
float half_float(uint t, uint byte) { return unpackHalf2x16(half_at(t, byte)).x; }

// The nb bytes (even, 4 .. 36) at `byte` (2-byte aligned) of tensor t, as
// words: s[i] holds span bytes 4i .. 4i + 3. Read as the (nb - 2) / 4 whole
// words inside the span and one or two 16-bit words at its ends, whether or
// not it starts on a word (the same loads either way, so lanes of one
// subgroup at both phases do not diverge): a 34-byte q8_0 block is 9 loads,
// 32 quant bytes 9, an 18-byte q4_0 block 5.
#define SPAN_WORDS 9
void load_span(uint t, uint byte, uint nb, out uint s[SPAN_WORDS]) {
  const bool mid = (byte & 2u) != 0u;
  const uint nw = (nb - 2u) / 4u;   // whole words inside
  const uint w = (byte + 2u) >> 2;  // the first of them
  const bool two_halves = nb % 4u == 0u;
  // Aligned, the words cover bytes 0 .. 4 nw - 1 and the halves the rest;
  // mid-word, they cover 2 .. 4 nw + 1, ha bytes 0..1 and hb the last two.
  const uint ha = half_at(t, mid ? byte : byte + 4u * nw);
  const uint hb = two_halves ? half_at(t, byte + nb - 2u) : 0u;
  uint a[SPAN_WORDS];
  [[unroll]] for (uint i = 0; i < SPAN_WORDS; ++i) a[i] = i < nw ? t32[t].w[w + i] : 0u;
  [[unroll]] for (uint i = 0; i < SPAN_WORDS; ++i) {
    const uint next = i < nw ? a[i] : hb;
    s[i] = mid ? (i == 0u ? ha : a[i - 1u] >> 16) | (next << 16) : (i < nw ? a[i] : ha | (hb << 16));
  }
}

// Span bytes o .. o + 3 (o even) of a load_span.
uint span_word(uint s[SPAN_WORDS], uint o) {
  return o % 4u == 0u ? s[o / 4u] : (s[o / 4u] >> 16) | (s[o / 4u + 1u] << 16);
}
// Span bytes o .. o + 15 (o even).
uvec4 span_words4(uint s[SPAN_WORDS], uint o) {
  return uvec4(span_word(s, o), span_word(s, o + 4u), span_word(s, o + 8u), span_word(s, o + 12u));
}

// 32 quant bytes at `byte` (2-byte aligned).
void load_quants(uint t, uint byte, out uvec4 q[2]) {
  uint s[SPAN_WORDS];
  load_span(t, byte, 32u, s);
  q[0] = uvec4(s[0], s[1], s[2], s[3]);
  q[1] = uvec4(s[4], s[5], s[6], s[7]);
}

// Bits 0..3 of each x to bit 0 of its bytes 0..3.
uvec4 spread4(uvec4 x) { return (x & 1u) | ((x & 2u) << 7) | ((x & 4u) << 14) | ((x & 8u) << 21); }

// Bits `shift` .. shift + width of every byte of q (shift + width <= 8), at bit 0.
void bit_field(inout uvec4 q[2], uint shift, uint width) {
  const uint m = ((1u << width) - 1u) * 0x01010101u;
  q[0] = (q[0] >> shift) & m;
  q[1] = (q[1] >> shift) & m;
}

// Chunk c of the block of dtype dt at byte bb of tensor t (c = 0 for the
// 32-element formats).
Chunk read_chunk(uint t, uint dt, uint bb, uint c) {
  Chunk ch;
  if (dt == DT_Q8_0 || dt == DT_Q4_0 || dt == DT_Q4_1 || dt == DT_Q5_0 || dt == DT_Q5_1) {
    // The whole block in one span. q8_0: d, int8 qs[32], the sign bit
    // flipped making q + 128. q4_0: d, qs[16]; q4_1: d, m, qs[16]; q5_0: d,
    // qh[4], qs[16]; q5_1: d, m, qh[4], qs[16]: element j is the low nibble
    // of qs[j], j + 16 the high one (q5_at), and bit j of the little-endian
    // qh word bit 4 of element j.
    uint s[SPAN_WORDS];
    load_span(t, bb, block_bytes(dt), s);
    const float d = unpackHalf2x16(s[0]).x;
    ch.d = vec2(d);
    if (dt == DT_Q8_0) {
      ch.q[0] = span_words4(s, 2u) ^ 0x80808080u;
      ch.q[1] = span_words4(s, 18u) ^ 0x80808080u;
      ch.m = vec2(-128.0 * d);
    } else {
      const bool has_min = dt == DT_Q4_1 || dt == DT_Q5_1;
      const bool five = dt == DT_Q5_0 || dt == DT_Q5_1;
      const uint qh_at = has_min ? 4u : 2u;
      const uvec4 nib = span_words4(s, qh_at + (five ? 4u : 0u));
      ch.q[0] = nib & 0x0f0f0f0fu;
      ch.q[1] = (nib >> 4) & 0x0f0f0f0fu;
      if (five) {
        const uvec4 qh = uvec4(span_word(s, qh_at)) >> uvec4(0u, 4u, 8u, 12u);
        ch.q[0] |= spread4(qh) << 4;
        ch.q[1] |= spread4(qh >> 16) << 4;
      }
      ch.m = vec2(has_min ? unpackHalf2x16(s[0]).y : (five ? -16.0 : -8.0) * d);
    }
  } else if (dt == DT_Q2_K) {
    // scales[16] (per 16 elements: low nibble scale, high nibble min),
    // qs[64], d, dmin; q2k_q: bit pair c % 4 of qs[32 (c / 4) + l].
    load_quants(t, bb + 16u + 32u * (c / 4u), ch.q);
    bit_field(ch.q, 2u * (c % 4u), 2u);
    const uint sm = half_at(t, bb + 2u * c);  // sub-blocks 2c, 2c + 1
    ch.d = half_float(t, bb + 80u) * vec2(sm & 15u, (sm >> 8) & 15u);
    ch.m = -half_float(t, bb + 82u) * vec2((sm >> 4) & 15u, sm >> 12);
  } else if (dt == DT_Q3_K) {
    // hmask[32], qs[64], scales[12], d; q3k_q: q2_K's bit pair, minus 4 where
    // bit c of hmask[l] is clear (so q + 4 has it as bit 2). q3k_scale of
    // sub-blocks 2c, 2c + 1: low nibbles c / 4 of bytes 2c % 8, + 1, top bit
    // pairs c / 2 of bytes 8 + 2c % 4, + 1.
    load_quants(t, bb + 32u + 32u * (c / 4u), ch.q);
    bit_field(ch.q, 2u * (c % 4u), 2u);
    uvec4 hm[2];
    load_quants(t, bb, hm);
    bit_field(hm, c, 1u);
    ch.q[0] |= hm[0] << 2;
    ch.q[1] |= hm[1] << 2;
    const uint lo = half_at(t, bb + 96u + (2u * c) % 8u) >> (4u * (c / 4u));
    const uint hi = half_at(t, bb + 104u + (2u * c) % 4u) >> (2u * (c / 2u));
    const ivec2 sc = ivec2((lo & 15u) | ((hi & 3u) << 4), ((lo >> 8) & 15u) | (((hi >> 8) & 3u) << 4)) - 32;
    ch.d = half_float(t, bb + 108u) * vec2(sc);
    ch.m = -4.0 * ch.d;
  } else if (dt == DT_Q4_K || dt == DT_Q5_K) {
    // d, dmin, scales[12], (q5_K: qh[32],) qs[128]; q4k_q: nibble c % 2 of
    // qs[32 (c / 2) + l]; q5k_q adds bit c of qh[l] as bit 4.
    load_quants(t, bb + (dt == DT_Q5_K ? 48u : 16u) + 32u * (c / 2u), ch.q);
    bit_field(ch.q, 4u * (c % 2u), 4u);
    if (dt == DT_Q5_K) {
      uvec4 qh[2];
      load_quants(t, bb + 16u, qh);
      bit_field(qh, c, 1u);
      ch.q[0] |= qh[0] << 4;
      ch.q[1] |= qh[1] << 4;
    }
    // k4_scale_min of sub-block c from scales bytes c % 4, + 4, + 8: c < 4
    // has its scale and min in the low 6 bits of the first two; c >= 4 their
    // low 4 bits in the nibbles of the third, top 2 bits in the first two's
    // spare top bits.
    // (Loaded and selected without a branch: the lanes of a matmul take
    // different chunks.)
    const uint j = c % 4u;
    const uint b0 = byte_at(t, bb + 4u + j), b1 = byte_at(t, bb + 8u + j), b2 = byte_at(t, bb + 12u + j);
    const bool lo4 = c < 4u;
    const uint sc = lo4 ? b0 & 63u : (b2 & 15u) | ((b0 >> 6) << 4);
    const uint mn = lo4 ? b1 & 63u : (b2 >> 4) | ((b1 >> 6) << 4);
    const vec2 dm = unpackHalf2x16(half_at(t, bb) | (half_at(t, bb + 2u) << 16));
    ch.d = vec2(dm.x * float(sc));
    ch.m = vec2(-dm.y * float(mn));
  } else if (dt == DT_Q6_K) {
    // ql[128], qh[64], int8 scales[16], d; q6k_q: half h = c / 4, t = c % 4:
    // nibble t / 2 of ql[64 h + 32 (t % 2) + l] and bits 2t, 2t + 1 of
    // qh[32 h + l] as bits 4, 5, minus 32.
    const uint h = c / 4u, tt = c % 4u;
    load_quants(t, bb + 64u * h + 32u * (tt % 2u), ch.q);
    bit_field(ch.q, 4u * (tt / 2u), 4u);
    uvec4 qh[2];
    load_quants(t, bb + 128u + 32u * h, qh);
    bit_field(qh, 2u * tt, 2u);
    ch.q[0] |= qh[0] << 4;
    ch.q[1] |= qh[1] << 4;
    const uint sc = half_at(t, bb + 192u + 2u * c);  // int8 scales of sub-blocks 2c, 2c + 1
    ch.d = half_float(t, bb + 208u) * vec2((ivec2(sc << 24, sc << 16) >> 24));
    ch.m = -32.0 * ch.d;
  } else {
    ch.d = ch.m = vec2(0.0);
    ch.q[0] = ch.q[1] = uvec4(0u);
  }
  return ch;
}

// Chunks 2k and 2k + 1 of a q4_K / q5_K block at byte bb: they share the
// 32 quant bytes (low and high nibbles), q5_K's qh bytes and the scale
// words, so a matvec lane that takes the pair reads each of those once
// (14 loads for a q4_K pair instead of 2 x 14 through read_chunk).
// Scales as read_chunk's k4_scale_min; chunk c's bytes are byte c % 4 of
// scale words 0, 1 and 2.
void read_pair_k4(uint t, uint dt, uint bb, uint k, out Chunk c0, out Chunk c1) {
  uvec4 q[2];
  load_quants(t, bb + (dt == DT_Q5_K ? 48u : 16u) + 32u * k, q);
  c0.q[0] = q[0] & 0x0f0f0f0fu;
  c0.q[1] = q[1] & 0x0f0f0f0fu;
  c1.q[0] = (q[0] >> 4) & 0x0f0f0f0fu;
  c1.q[1] = (q[1] >> 4) & 0x0f0f0f0fu;
  if (dt == DT_Q5_K) {
    uvec4 qh[2];
    load_quants(t, bb + 16u, qh);
    c0.q[0] |= ((qh[0] >> (2u * k)) & 0x01010101u) << 4;
    c0.q[1] |= ((qh[1] >> (2u * k)) & 0x01010101u) << 4;
    c1.q[0] |= ((qh[0] >> (2u * k + 1u)) & 0x01010101u) << 4;
    c1.q[1] |= ((qh[1] >> (2u * k + 1u)) & 0x01010101u) << 4;
  }
  uint s[SPAN_WORDS];
  load_span(t, bb, 16u, s);  // d, dmin, scales[12]
  const vec2 dm = unpackHalf2x16(s[0]);
  const bool lo4 = k < 2u;
  [[unroll]] for (uint i = 0; i < 2; ++i) {
    const uint sh = 8u * ((2u * k + i) % 4u);
    const uint b0 = (s[1] >> sh) & 255u, b1 = (s[2] >> sh) & 255u, b2 = (s[3] >> sh) & 255u;
    const uint sc = lo4 ? b0 & 63u : (b2 & 15u) | ((b0 >> 6) << 4);
    const uint mn = lo4 ? b1 & 63u : (b2 >> 4) | ((b1 >> 6) << 4);
    const vec2 d = vec2(dm.x * float(sc)), m = vec2(-dm.y * float(mn));
    if (i == 0u) {
      c0.d = d;
      c0.m = m;
    } else {
      c1.d = d;
      c1.m = m;
    }
  }
}

// q6_K's chunks c and c + 2 (c = 4h + tt, tt < 2) share their ql bytes
// (low and high nibbles) and their qh bytes (bit pairs tt and tt + 2): read
// as one pair, as read_chunk decodes each.
void read_pair_q6k(uint t, uint bb, uint h, uint tt, out Chunk c0, out Chunk c1) {
  uvec4 ql[2], qh[2];
  load_quants(t, bb + 64u * h + 32u * tt, ql);
  load_quants(t, bb + 128u + 32u * h, qh);
  [[unroll]] for (uint i = 0; i < 2; ++i) {
    c0.q[i] = (ql[i] & 0x0f0f0f0fu) | (((qh[i] >> (2u * tt)) & 0x03030303u) << 4);
    c1.q[i] = ((ql[i] >> 4) & 0x0f0f0f0fu) | (((qh[i] >> (2u * tt + 4u)) & 0x03030303u) << 4);
  }
  const float d = half_float(t, bb + 208u);
  const uint c = 4u * h + tt;
  const uint s0 = half_at(t, bb + 192u + 2u * c), s1 = half_at(t, bb + 192u + 2u * (c + 2u));
  c0.d = d * vec2(ivec2(s0 << 24, s0 << 16) >> 24);
  c1.d = d * vec2(ivec2(s1 << 24, s1 << 16) >> 24);
  c0.m = -32.0 * c0.d;
  c1.m = -32.0 * c1.d;
}

// Pair p (0..3) of a q4_K / q5_K / q6_K super-block at byte bb, as chunks
// c0 and c1 (pair_chunks gives their indices in the super-block).
void pair_chunks(uint dt, uint p, out uint c0, out uint c1) {
  c0 = dt == DT_Q6_K ? 4u * (p / 2u) + p % 2u : 2u * p;
  c1 = dt == DT_Q6_K ? c0 + 2u : c0 + 1u;
}
void read_pair(uint t, uint dt, uint bb, uint p, out Chunk c0, out Chunk c1) {
  if (dt == DT_Q6_K)
    read_pair_q6k(t, bb, p / 2u, p % 2u, c0, c1);
  else
    read_pair_k4(t, dt, bb, p, c0, c1);
}

// Bytes of quant word u as floats.
vec4 bytes4(uint u) { return vec4((uvec4(u) >> uvec4(0u, 8u, 16u, 24u)) & 0xffu); }

// Elements 4i .. 4i + 3 (lo) and 16 + 4i .. 16 + 4i + 3 (hi) of a chunk, as
// one fused multiply-add each: one rounding, as the kit quant.h's decoders (their
// scale products and offsets are exact in f32).
void chunk_quad(Chunk ch, uint i, out vec4 lo, out vec4 hi) {
  lo = fma(vec4(ch.d.x), bytes4(ch.q[0][i]), vec4(ch.m.x));
  hi = fma(vec4(ch.d.y), bytes4(ch.q[1][i]), vec4(ch.m.y));
}

// Element e (0..31) of a chunk.
float chunk_elem(Chunk ch, uint e) {
  const uint h = e / 16u, b = e % 16u;
  const uint q = (ch.q[h][b / 4u] >> (8u * (b % 4u))) & 0xffu;
  return fma(ch.d[h], float(q), ch.m[h]);
}
