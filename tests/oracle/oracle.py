#!/usr/bin/env python3
"""Independent numpy forward pass of a GGUF language model: llama (and
llama3), qwen2, qwen3 and gemma3, as llama.cpp runs them.

This is the oracle Tessera's model code is checked against. It shares nothing
with Tessera: the file is read with the PyPI `gguf` package's GGUFReader (for
the header and tensor offsets only), every weight is dequantized by the numpy
code below from the GGUF block layouts (f32, f16, bf16, q4_0, q4_1, q5_0, q5_1,
q8_0 and the k-quants q2_K, q3_K, q4_K, q5_K, q6_K; dequant_check.py checks it
against gguf-py's own decoders), and the forward pass is written out step by
step in float32 (norms, RoPE and softmax in float64).

    oracle.py MODEL --tokens 1,2,3 [--generate 32] [--logits-out F.npy] [--json-out F.json]
              [--disable FEATURE,...] [--rope normal|neox]

--logits-out writes float32 [n_prompt_tokens, n_vocab]: the logits of the
prefill at every prompt position. --generate N greedily generates up to N
tokens with a KV cache (stopping after an end-of-generation token unless
--no-stop). --json-out writes {"prompt_tokens", "tokens", "text", "timings", ...}.
--disable switches architecture features off (oracle_arch.ABLATIONS), to show
that a test notices them.

The architecture is general.architecture, and llama3 is llama with a
rope_freqs.weight tensor. What differs between them -- and every fact taken
from llama.cpp -- is in oracle_arch.py; in short:
  * weights are [ne0 = in, ne1 = out]; as numpy they are (out, in), y = x @ W.T
  * rms_norm(x) = x / sqrt(mean(x^2) + eps) * weight (Gemma's stored weights
    already include its +1); eps = <arch>.attention.layer_norm_rms_epsilon
  * head_dim = <arch>.attention.key_length, else n_embd / n_head; q_dim =
    n_head * head_dim may differ from n_embd; query head h reads kv head
    h // (n_head / n_head_kv); output.weight absent -> tied to token_embd
  * RoPE: theta_i = pos * freq_scale * freq_base^(-2i / n_rot) [/ rope_freqs[i]],
    rotating pairs (2i, 2i+1) for llama (NORMAL: llama.cpp's converter permuted
    attn_q / attn_k for it) and (i, i + n_rot/2) for qwen2, qwen3, gemma3 (NEOX)
  * qwen2 adds f32 biases after the q / k / v matmuls; qwen3 and gemma3
    rms-normalize each head of q and k (attn_q_norm / attn_k_norm) before RoPE
  * gemma3 scales the embeddings by sqrt(n_embd), normalizes each sublayer's
    output again (post_attention_norm, post_ffw_norm) before the residual add,
    uses gelu_tanh(gate) * up, may soft-cap the logits (c * tanh(logits / c)),
    and gives 5 of every 6 layers (il % 6 < 5) a sliding window: key j is
    visible to query p iff j <= p and p - j < n_swa; those layers rotate with
    base 10000 and scale 1, the others with rope.freq_base and the linear scaling
  * attention scale 1/sqrt(head_dim) (gemma3's 62-layer 27B: 1/sqrt(n_embd / n_head))
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import sys
import time

import numpy as np

try:
    import gguf
except ImportError:  # pragma: no cover - exercised only without the dependency
    sys.exit("oracle.py: the 'gguf' package is missing: pip install -r tests/oracle/requirements.txt")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle_arch  # noqa: E402

# GGUF tensor type ids (== Tessera dtype ids).
F32, F16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, BF16 = 0, 1, 2, 3, 6, 7, 8, 30
Q2_K, Q3_K, Q4_K, Q5_K, Q6_K = 10, 11, 12, 13, 14
QK = 32  # elements per block of q4_0 / q4_1 / q5_0 / q5_1 / q8_0
QK_K = 256  # elements per super-block of the k-quants
# Bytes per block of every block-quantized type (compare.py takes "has a key
# here" to mean "quantized"), and elements per block.
BLOCK_BYTES = {Q4_0: 18, Q4_1: 20, Q5_0: 22, Q5_1: 24, Q8_0: 34,
               Q2_K: 84, Q3_K: 110, Q4_K: 144, Q5_K: 176, Q6_K: 210}
BLOCK_ELEMS = {t: (QK_K if t in (Q2_K, Q3_K, Q4_K, Q5_K, Q6_K) else QK) for t in BLOCK_BYTES}
TYPE_NAMES = {F32: "f32", F16: "f16", BF16: "bf16", Q4_0: "q4_0", Q4_1: "q4_1", Q5_0: "q5_0", Q5_1: "q5_1",
              Q8_0: "q8_0", Q2_K: "q2_K", Q3_K: "q3_K", Q4_K: "q4_K", Q5_K: "q5_K", Q6_K: "q6_K"}


# ---------------------------------------------------------------------------
# Dequantization, written from the GGUF block layouts (ggml's block_* structs;
# Tessera's copy is tessera/kit/quant.h)
#
# Each _dq_* takes the blocks of one type as uint8 [nb, block bytes] and
# returns float32 [nb, block elements] in element order. The arithmetic is
# float32 in ggml's order (sub-block scale d * sc first, then times the
# quant, then minus the min), so the values are bit-identical to ggml's and
# gguf-py's decoders (dequant_check.py compares with the latter).
# ---------------------------------------------------------------------------
def _f16(raw: np.ndarray) -> np.ndarray:
    """Little-endian f16 bytes [..., 2] -> float32 [...]."""
    return np.ascontiguousarray(raw).view("<f2")[..., 0].astype(np.float32)


def _fields(raw: np.ndarray, width: int) -> np.ndarray:
    """uint8 [nb, n] -> uint8 [nb, 8 / width, n]: [:, k, i] is bit field k
    (bits width*k .. width*k + width-1) of byte i."""
    shifts = np.arange(0, 8, width, dtype=np.uint8)[None, :, None]
    return (raw[:, None, :] >> shifts) & np.uint8((1 << width) - 1)


def _nibbles32(qs: np.ndarray) -> np.ndarray:
    """qs [nb, 16] -> [nb, 32]: element j is the low nibble of qs[j], element
    j + 16 the high nibble (q4_0, q4_1, and the low bits of q5_0 / q5_1)."""
    return _fields(qs, 4).reshape(len(qs), 32)


def _dq_q4_0(b):  # f16 d | qs[16]; value = d * (q - 8)
    return _f16(b[:, 0:2])[:, None] * (_nibbles32(b[:, 2:18]).astype(np.float32) - 8.0)


def _dq_q4_1(b):  # f16 d | f16 m | qs[16]; value = d * q + m
    d, m = _f16(b[:, 0:2])[:, None], _f16(b[:, 2:4])[:, None]
    return d * _nibbles32(b[:, 4:20]).astype(np.float32) + m


def _q5_quants(qh: np.ndarray, qs: np.ndarray) -> np.ndarray:
    """qh [nb, 4] (a little-endian u32), qs [nb, 16] -> 5-bit quants [nb, 32]:
    the low 4 bits of element j as in q4_0, bit 4 is bit j of qh."""
    high = (qh.copy().view("<u4") >> np.arange(32, dtype=np.uint32)) & 1  # [nb, 32]
    return _nibbles32(qs) | (high.astype(np.uint8) << 4)


def _dq_q5_0(b):  # f16 d | u32 qh | qs[16]; value = d * (q - 16)
    d = _f16(b[:, 0:2])[:, None]
    return d * (_q5_quants(b[:, 2:6], b[:, 6:22]).astype(np.float32) - 16.0)


def _dq_q5_1(b):  # f16 d | f16 m | u32 qh | qs[16]; value = d * q + m
    d, m = _f16(b[:, 0:2])[:, None], _f16(b[:, 2:4])[:, None]
    return d * _q5_quants(b[:, 4:8], b[:, 8:24]).astype(np.float32) + m


def _dq_q8_0(b):  # f16 d | int8 qs[32]; value = d * q
    return _f16(b[:, 0:2])[:, None] * b[:, 2:34].view(np.int8).astype(np.float32)


# The k-quants pack 2-, 4- and 6-bit fields so that a super-block reads as
# eight chunks of 32 consecutive elements; element l (0..31) of chunk c sits
# in byte l (plus an offset) of a 32-byte run, at a bit position set by c.
def _crumbs256(qs: np.ndarray) -> np.ndarray:
    """2-bit fields of qs [nb, 64] -> [nb, 256]: element 128 h + 32 j + l is
    bits 2j, 2j+1 of qs[32 h + l] (q2_K, and the low bits of q3_K)."""
    nb = len(qs)
    return _fields(qs.reshape(nb * 2, 32), 2).reshape(nb, 256)


def _bits256(hb: np.ndarray) -> np.ndarray:
    """Single bits of hb [nb, 32] -> [nb, 256]: element 32 k + l is bit k of
    hb[l] (q3_K's hmask, q5_K's qh)."""
    return _fields(hb, 1).reshape(len(hb), 256)


def _nibbles256(qs: np.ndarray) -> np.ndarray:
    """4-bit fields of qs [nb, 128] -> [nb, 256]: element 64 c + 32 s + l is
    the low (s = 0) or high (s = 1) nibble of qs[32 c + l] (q4_K, q5_K)."""
    nb = len(qs)
    return _fields(qs.reshape(nb * 4, 32), 4).reshape(nb, 256)


def _per_element(v: np.ndarray) -> np.ndarray:
    """Sub-block values [nb, n_sub] -> [nb, 256], each repeated over its sub-block."""
    return np.repeat(v, QK_K // v.shape[1], axis=1)


def _scale_min_k4(s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """q4_K / q5_K scales[12] -> 6-bit (scale, min) of the 8 sub-blocks of 32.
    Sub-blocks 0..3 sit in the low 6 bits of bytes 0..3 (scale) and 4..7 (min);
    sub-blocks 4..7 keep their low 4 bits in the nibbles of bytes 8..11
    (scale low, min high) and their top 2 bits in the top bits of bytes 0..3
    (scale) and 4..7 (min)."""
    sc = np.concatenate([s[:, 0:4] & 63, (s[:, 8:12] & 0x0F) | ((s[:, 0:4] >> 6) << 4)], axis=1)
    mn = np.concatenate([s[:, 4:8] & 63, (s[:, 8:12] >> 4) | ((s[:, 4:8] >> 6) << 4)], axis=1)
    return sc.astype(np.float32), mn.astype(np.float32)


def _dq_q2_K(b):
    # scales[16] | qs[64] | f16 d | f16 dmin. Sub-block i (16 elements) has
    # scale d * (scales[i] & 15) and min dmin * (scales[i] >> 4); value = scale * q - min.
    scales, d, dmin = b[:, 0:16], _f16(b[:, 80:82])[:, None], _f16(b[:, 82:84])[:, None]
    dl = d * (scales & 0x0F).astype(np.float32)
    ml = dmin * (scales >> 4).astype(np.float32)
    q = _crumbs256(b[:, 16:80]).astype(np.float32)
    return _per_element(dl) * q - _per_element(ml)


def _dq_q3_K(b):
    # hmask[32] | qs[64] | scales[12] | f16 d. Quant = low 2 bits (qs) minus 4
    # when the element's hmask bit is clear; value = d * (scale - 32) * quant.
    # Scale i (0..15): low nibble = nibble i / 8 of byte i % 8, top two bits =
    # bits 2 (i / 4) of byte 8 + i % 4.
    s, d = b[:, 96:108], _f16(b[:, 108:110])[:, None]
    low = np.concatenate([s[:, 0:8] & 0x0F, s[:, 0:8] >> 4], axis=1)  # [nb, 16]
    top = _fields(s[:, 8:12], 2).reshape(len(b), 16)  # [:, 4 (i / 4) + i % 4]
    scale = (low | (top << 4)).astype(np.float32) - 32.0
    q = _crumbs256(b[:, 32:96]).astype(np.float32) - 4.0 * (1 - _bits256(b[:, 0:32])).astype(np.float32)
    return _per_element(d * scale) * q


def _dq_q4_K(b):
    # f16 d | f16 dmin | scales[12] | qs[128]; sub-block j (32 elements):
    # value = d * sc[j] * q - dmin * m[j].
    d, dmin = _f16(b[:, 0:2])[:, None], _f16(b[:, 2:4])[:, None]
    sc, mn = _scale_min_k4(b[:, 4:16])
    q = _nibbles256(b[:, 16:144]).astype(np.float32)
    return _per_element(d * sc) * q - _per_element(dmin * mn)


def _dq_q5_K(b):
    # f16 d | f16 dmin | scales[12] | qh[32] | qs[128]: q4_K plus bit 4 of
    # element 32 k + l in bit k of qh[l].
    d, dmin = _f16(b[:, 0:2])[:, None], _f16(b[:, 2:4])[:, None]
    sc, mn = _scale_min_k4(b[:, 4:16])
    q = (_nibbles256(b[:, 48:176]) | (_bits256(b[:, 16:48]) << 4)).astype(np.float32)
    return _per_element(d * sc) * q - _per_element(dmin * mn)


def _dq_q6_K(b):
    # ql[128] | qh[64] | int8 scales[16] | f16 d; value = d * scales[e / 16] * (q - 32).
    # Element 128 h + 32 t + l (half h, t 0..3, l 0..31): low 4 bits are nibble
    # t / 2 of ql[64 h + 32 (t % 2) + l], high 2 bits are bits 2t, 2t+1 of qh[32 h + l].
    nb = len(b)
    low = _fields(b[:, 0:128].reshape(nb * 2, 64), 4).reshape(nb, 256)  # (h, t / 2, t % 2, l)
    high = _fields(b[:, 128:192].reshape(nb * 2, 32), 2).reshape(nb, 256)  # (h, t, l)
    q = (low | (high << 4)).astype(np.float32) - 32.0
    scale = b[:, 192:208].view(np.int8).astype(np.float32)
    return _per_element(_f16(b[:, 208:210])[:, None] * scale) * q


_DEQUANT = {Q4_0: _dq_q4_0, Q4_1: _dq_q4_1, Q5_0: _dq_q5_0, Q5_1: _dq_q5_1, Q8_0: _dq_q8_0,
            Q2_K: _dq_q2_K, Q3_K: _dq_q3_K, Q4_K: _dq_q4_K, Q5_K: _dq_q5_K, Q6_K: _dq_q6_K}


def dequantize(raw: np.ndarray, ttype: int, n_elems: int) -> np.ndarray:
    """Raw tensor bytes -> flat float32 array of n_elems values."""
    raw = np.ascontiguousarray(raw).reshape(-1).view(np.uint8)
    if ttype == F32:
        return raw.view("<f4").astype(np.float32)[:n_elems]
    if ttype == F16:
        return raw.view("<f2").astype(np.float32)[:n_elems]
    if ttype == BF16:
        # bf16 is the top half of an f32.
        return (raw.view("<u2").astype(np.uint32) << 16).view(np.float32)[:n_elems]
    if ttype in _DEQUANT:
        name, per, size = TYPE_NAMES[ttype], BLOCK_ELEMS[ttype], BLOCK_BYTES[ttype]
        if n_elems % per:
            raise ValueError(f"[oracle] {name} tensor of {n_elems} elements is not whole {per}-element blocks")
        nb = n_elems // per
        if raw.size < nb * size:
            raise ValueError(f"[oracle] {name} tensor of {n_elems} elements needs {nb * size} bytes, got {raw.size}")
        out = _DEQUANT[ttype](raw[: nb * size].reshape(nb, size))
        return out.astype(np.float32, copy=False).reshape(-1)
    raise ValueError(f"[oracle] tensor type {ttype} is not supported (supported: {', '.join(TYPE_NAMES.values())})")


def quantize_dequantize_q8_0(x: np.ndarray) -> np.ndarray:
    """Round-trip rows of x through q8_0 (what a q8 activation path sees)."""
    shape = x.shape
    b = x.reshape(-1, QK).astype(np.float32)
    amax = np.abs(b).max(axis=1, keepdims=True)
    d = (amax / 127.0).astype(np.float16).astype(np.float32)
    inv = np.where(amax > 0, 127.0 / np.where(amax > 0, amax, 1), 0.0)
    q = np.round(b * inv)  # ggml uses roundf (half away from zero); ties are measure-zero here
    return (q * d).reshape(shape).astype(np.float32)


# ---------------------------------------------------------------------------
# Model
# ---------------------------------------------------------------------------
class Model:
    """A GGUF model of one of the architectures in oracle_arch.SUPPORTED.

    rope_mode None takes the architecture's RoPE pairing; "normal" or "neox"
    forces one (diagnosis). disable names features to switch off
    (oracle_arch.ABLATIONS), to show that a test notices them missing."""

    def __init__(self, path: str, rope_mode: str | None = None, sim_q8_act: bool = False, disable=()):
        self.reader = gguf.GGUFReader(path)
        self.fields = self.reader.fields
        self.tensors = {t.name: t for t in self.reader.tensors}
        hp = oracle_arch.read_hparams(self.meta, lambda n: n in self.tensors)
        tok = self.tensors.get("token_embd.weight")
        if tok is None or len(tok.shape) != 2:
            raise oracle_arch.HparamError("[oracle] tensor 'token_embd.weight' is missing or not 2-D")
        self.n_vocab = int(tok.shape[1])
        oracle_arch.check_shapes(hp, self.n_vocab, self._shape)
        hp = oracle_arch.ablate(hp, disable)
        if rope_mode is not None:
            hp = dataclasses.replace(hp, rope_mode=rope_mode)
        self.hp = hp
        # The names the rest of the tools use.
        self.arch, self.n_embd, self.n_layer = hp.arch, hp.n_embd, hp.n_layer
        self.n_head, self.n_head_kv, self.head_dim, self.n_rot = hp.n_head, hp.n_head_kv, hp.head_dim, hp.n_rot
        self.eps, self.n_ctx, self.rope_mode = hp.eps, hp.n_ctx, hp.rope_mode
        self.sim_q8_act = sim_q8_act
        self._w: dict[str, tuple[np.ndarray, int]] = {}
        self.tied = "output.weight" not in self.tensors
        self.vocab = self.meta("tokenizer.ggml.tokens", None)
        self.tok_type = self.meta("tokenizer.ggml.token_type", None)
        self.tok_model = self.meta("tokenizer.ggml.model", None)

    def _shape(self, name: str) -> tuple[int, ...] | None:
        t = self.tensors.get(name)
        return None if t is None else tuple(int(n) for n in t.shape)

    def meta(self, key, default=KeyError):
        f = self.fields.get(key)
        if f is None:
            if default is KeyError:
                raise KeyError(f"[oracle] GGUF metadata key '{key}' is missing")
            return default
        return f.contents()

    def get(self, name: str) -> np.ndarray:
        """Dequantized weight as float32, numpy order (ne[n-1], ..., ne[0])."""
        return self.get_typed(name)[0]

    def get_typed(self, name: str) -> tuple[np.ndarray, int]:
        if name not in self._w:
            t = self.tensors.get(name)
            if t is None:
                raise KeyError(f"[oracle] tensor '{name}' is missing")
            ne = [int(n) for n in t.shape]  # GGUF order: ne[0] innermost
            n = int(np.prod(ne))
            ttype = int(t.tensor_type)
            w = dequantize(np.asarray(t.data), ttype, n).reshape(tuple(reversed(ne)))
            self._w[name] = (np.ascontiguousarray(w, dtype=np.float32), ttype)
        return self._w[name]

    # -- building blocks ----------------------------------------------------
    def linear(self, x: np.ndarray, name: str, bias: str | None = None) -> np.ndarray:
        """x f32 [T, in] -> f32 [T, out] with weight [out, in] (plus bias [out])."""
        w, ttype = self.get_typed(name)
        if self.sim_q8_act and ttype in BLOCK_BYTES:
            x = quantize_dequantize_q8_0(x)
        y = x @ w.T
        return y + self.get(bias) if bias is not None else y

    def rms_norm(self, x: np.ndarray, weight: str) -> np.ndarray:
        """Over the last axis: f32 [..., n] with weight [n]."""
        x64 = x.astype(np.float64)
        y = x64 / np.sqrt(np.mean(x64 * x64, axis=-1, keepdims=True) + self.eps)
        return (y * self.get(weight)).astype(np.float32)

    def rope(self, x: np.ndarray, pos: np.ndarray, layer: int) -> np.ndarray:
        """x f32 [T, heads, head_dim] rotated at positions pos [T] with layer's
        base and scale (and llama3's frequency factors)."""
        hp = self.hp
        base, scale = hp.rope_params(layer)
        half = self.n_rot // 2
        inv_freq = scale * base ** (-2.0 * np.arange(half, dtype=np.float64) / self.n_rot)
        if hp.rope_freqs:
            inv_freq = inv_freq / self.get("rope_freqs.weight").astype(np.float64)
        ang = pos.astype(np.float64)[:, None] * inv_freq[None, :]  # [T, half]
        cos = np.cos(ang)[:, None, :]
        sin = np.sin(ang)[:, None, :]
        out = x.astype(np.float64)  # copy
        if hp.rope_mode == "normal":  # pairs (2i, 2i+1)
            a, b = x[..., 0 : self.n_rot : 2], x[..., 1 : self.n_rot : 2]
            out[..., 0 : self.n_rot : 2] = a * cos - b * sin
            out[..., 1 : self.n_rot : 2] = a * sin + b * cos
        else:  # "neox": pairs (i, i + n_rot/2)
            a, b = x[..., :half], x[..., half : self.n_rot]
            out[..., :half] = a * cos - b * sin
            out[..., half : self.n_rot] = a * sin + b * cos
        return out.astype(np.float32)

    def mask(self, pos: np.ndarray, n_keys: int, layer: int) -> np.ndarray:
        """Additive f64 [T, n_keys]: query at pos[t] sees key j iff j <= pos[t]
        and, on a sliding-window layer, pos[t] - j < n_swa."""
        keys = np.arange(n_keys)[None, :]
        visible = keys <= pos[:, None]
        if self.hp.is_swa(layer) and self.hp.swa_window:
            visible &= pos[:, None] - keys < self.hp.n_swa
        return np.where(visible, 0.0, -np.inf)

    def ffn(self, h: np.ndarray, b: str) -> np.ndarray:
        g = self.linear(h, b + "ffn_gate.weight").astype(np.float64)
        u = self.linear(h, b + "ffn_up.weight")
        if self.hp.ffn_act == "silu":
            act = g / (1.0 + np.exp(-g))
        else:  # gelu, tanh approximation (ggml_gelu)
            act = 0.5 * g * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (g + 0.044715 * g**3)))
        return self.linear(act.astype(np.float32) * u, b + "ffn_down.weight")

    # -- forward --------------------------------------------------------------
    def new_cache(self):
        hp = self.hp
        return {"k": np.zeros((self.n_layer, self.n_ctx, hp.n_head_kv, hp.head_dim), np.float32),
                "v": np.zeros((self.n_layer, self.n_ctx, hp.n_head_kv, hp.head_dim_v), np.float32), "n": 0}

    def forward(self, tokens: list[int], cache) -> np.ndarray:
        """Append tokens at positions cache["n"]...; returns f32 [T, n_vocab]."""
        hp = self.hp
        T = len(tokens)
        p0 = cache["n"]
        if p0 + T > self.n_ctx:
            raise ValueError(f"[oracle] {p0 + T} positions exceed the context length {self.n_ctx}")
        ids = np.asarray(tokens, dtype=np.int64)
        if ids.min() < 0 or ids.max() >= self.n_vocab:
            raise ValueError(f"[oracle] token id out of range [0, {self.n_vocab})")
        pos = np.arange(p0, p0 + T)
        hd, hdv, nh, nkv = hp.head_dim, hp.head_dim_v, hp.n_head, hp.n_head_kv
        group = nh // nkv

        x = self.get("token_embd.weight")[ids].astype(np.float32)  # [T, n_embd]
        if hp.embd_scale != 1.0:
            x = x * np.float32(hp.embd_scale)
        for l in range(self.n_layer):
            b = f"blk.{l}."
            bias = (lambda n: b + n + ".bias") if hp.qkv_bias else (lambda n: None)
            h = self.rms_norm(x, b + "attn_norm.weight")
            q = self.linear(h, b + "attn_q.weight", bias("attn_q")).reshape(T, nh, hd)
            k = self.linear(h, b + "attn_k.weight", bias("attn_k")).reshape(T, nkv, hd)
            v = self.linear(h, b + "attn_v.weight", bias("attn_v")).reshape(T, nkv, hdv)
            if hp.qk_norm:  # per head, over head_dim
                q = self.rms_norm(q, b + "attn_q_norm.weight")
                k = self.rms_norm(k, b + "attn_k_norm.weight")
            q = self.rope(q, pos, l)
            k = self.rope(k, pos, l)
            cache["k"][l, p0 : p0 + T] = k
            cache["v"][l, p0 : p0 + T] = v
            K = cache["k"][l, : p0 + T]  # [S, nkv, hd]
            V = cache["v"][l, : p0 + T]
            mask = self.mask(pos, p0 + T, l)
            attn = np.empty((T, nh, hdv), np.float32)
            for hh in range(nh):
                kv = hh // group
                s = (q[:, hh, :].astype(np.float64) @ K[:, kv, :].T.astype(np.float64)) * hp.attn_scale + mask
                s -= s.max(axis=1, keepdims=True)
                pr = np.exp(s)
                pr /= pr.sum(axis=1, keepdims=True)
                attn[:, hh, :] = (pr @ V[:, kv, :].astype(np.float64)).astype(np.float32)
            o = self.linear(attn.reshape(T, nh * hdv), b + "attn_output.weight")
            if hp.post_norms:
                o = self.rms_norm(o, b + "post_attention_norm.weight")
            x = x + o
            f = self.ffn(self.rms_norm(x, b + "ffn_norm.weight"), b)
            if hp.post_norms:
                f = self.rms_norm(f, b + "post_ffw_norm.weight")
            x = x + f
        cache["n"] = p0 + T
        h = self.rms_norm(x, "output_norm.weight")
        logits = self.linear(h, "token_embd.weight" if self.tied else "output.weight")
        if hp.final_softcap:
            c = hp.final_softcap
            logits = (c * np.tanh(logits.astype(np.float64) / c)).astype(np.float32)
        return logits

    # -- tokens -----------------------------------------------------------------
    def eog_ids(self) -> set[int]:
        ids = set()
        for key in ("tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"):
            v = self.meta(key, None)
            if v is not None:
                ids.add(int(v))
        if self.vocab is not None:
            for i, s in enumerate(self.vocab):
                if s in ("<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<end_of_turn>"):
                    ids.add(i)
        return ids

    def detokenize(self, ids: list[int]) -> str:
        if self.vocab is None:
            return ""
        if self.tok_model == "gpt2":
            dec = {c: b for b, c in bytes_to_unicode().items()}
            out = bytearray()
            for i in ids:
                s = self.vocab[i]
                if self.tok_type is not None and int(self.tok_type[i]) in (3, 4):  # control / user-defined
                    out += s.encode()
                else:
                    out += bytes(dec.get(ch, ord("?")) for ch in s)
            return out.decode("utf-8", errors="replace")
        # SentencePiece-style: '▁' is a space, <0xNN> is a byte
        out = bytearray()
        for i in ids:
            s = self.vocab[i]
            if len(s) == 6 and s.startswith("<0x") and s.endswith(">"):
                out.append(int(s[3:5], 16))
            else:
                out += s.replace("\u2581", " ").encode()
        return out.decode("utf-8", errors="replace")


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible byte -> printable unicode character mapping."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


