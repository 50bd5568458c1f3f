#!/usr/bin/env python3
"""Independent numpy forward pass of a llama-architecture GGUF model.

This is the oracle Tessera's model code is checked against. It shares nothing
with Tessera: the file is read with the PyPI `gguf` package's GGUFReader (for
the header and tensor offsets only), every weight is dequantized by the numpy
code below from the GGUF block layouts, and the forward pass is written out
step by step in float32 (norms and softmax in float64).

    oracle.py MODEL --tokens 1,2,3 [--generate 32] [--logits-out F.npy] [--json-out F.json]

--logits-out writes float32 [n_prompt_tokens, n_vocab]: the logits of the
prefill at every prompt position. --generate N greedily generates up to N
tokens with a KV cache (stopping after an end-of-generation token unless
--no-stop). --json-out writes {"prompt_tokens", "tokens", "text", "timings", ...}.

Layout facts this follows (llama.cpp, llama arch):
  * weights are [ne0 = in, ne1 = out]; as numpy they are (out, in), y = x @ W.T
  * llama.cpp's converter permutes the rows of attn_q/attn_k so that RoPE
    rotates adjacent pairs (x[2i], x[2i+1]) ("NORMAL" rope mode), with
    theta_i = pos * freq_base^(-2i / n_rot) for i < n_rot/2; dims >= n_rot pass
  * grouped-query attention: query head h reads kv head h // (n_head / n_head_kv)
  * attention scale 1/sqrt(head_dim); output.weight absent -> tied to token_embd
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time

import numpy as np

try:
    import gguf
except ImportError:  # pragma: no cover - exercised only without the dependency
    sys.exit("oracle.py: the 'gguf' package is missing: pip install -r tests/oracle/requirements.txt")

# GGUF tensor type ids (== Tessera dtype ids).
F32, F16, Q4_0, Q4_1, Q8_0, BF16 = 0, 1, 2, 3, 8, 30
QK = 32  # elements per block of q4_0 / q4_1 / q8_0
BLOCK_BYTES = {Q4_0: 18, Q4_1: 20, Q8_0: 34}


# ---------------------------------------------------------------------------
# Dequantization, written from the block layouts (see core/quant.h)
# ---------------------------------------------------------------------------
def _f16(raw: np.ndarray) -> np.ndarray:
    """Little-endian f16 bytes [..., 2] -> float32 [...]."""
    return np.ascontiguousarray(raw).view("<f2")[..., 0].astype(np.float32)


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
    if ttype in BLOCK_BYTES:
        nb = n_elems // QK
        blocks = raw[: nb * BLOCK_BYTES[ttype]].reshape(nb, BLOCK_BYTES[ttype])
        d = _f16(blocks[:, 0:2])[:, None]  # [nb, 1]
        if ttype == Q8_0:
            q = blocks[:, 2:34].view(np.int8).astype(np.float32)  # [nb, 32]
            return (d * q).reshape(-1)
        if ttype == Q4_0:
            qs = blocks[:, 2:18]
        else:  # Q4_1: d, m, then nibbles
            qs = blocks[:, 4:20]
        # element j of a block is the low nibble of qs[j], element j+16 the high one
        nib = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float32)  # [nb, 32]
        if ttype == Q4_0:
            return (d * (nib - 8.0)).reshape(-1)
        m = _f16(blocks[:, 2:4])[:, None]
        return (d * nib + m).reshape(-1)
    raise ValueError(f"[oracle] tensor type {ttype} is not supported (q4_0/q4_1/q8_0/f16/bf16/f32 only)")


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
    def __init__(self, path: str, rope_mode: str = "normal", sim_q8_act: bool = False):
        self.reader = gguf.GGUFReader(path)
        self.fields = self.reader.fields
        self.tensors = {t.name: t for t in self.reader.tensors}
        arch = self.meta("general.architecture")
        if arch != "llama":
            raise ValueError(f"[oracle] architecture '{arch}' is not llama")
        p = "llama."
        self.n_embd = int(self.meta(p + "embedding_length"))
        self.n_layer = int(self.meta(p + "block_count"))
        self.n_head = int(self.meta(p + "attention.head_count"))
        self.n_head_kv = int(self.meta(p + "attention.head_count_kv", self.n_head))
        self.head_dim = int(self.meta(p + "attention.key_length", self.n_embd // self.n_head))
        self.n_rot = int(self.meta(p + "rope.dimension_count", self.head_dim))
        self.freq_base = float(self.meta(p + "rope.freq_base", 10000.0))
        self.eps = float(self.meta(p + "attention.layer_norm_rms_epsilon", 1e-5))
        self.n_ctx = int(self.meta(p + "context_length", 2048))
        self.rope_mode = rope_mode
        self.sim_q8_act = sim_q8_act
        if self.n_head % self.n_head_kv:
            raise ValueError(f"[oracle] n_head {self.n_head} is not a multiple of n_head_kv {self.n_head_kv}")
        self._w: dict[str, tuple[np.ndarray, int]] = {}
        tok = self.get("token_embd.weight")
        self.n_vocab = tok.shape[0]
        self.tied = "output.weight" not in self.tensors
        self.vocab = self.meta("tokenizer.ggml.tokens", None)
        self.tok_type = self.meta("tokenizer.ggml.token_type", None)
        self.tok_model = self.meta("tokenizer.ggml.model", None)

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
    def linear(self, x: np.ndarray, name: str) -> np.ndarray:
        """x f32 [T, in] -> f32 [T, out] with weight [out, in]."""
        w, ttype = self.get_typed(name)
        if self.sim_q8_act and ttype in BLOCK_BYTES:
            x = quantize_dequantize_q8_0(x)
        return x @ w.T

    def rms_norm(self, x: np.ndarray, weight: str) -> np.ndarray:
        x64 = x.astype(np.float64)
        y = x64 / np.sqrt(np.mean(x64 * x64, axis=-1, keepdims=True) + self.eps)
        return (y * self.get(weight)).astype(np.float32)

    def rope(self, x: np.ndarray, pos: np.ndarray) -> np.ndarray:
        """x f32 [T, heads, head_dim] rotated at positions pos [T]."""
        half = self.n_rot // 2
        inv_freq = self.freq_base ** (-2.0 * np.arange(half, dtype=np.float64) / self.n_rot)
        ang = pos.astype(np.float64)[:, None] * inv_freq[None, :]  # [T, half]
        cos = np.cos(ang)[:, None, :]
        sin = np.sin(ang)[:, None, :]
        out = x.astype(np.float64)  # copy
        if self.rope_mode == "normal":  # pairs (2i, 2i+1)
            a, b = x[..., 0 : self.n_rot : 2], x[..., 1 : self.n_rot : 2]
            out[..., 0 : self.n_rot : 2] = a * cos - b * sin
            out[..., 1 : self.n_rot : 2] = a * sin + b * cos
        else:  # "neox": pairs (i, i + n_rot/2) -- only for diagnosis
            a, b = x[..., :half], x[..., half : self.n_rot]
            out[..., :half] = a * cos - b * sin
            out[..., half : self.n_rot] = a * sin + b * cos
        return out.astype(np.float32)

    # -- forward --------------------------------------------------------------
    def new_cache(self):
        shape = (self.n_layer, self.n_ctx, self.n_head_kv, self.head_dim)
        return {"k": np.zeros(shape, np.float32), "v": np.zeros(shape, np.float32), "n": 0}

    def forward(self, tokens: list[int], cache) -> np.ndarray:
        """Append tokens at positions cache["n"]...; returns f32 [T, n_vocab]."""
        T = len(tokens)
        p0 = cache["n"]
        if p0 + T > self.n_ctx:
            raise ValueError(f"[oracle] {p0 + T} positions exceed the context length {self.n_ctx}")
        ids = np.asarray(tokens, dtype=np.int64)
        if ids.min() < 0 or ids.max() >= self.n_vocab:
            raise ValueError(f"[oracle] token id out of range [0, {self.n_vocab})")
        pos = np.arange(p0, p0 + T)
        hd, nh, nkv = self.head_dim, self.n_head, self.n_head_kv
        group = nh // nkv
        scale = 1.0 / math.sqrt(hd)
        # causal mask over the whole cache [T, p0+T]: query p0+t sees keys <= p0+t
        keys = np.arange(p0 + T)
        mask = np.where(keys[None, :] <= pos[:, None], 0.0, -np.inf)

        x = self.get("token_embd.weight")[ids].astype(np.float32)  # [T, n_embd]
        for l in range(self.n_layer):
            b = f"blk.{l}."
            h = self.rms_norm(x, b + "attn_norm.weight")
            q = self.linear(h, b + "attn_q.weight").reshape(T, nh, hd)
            k = self.linear(h, b + "attn_k.weight").reshape(T, nkv, hd)
            v = self.linear(h, b + "attn_v.weight").reshape(T, nkv, hd)
            q = self.rope(q, pos)
            k = self.rope(k, pos)
            cache["k"][l, p0 : p0 + T] = k
            cache["v"][l, p0 : p0 + T] = v
            K = cache["k"][l, : p0 + T]  # [S, nkv, hd]
            V = cache["v"][l, : p0 + T]
            attn = np.empty((T, nh, hd), np.float32)
            for hh in range(nh):
                kv = hh // group
                s = (q[:, hh, :].astype(np.float64) @ K[:, kv, :].T.astype(np.float64)) * scale + mask
                s -= s.max(axis=1, keepdims=True)
                pr = np.exp(s)
                pr /= pr.sum(axis=1, keepdims=True)
                attn[:, hh, :] = (pr @ V[:, kv, :].astype(np.float64)).astype(np.float32)
            x = x + self.linear(attn.reshape(T, nh * hd), b + "attn_output.weight")
            h = self.rms_norm(x, b + "ffn_norm.weight")
            g = self.linear(h, b + "ffn_gate.weight")
            u = self.linear(h, b + "ffn_up.weight")
            act = (g.astype(np.float64) / (1.0 + np.exp(-g.astype(np.float64)))).astype(np.float32) * u
            x = x + self.linear(act, b + "ffn_down.weight")
        cache["n"] = p0 + T
        h = self.rms_norm(x, "output_norm.weight")
        return self.linear(h, "token_embd.weight" if self.tied else "output.weight")

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
    ap.add_argument("--rope", choices=["normal", "neox"], default="normal", help="diagnosis only")
    ap.add_argument("--sim-q8-act", action="store_true",
                    help="round activations through q8_0 before quantized matmuls (to size tolerances)")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    model = Model(args.model, rope_mode=args.rope, sim_q8_act=args.sim_q8_act)
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
