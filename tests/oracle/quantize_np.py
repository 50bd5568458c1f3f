"""Numpy quantizers for q5_0, q5_1 and the k-quants q2_K..q6_K.

    quantize(x, qtype) -> uint8 [..., n / block elements * block bytes]

x is float32 [..., n] with n a multiple of the block (32 for q5_0 / q5_1, 256
for the k-quants); the result holds each row's blocks in the GGUF layout, the
form GGUFWriter.add_tensor(..., raw_dtype=qtype) takes. make_tiny.py uses these
for the types gguf.quants (0.19.0) cannot quantize; dequant_check.py checks
that oracle.dequantize and gguf.quants.dequantize read back what was meant.

The scale choice is deliberately simple, not llama.cpp's error-minimising
search: every sub-block is quantized from its own range (min/max, or the
signed value of largest magnitude). The f16 super-block scales and the small
integer sub-block scales are rounded up, never down, so each sub-block's grid
still spans its range (an affine sub-block: [min, max]; a symmetric one: its
element of largest magnitude); then the elements are requantized against the
scales exactly as the decoder will compute them. Element orders and bit
positions are the ones oracle.py's decoders spell out.
"""
from __future__ import annotations

import numpy as np

from oracle import BLOCK_BYTES, BLOCK_ELEMS, Q2_K, Q3_K, Q4_K, Q5_0, Q5_1, Q5_K, Q6_K, QK_K, TYPE_NAMES


def _f16_bytes(v: np.ndarray) -> np.ndarray:
    """float [nb] -> little-endian f16 bytes [nb, 2]."""
    return np.ascontiguousarray(v.astype("<f2")).view(np.uint8).reshape(len(v), 2)


def _f16_round(v: np.ndarray) -> np.ndarray:
    """What an f16 field will hold (nearest), as float32."""
    return v.astype(np.float16).astype(np.float32)


def _f16_ceil(v: np.ndarray) -> np.ndarray:
    """The smallest f16 >= v, as float32 (a super-block scale rounded down
    would push the largest sub-block scale past its integer range)."""
    h = v.astype(np.float16)
    h = np.where(h.astype(np.float32) < v, np.nextafter(h, np.float16(np.inf)), h)
    return h.astype(np.float32)


def _pack(fields: np.ndarray, width: int) -> np.ndarray:
    """fields [nb, k, n] of `width` bits each -> uint8 [nb, n]: field k goes to
    bits width*k .. of byte i (the inverse of oracle._fields)."""
    shifts = np.arange(fields.shape[1], dtype=np.uint32)[None, :, None] * width
    return (fields.astype(np.uint32) << shifts).sum(axis=1).astype(np.uint8)


def _signed_absmax(s: np.ndarray) -> np.ndarray:
    """The element of largest magnitude of each row of s [..., n], with its sign."""
    i = np.abs(s).argmax(axis=-1)[..., None]
    return np.take_along_axis(s, i, axis=-1)[..., 0]