def run(model: Model, prompt: list[int], n_generate: int, stop_at_eog: bool = True):
    """Prefill logits [n_prompt, n_vocab], greedy tokens, timings."""
    cache = model.new_cache()
    t0 = time.perf_counter()
    logits = model.forward(prompt, cache)
    t1 = time.perf_counter()
    tokens: list[int] = []
    eog = model.eog_ids()
    last = logits[-1]
    for _ in range(n_generate):
        nxt = int(np.argmax(last))
        tokens.append(nxt)
        if stop_at_eog and nxt in eog:
            break
        if len(tokens) == n_generate or cache["n"] >= model.n_ctx:
            break
        last = model.forward([nxt], cache)[-1]
    t2 = time.perf_counter()
    return logits, tokens, {"prefill_s": t1 - t0, "generate_s": t2 - t1}


def parse_tokens(s: str) -> list[int]:
    try:
        return [int(t) for t in s.split(",") if t.strip() != ""]
    except ValueError:
        raise SystemExit(f"oracle.py: --tokens must be comma-separated integers, got '{s}'")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--tokens", required=True, help="prompt token ids, comma-separated")
    ap.add_argument("--generate", type=int, default=0, help="greedy tokens to generate")
    ap.add_argument("--no-stop", action="store_true", help="do not stop at end-of-generation tokens")
    ap.add_argument("--logits-out", help="write f32 [n_prompt, n_vocab] prefill logits (.npy)")
    ap.add_argument("--json-out", help="write a JSON summary")
    ap.add_argument("--rope", choices=["normal", "neox"], default=None,
                    help="force a RoPE pairing (diagnosis only; default: the architecture's)")
    ap.add_argument("--disable", default="",
                    help="comma-separated features to switch off, to see a test notice: "
                         + ", ".join(oracle_arch.ABLATIONS))
    ap.add_argument("--sim-q8-act", action="store_true",
                    help="round activations through q8_0 before quantized matmuls (to size tolerances; "
                         "ggml uses q8_1 / q8_K for some weight types, which this does not model)")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    disable = [d for d in args.disable.split(",") if d]
    model = Model(args.model, rope_mode=args.rope, sim_q8_act=args.sim_q8_act, disable=disable)
    prompt = parse_tokens(args.tokens)
    if not prompt:
        raise SystemExit("oracle.py: empty prompt")
    t_load = time.perf_counter() - t0
    logits, tokens, timings = run(model, prompt, args.generate, stop_at_eog=not args.no_stop)
    timings["load_s"] = t_load  # weights are dequantized lazily, on first use during prefill
    if args.logits_out:
        np.save(args.logits_out, logits.astype(np.float32))
    summary = {
        "model": args.model,
        "prompt_tokens": prompt,
        "tokens": tokens,
        "text": model.detokenize(tokens),
        "prompt_text": model.detokenize(prompt),
        "prefill_top1": [int(i) for i in np.argmax(logits, axis=1)],
        "timings": timings,
    }
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(summary, f, indent=1)
    print(json.dumps({k: summary[k] for k in ("tokens", "text", "timings")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
