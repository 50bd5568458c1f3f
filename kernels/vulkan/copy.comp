#version 450
// Moves data between tensors of any dtypes: cpy, concat, get_rows, set_rows.
// One unit (an element, or a block of 32 or 256 elements when the
// destination is a block format) per invocation. Slot 0 is the source, 6 the destination.
//   MODE (specialization constant 0): 0 convert through float, 1 raw element
//   copy (same dtype), 2 quantize a block, 3 raw block copy (same dtype).
//   KU(0): units; KU(1): which tensor's shape is iterated (0 source, 6 dest).
//   KU(2): indirection: 0 none; 1 source row = ids[i1, i2, i3] (slot 1,
//   get_rows); 2 destination row = idx[i1, i2?, i3?] (slot 2, set_rows).
#include "common.glsl"

layout(local_size_x = 256) in;
layout(constant_id = 0) const uint MODE = 0;

#define MODE_CONVERT 0u
#define MODE_RAW 1u
#define MODE_QUANTIZE 2u
#define MODE_BLOCK 3u

int id_at(uint t, uint i0, uint i1, uint i2) {
  const uvec4 ne = TNE(t);
  // size-1 dims broadcast (set_rows' idx may be [n] for every batch)
  return int(t32[t].w[elem_byte(t, i0, ne.y == 1u ? 0u : i1, ne.z == 1u ? 0u : i2, 0u) >> 2]);
}

void store_u16(uint t, uint byte, uint v) { t16[t].h[byte >> 1] = uint16_t(v); }

// Rounds half away from zero, as lround does.
int round_away(float v) { return int(sign(v) * floor(abs(v) + 0.5)); }

void quantize_block(uvec4 src, uint dst_byte) {
  const uint dt = TTYPE(TOUT);
  float x[32];
  [[unroll]] for (uint j = 0u; j < 32u; ++j) x[j] = load_any(0, uvec4(src.x + j, src.yzw));
  if (dt == DT_Q8_0) {
    float amax = 0.0;
    for (uint j = 0u; j < 32u; ++j) amax = max(amax, abs(x[j]));
    const float d = amax / 127.0;
    const float id = d != 0.0 ? 1.0 / d : 0.0;
    store_u16(TOUT, dst_byte, packHalf2x16(vec2(d, 0.0)));
    for (uint j = 0u; j < 32u; j += 2u) {
      const uint q0 = uint(round_away(x[j] * id)) & 0xffu;
      const uint q1 = uint(round_away(x[j + 1u] * id)) & 0xffu;
      store_u16(TOUT, dst_byte + 2u + j, q0 | (q1 << 8));
    }
  } else {
    float d, lo = 0.0;
    if (dt == DT_Q4_0) {
      float amax = 0.0, vmax = 0.0;
      for (uint j = 0u; j < 32u; ++j)
        if (abs(x[j]) > amax) {
          amax = abs(x[j]);
          vmax = x[j];
        }
      d = vmax / -8.0;
    } else {
      lo = x[0];
      float hi = x[0];
      for (uint j = 1u; j < 32u; ++j) {
        lo = min(lo, x[j]);
        hi = max(hi, x[j]);
      }
      d = (hi - lo) / 15.0;
    }
    const float id = d != 0.0 ? 1.0 / d : 0.0;
    const float bias = dt == DT_Q4_0 ? 8.5 : 0.5;
    const uint qs = dst_byte + (dt == DT_Q4_0 ? 2u : 4u);
    store_u16(TOUT, dst_byte, packHalf2x16(vec2(d, 0.0)));
    if (dt == DT_Q4_1) store_u16(TOUT, dst_byte + 2u, packHalf2x16(vec2(lo, 0.0)));
    uint pair = 0u;
    for (uint j = 0u; j < 16u; ++j) {
      const uint q0 = uint(min(15, int((x[j] - lo) * id + bias)));
      const uint q1 = uint(min(15, int((x[j + 16u] - lo) * id + bias)));
      const uint byte = q0 | (q1 << 4);
      if ((j & 1u) == 0u) {
        pair = byte;
      } else {
        store_u16(TOUT, qs + j - 1u, pair | (byte << 8));
      }
    }
  }
}

void main() {
  const uint n = flat_group() * 256u + gl_LocalInvocationID.x;
  if (flat_group() >= N_GROUPS || n >= KU(0)) return;
  const bool blocks = MODE == MODE_QUANTIZE || MODE == MODE_BLOCK;
  // Iterate over units: a block counts its 32 or 256 elements along dim 0.
  const uint unit = blocks ? block_elems(TTYPE(TOUT)) : 1u;
  const uint it = KU(1);
  uvec4 ne = TNE(it);
  ne.x /= unit;
  uvec4 i;
  uint m = n;
  i.x = m % ne.x;
  m /= ne.x;
  i.y = m % ne.y;
  m /= ne.y;
  i.z = m % ne.z;
  i.w = m / ne.z;
  i.x *= unit;
  uvec4 s = i, d = i;
  if (KU(2) == 1u) {
    s = uvec4(i.x, uint(id_at(1, i.y, i.z, i.w)), 0u, 0u);
    if (s.y >= TNE(0).y) return;  // out-of-range ids are refused by the graph builder's checks upstream
  } else if (KU(2) == 2u) {
    d = uvec4(i.x, uint(id_at(2, i.y, i.z, i.w)), i.z, i.w);
    if (d.y >= TNE(TOUT).y) return;
  }
  const uvec4 snb = TNB(0), dnb = TNB(TOUT);
  if (MODE == MODE_CONVERT) {
    store_at(TOUT, d, load_any(0, s));
  } else if (MODE == MODE_RAW) {
    const uint sb = elem_byte(0, s.x, s.y, s.z, s.w), db = elem_byte(TOUT, d.x, d.y, d.z, d.w);
    if (TTYPE(0) == DT_F32 || TTYPE(0) == DT_I32)
      t32[TOUT].w[db >> 2] = t32[0].w[sb >> 2];
    else
      t16[TOUT].h[db >> 1] = t16[0].h[sb >> 1];
  } else {
    const uint db = TOFF(TOUT) + (d.x / unit) * dnb.x + d.y * dnb.y + d.z * dnb.z + d.w * dnb.w;
    if (MODE == MODE_QUANTIZE) {
      quantize_block(s, db);
    } else {
      const uint sb = TOFF(0) + (s.x / unit) * snb.x + s.y * snb.y + s.z * snb.z + s.w * snb.w;
      for (uint k = 0u; k < dnb.x; k += 2u) t16[TOUT].h[(db + k) >> 1] = t16[0].h[(sb + k) >> 1];
    }
  }
}