def _divide(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a / b, 0 where b is 0 (an all-zero sub-block has scale 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b != 0, a / np.where(b != 0, b, 1), 0).astype(np.float32)


def _quant(v: np.ndarray, lo: int, hi: int) -> np.ndarray:
    return np.clip(np.rint(v), lo, hi).astype(np.int32)


# -- 32-element blocks ---------------------------------------------------------
def _q5_bits(q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """5-bit quants [nb, 32] -> (qh [nb, 4]: bit 4 of element j in bit j of a
    little-endian u32, qs [nb, 16]: element j in the low nibble of qs[j],
    element j + 16 in the high one)."""
    qh = ((q >> 4).astype(np.uint64) << np.arange(32, dtype=np.uint64)).sum(axis=1).astype("<u4")
    qs = _pack((q & 15).reshape(len(q), 2, 16), 4)
    return qh.view(np.uint8).reshape(len(q), 4), qs


def _q5_0(b: np.ndarray) -> np.ndarray:
    # value = d * (q - 16), q 0..31. The element of largest magnitude maps to
    # -16, the level that has no positive mirror (as llama.cpp does).
    d = _f16_round(_signed_absmax(b) / -16.0)
    q = _quant(_divide(b, d[:, None]), -16, 15) + 16
    qh, qs = _q5_bits(q)
    return np.concatenate([_f16_bytes(d), qh, qs], axis=1)


def _q5_1(b: np.ndarray) -> np.ndarray:
    # value = d * q + m, q 0..31 spanning [min, max].
    m = _f16_round(b.min(axis=1))
    d = _f16_round((b.max(axis=1) - m) / 31.0)
    q = _quant(_divide(b - m[:, None], d[:, None]), 0, 31)
    qh, qs = _q5_bits(q)
    return np.concatenate([_f16_bytes(d), _f16_bytes(m), qh, qs], axis=1)


# -- k-quant super-blocks of 256 ---------------------------------------------------
def _affine_k(b: np.ndarray, n_sub: int, q_max: int, code_max: int):
    """Sub-block scales and mins for value = d * sc * q - dmin * m (q2_K, q4_K, q5_K).

    b [nb, 256] in n_sub sub-blocks; q in 0..q_max; sc, m in 0..code_max.
    Returns f16 d, dmin [nb], integer sc, m [nb, n_sub] and q [nb, 256]."""
    nb = len(b)
    s = b.reshape(nb, n_sub, -1)
    # The format subtracts a non-negative offset, so a sub-block's range must
    # include 0: its min is clamped to <= 0 (as llama.cpp does).
    lo = np.minimum(s.min(axis=2), 0.0)
    # Offset first, rounded up (so lo + off >= 0), then the scale that takes
    # max + off to q_max, rounded up (so nothing clips at the top).
    dmin = _f16_ceil(-lo.min(axis=1) / code_max)
    m = np.clip(np.ceil(_divide(-lo, dmin[:, None])), 0, code_max).astype(np.int32)
    off = dmin[:, None] * m.astype(np.float32)  # float32, as the decoder computes it
    scale = (s.max(axis=2) + off) / q_max
    d = _f16_ceil(scale.max(axis=1) / code_max)
    sc = np.clip(np.ceil(_divide(scale, d[:, None])), 0, code_max).astype(np.int32)
    step = d[:, None] * sc.astype(np.float32)
    q = _quant(_divide(s + off[:, :, None], step[:, :, None]), 0, q_max)
    return d, dmin, sc, m, q.reshape(nb, QK_K)


def _symmetric_k(b: np.ndarray, q_min: int, code_max: int):
    """Signed sub-block scales for value = d * sc * q (q3_K, q6_K): 16 sub-blocks
    of 16, q in q_min..-q_min-1, sc in -code_max..code_max.
    Returns f16 d [nb], integer sc [nb, 16] and q [nb, 256]."""
    nb = len(b)
    s = b.reshape(nb, 16, 16)
    # The element of largest magnitude maps to q_min, the level without a
    # positive mirror (as llama.cpp does); an element of the opposite sign and
    # nearly the same magnitude clips to -q_min-1, one level short.
    scale = _signed_absmax(s) / q_min
    d = _f16_ceil(np.abs(scale).max(axis=1) / code_max)
    sc = (np.sign(scale) * np.clip(np.ceil(_divide(np.abs(scale), d[:, None])), 0, code_max)).astype(np.int32)
    step = d[:, None] * sc.astype(np.float32)
    q = _quant(_divide(s, step[:, :, None]), q_min, -q_min - 1)
    return d, sc, q.reshape(nb, QK_K)


def _pack_scale_min_k4(sc: np.ndarray, m: np.ndarray) -> np.ndarray:
    """6-bit (scale, min) of 8 sub-blocks -> scales[12] (layout: oracle._scale_min_k4)."""
    sc, m = sc.astype(np.uint8), m.astype(np.uint8)
    return np.concatenate([
        sc[:, 0:4] | ((sc[:, 4:8] >> 4) << 6),
        m[:, 0:4] | ((m[:, 4:8] >> 4) << 6),
        (sc[:, 4:8] & 15) | ((m[:, 4:8] & 15) << 4),
    ], axis=1)


def _nibbles256(q: np.ndarray) -> np.ndarray:
    """4-bit values [nb, 256] -> qs [nb, 128]: element 64 c + 32 s + l goes to
    nibble s of qs[32 c + l]."""
    nb = len(q)
    return _pack((q & 15).reshape(nb * 4, 2, 32), 4).reshape(nb, 128)


def _crumbs256(q: np.ndarray) -> np.ndarray:
    """2-bit values [nb, 256] -> qs [nb, 64]: element 128 h + 32 j + l goes to
    bits 2j, 2j+1 of qs[32 h + l]."""
    nb = len(q)
    return _pack((q & 3).reshape(nb * 2, 4, 32), 2).reshape(nb, 64)


def _bits256(bits: np.ndarray) -> np.ndarray:
    """bits [nb, 256] -> [nb, 32]: element 32 k + l goes to bit k of byte l."""
    return _pack(bits.reshape(len(bits), 8, 32), 1)


def _q2_K(b: np.ndarray) -> np.ndarray:
    # scales[16] (scale | min << 4, 4 bits each) | qs[64] | f16 d | f16 dmin
    d, dmin, sc, m, q = _affine_k(b, 16, 3, 15)
    scales = (sc | (m << 4)).astype(np.uint8)
    return np.concatenate([scales, _crumbs256(q), _f16_bytes(d), _f16_bytes(dmin)], axis=1)


def _q3_K(b: np.ndarray) -> np.ndarray:
    # hmask[32] | qs[64] | scales[12] | f16 d; quant q in -4..3 is stored as
    # u = q + 4: the low 2 bits in qs, bit 2 in hmask.
    d, sc, q = _symmetric_k(b, -4, 31)
    u = q + 4
    s = (sc + 32).astype(np.uint8)  # 6-bit, 1..63
    # scale i: low nibble -> nibble i / 8 of byte i % 8; top 2 bits -> bits 2 (i / 4) of byte 8 + i % 4
    low = (s[:, 0:8] & 15) | ((s[:, 8:16] & 15) << 4)
    top = _pack((s >> 4).reshape(len(b), 4, 4), 2)
    return np.concatenate([_bits256(u >> 2), _crumbs256(u), low, top, _f16_bytes(d)], axis=1)


def _q4_K(b: np.ndarray) -> np.ndarray:
    # f16 d | f16 dmin | scales[12] | qs[128]
    d, dmin, sc, m, q = _affine_k(b, 8, 15, 63)
    return np.concatenate([_f16_bytes(d), _f16_bytes(dmin), _pack_scale_min_k4(sc, m), _nibbles256(q)], axis=1)


def _q5_K(b: np.ndarray) -> np.ndarray:
    # f16 d | f16 dmin | scales[12] | qh[32] (bit 4) | qs[128] (low 4 bits)
    d, dmin, sc, m, q = _affine_k(b, 8, 31, 63)
    return np.concatenate([_f16_bytes(d), _f16_bytes(dmin), _pack_scale_min_k4(sc, m), _bits256(q >> 4),
                           _nibbles256(q)], axis=1)


def _q6_K(b: np.ndarray) -> np.ndarray:
    # ql[128] | qh[64] | int8 scales[16] | f16 d; quant q in -32..31 stored as
    # u = q + 32. Element 128 h + 32 t + l: low nibble -> nibble t / 2 of
    # ql[64 h + 32 (t % 2) + l]; high 2 bits -> bits 2t, 2t+1 of qh[32 h + l].
    nb = len(b)
    d, sc, q = _symmetric_k(b, -32, 127)
    u = (q + 32).reshape(nb * 2, 4, 32)  # (h, t, l)
    low = (u & 15).reshape(nb * 2, 2, 64)  # (h, t / 2, 32 (t % 2) + l)
    ql = _pack(low, 4).reshape(nb, 128)
    qh = _pack(u >> 4, 2).reshape(nb, 64)
    return np.concatenate([ql, qh, sc.astype(np.int8).view(np.uint8), _f16_bytes(d)], axis=1)


_QUANTIZE = {Q5_0: _q5_0, Q5_1: _q5_1, Q2_K: _q2_K, Q3_K: _q3_K, Q4_K: _q4_K, Q5_K: _q5_K, Q6_K: _q6_K}
TYPES = tuple(_QUANTIZE)


def quantize(x: np.ndarray, qtype: int) -> np.ndarray:
    """float32 [..., n] -> uint8 [..., n / block elements * block bytes] in the GGUF layout."""
    qtype = int(qtype)
    if qtype not in _QUANTIZE:
        raise ValueError(f"[quantize_np] type {TYPE_NAMES.get(qtype, qtype)} is not supported "
                         f"(only {', '.join(TYPE_NAMES[t] for t in TYPES)})")
    x = np.asarray(x, dtype=np.float32)
    per = BLOCK_ELEMS[qtype]
    if x.ndim == 0 or x.shape[-1] % per:
        raise ValueError(f"[quantize_np] {TYPE_NAMES[qtype]} needs rows that are a multiple of {per}, "
                         f"got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"[quantize_np] {TYPE_NAMES[qtype]}: input has NaN or Inf")
    blocks = _QUANTIZE[qtype](x.reshape(-1, per))
    assert blocks.shape[1] == BLOCK_BYTES[qtype] and blocks.dtype == np.uint8
    return blocks.reshape(*x.shape[:-1], x.shape[-1] // per * BLOCK_BYTES[qtype])
