"""What differs between the architectures the oracle runs: the hyperparameters
of llama (and llama3), qwen2, qwen3 and gemma3, read from GGUF metadata and
checked against the tensor shapes, and the per-layer choices (sliding window,
RoPE base and scale) that follow from them.

The facts, from llama.cpp (src/llama-model.cpp, src/models/*.cpp, ggml's rope):

  all       weights [ne0 = in, ne1 = out]; rms_norm(x) = x / sqrt(mean(x^2) + eps)
            times the norm weight, eps = <arch>.attention.layer_norm_rms_epsilon;
            head_dim = <arch>.attention.key_length if present, else
            n_embd / n_head (value_length likewise for V), so q_dim = n_head *
            head_dim may differ from n_embd; query head h reads kv head
            h // (n_head / n_head_kv); output.weight absent -> token_embd;
            RoPE angle theta_i = pos * freq_scale * freq_base^(-2i / n_rot)
            [/ freq_factor_i], i < n_rot / 2, dims >= n_rot pass through;
            freq_scale = 1 / <arch>.rope.scaling.factor when
            <arch>.rope.scaling.type is "linear", else 1
  llama     RoPE NORMAL: pairs (2i, 2i + 1) (the converter permuted attn_q /
            attn_k rows for it); SwiGLU FFN; attention scale 1/sqrt(head_dim);
            optional attn_q/k/v biases are added when present
  llama3    general.architecture "llama" plus a global f32 tensor
            rope_freqs.weight [n_rot / 2]: theta_i is divided by rope_freqs[i]
            (ggml_rope_ext's freq_factors); tokenizer pre "llama3"/"llama-bpe"
  qwen2     llama layers with f32 biases blk.N.attn_q.bias [q_dim], attn_k.bias
            [kv_dim], attn_v.bias [kv_dim] added after the matmuls (before
            RoPE); RoPE NEOX: pairs (i, i + n_rot / 2)
  qwen3     no biases; per-head RMS norms attn_q_norm / attn_k_norm [head_dim]
            (same eps) on q and k after the matmuls, before RoPE; RoPE NEOX
  gemma3    x = token_embd rows * sqrt(n_embd); per layer
              h = rms_norm(x) * attn_norm; q, k, v = matmuls;
              q, k = per-head rms_norm * attn_q_norm / attn_k_norm; RoPE NEOX;
              attention scale 1/sqrt(head_dim) (1/sqrt(n_embd / n_head) only for
              the 62-layer 27B); x += rms_norm(attn_output . attn) * post_attention_norm;
              h = rms_norm(x) * ffn_norm;
              x += rms_norm(ffn_down(gelu_tanh(ffn_gate . h) * ffn_up . h)) * post_ffw_norm;
            then rms_norm(x) * output_norm and the (usually tied) output, and
            logits = c * tanh(logits / c) when final_logit_softcapping = c is set.
            Layer il uses a sliding window (SWA) iff il % P < P - 1, P = 6
            (hard-coded in llama.cpp; the oracle reads
            gemma3.attention.sliding_window_pattern when present): key j is
            visible to query p iff j <= p and p - j < n_swa (n_swa =
            gemma3.attention.sliding_window, required); SWA layers rotate with
            base 10000 and scale 1, global layers with rope.freq_base and the
            linear scaling. The GGUF converter already added 1 to Gemma's norm
            weights; they are used as stored.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Callable

SUPPORTED = ("llama", "qwen2", "qwen3", "gemma3")

# Each entry switches one architecture feature off, as a runtime that forgot
# it would: feature_check.py shows that the tiny models notice every one.
ABLATIONS = {
    "rope_freqs": "ignore rope_freqs.weight (llama3's RoPE frequency factors)",
    "qkv_bias": "skip the attn_q / attn_k / attn_v biases (qwen2)",
    "qk_norm": "skip the per-head attn_q_norm / attn_k_norm (qwen3, gemma3)",
    "swa_window": "no sliding window: every layer sees all earlier positions (gemma3)",
    "swa_rope": "sliding-window layers rotate with the global RoPE base and scale (gemma3)",
    "rope_scaling": "ignore linear RoPE scaling (gemma3 global layers)",
    "embd_scale": "do not scale the token embeddings by sqrt(n_embd) (gemma3)",
    "post_norms": "skip post_attention_norm / post_ffw_norm (gemma3)",
    "softcap": "skip final_logit_softcapping (gemma3)",
    "rope_mode": "the other RoPE pairing (NORMAL <-> NEOX)",
}

# RoPE pairing per architecture (llama.cpp's llama_model_rope_type).
ROPE_MODE = {"llama": "normal", "qwen2": "neox", "qwen3": "neox", "gemma3": "neox"}
GEMMA3_SWA_PATTERN = 6
GEMMA3_SWA_FREQ_BASE = 10000.0


class HparamError(ValueError):
    """Metadata or tensor shapes a loader must refuse; the message names the
    key or tensor at fault."""


@dataclass(frozen=True)
class Hparams:
    arch: str  # general.architecture
    variant: str  # arch, or "llama3" for llama with rope_freqs.weight
    n_embd: int
    n_layer: int
    n_ff: int
    n_head: int
    n_head_kv: int
    head_dim: int  # of Q and K
    head_dim_v: int
    n_rot: int
    n_ctx: int
    eps: float
    rope_mode: str  # "normal" (pairs 2i, 2i+1) or "neox" (pairs i, i + n_rot/2)
    freq_base: float
    freq_scale: float
    rope_freqs: bool  # divide theta_i by rope_freqs.weight[i]
    qkv_bias: bool
    qk_norm: bool
    post_norms: bool
    embd_scale: float
    ffn_act: str  # "silu" or "gelu_tanh" (of the gate, times up)
    attn_scale: float
    n_swa: int  # 0: no sliding-window layers
    swa_pattern: int
    swa_freq_base: float
    swa_freq_scale: float
    final_softcap: float  # 0: none
    swa_window: bool = True  # mask keys outside the window on SWA layers (False only to ablate)

    @property
    def q_dim(self) -> int:
        return self.n_head * self.head_dim

    @property
    def kv_dim(self) -> int:
        return self.n_head_kv * self.head_dim

    @property
    def v_dim(self) -> int:
        return self.n_head_kv * self.head_dim_v

    def is_swa(self, il: int) -> bool:
        return self.n_swa > 0 and il % self.swa_pattern < self.swa_pattern - 1

    def rope_params(self, il: int) -> tuple[float, float]:
        """(freq_base, freq_scale) of layer il."""
        if self.is_swa(il):
            return self.swa_freq_base, self.swa_freq_scale
        return self.freq_base, self.freq_scale

    def tensor_shapes(self, n_vocab: int) -> dict[str, tuple[tuple[int, ...], bool]]:
        """name -> (GGUF shape ne, required) of every tensor the forward pass reads."""
        E, F = self.n_embd, self.n_ff
        s = {"token_embd.weight": ((E, n_vocab), True), "output_norm.weight": ((E,), True),
             "output.weight": ((E, n_vocab), False)}
        if self.arch == "llama":
            s["rope_freqs.weight"] = ((self.n_rot // 2,), False)
        for il in range(self.n_layer):
            b = f"blk.{il}."
            s[b + "attn_norm.weight"] = ((E,), True)
            s[b + "attn_q.weight"] = ((E, self.q_dim), True)
            s[b + "attn_k.weight"] = ((E, self.kv_dim), True)
            s[b + "attn_v.weight"] = ((E, self.v_dim), True)
            s[b + "attn_output.weight"] = ((self.n_head * self.head_dim_v, E), True)
            s[b + "ffn_norm.weight"] = ((E,), True)
            s[b + "ffn_gate.weight"] = ((E, F), True)
            s[b + "ffn_up.weight"] = ((E, F), True)
            s[b + "ffn_down.weight"] = ((F, E), True)
            if self.qkv_bias:  # qwen2; llama when layer 0 has them (then every layer must)
                s[b + "attn_q.bias"] = ((self.q_dim,), True)
                s[b + "attn_k.bias"] = ((self.kv_dim,), True)
                s[b + "attn_v.bias"] = ((self.v_dim,), True)
            if self.qk_norm:
                s[b + "attn_q_norm.weight"] = ((self.head_dim,), True)
                s[b + "attn_k_norm.weight"] = ((self.head_dim,), True)
            if self.post_norms:
                s[b + "post_attention_norm.weight"] = ((E,), True)
                s[b + "post_ffw_norm.weight"] = ((E,), True)
        return s


Meta = Callable[..., object]  # meta(key[, default]) -> value; raises KeyError without a default


def _positive_int(meta: Meta, key: str, default=KeyError) -> int:
    try:
        v = meta(key) if default is KeyError else meta(key, default)
    except KeyError:
        raise HparamError(f"[oracle] required metadata key '{key}' is missing") from None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or int(v) != v or v <= 0:
        raise HparamError(f"[oracle] '{key}' = {v!r} must be a positive integer")
    return int(v)


def _float(meta: Meta, key: str, default=KeyError) -> float:
    try:
        v = meta(key) if default is KeyError else meta(key, default)
    except KeyError:
        raise HparamError(f"[oracle] required metadata key '{key}' is missing") from None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise HparamError(f"[oracle] '{key}' = {v!r} must be a finite number")
    return float(v)


def read_hparams(meta: Meta, has_tensor: Callable[[str], bool]) -> Hparams:
    """Hyperparameters from GGUF metadata (meta as Model.meta). Shapes are
    checked separately (check_shapes)."""
    arch = meta("general.architecture", None)
    if arch is None:
        raise HparamError("[oracle] required metadata key 'general.architecture' is missing")
    if arch not in SUPPORTED:
        raise HparamError(f"[oracle] general.architecture '{arch}' is not supported "
                          f"(supported: {', '.join(SUPPORTED)})")
    p = arch + "."
    n_embd = _positive_int(meta, p + "embedding_length")
    n_head = _positive_int(meta, p + "attention.head_count")
    n_head_kv = _positive_int(meta, p + "attention.head_count_kv", n_head)
    if n_head % n_head_kv:
        raise HparamError(f"[oracle] {p}attention.head_count {n_head} is not a multiple of "
                          f"{p}attention.head_count_kv {n_head_kv}")
    if meta(p + "attention.key_length", None) is None and n_embd % n_head:
        raise HparamError(f"[oracle] {p}embedding_length {n_embd} is not a multiple of {p}attention.head_count "
                          f"{n_head} and {p}attention.key_length is missing")
    head_dim = _positive_int(meta, p + "attention.key_length", n_embd // n_head)
    n_rot = _positive_int(meta, p + "rope.dimension_count", head_dim)
    if n_rot > head_dim or n_rot % 2:
        raise HparamError(f"[oracle] {p}rope.dimension_count {n_rot} must be even and at most the head dim {head_dim}")

    scaling = meta(p + "rope.scaling.type", None)
    if scaling not in (None, "none", "linear"):
        raise HparamError(f"[oracle] {p}rope.scaling.type '{scaling}' is not supported (none, linear)")
    factor = _float(meta, p + "rope.scaling.factor", 1.0) if scaling == "linear" else 1.0
    if factor <= 0:
        raise HparamError(f"[oracle] {p}rope.scaling.factor {factor} must be positive")

    gemma3 = arch == "gemma3"
    n_swa, swa_pattern = 0, 1
    if gemma3:
        n_swa = _positive_int(meta, p + "attention.sliding_window")
        swa_pattern = _positive_int(meta, p + "attention.sliding_window_pattern", GEMMA3_SWA_PATTERN)
    n_layer = _positive_int(meta, p + "block_count")
    if gemma3 and n_layer == 62:  # the 27B (llama.cpp's LLM_TYPE_27B) scales by n_embd / n_head
        attn_scale = 1.0 / math.sqrt(n_embd // n_head)
    else:
        attn_scale = 1.0 / math.sqrt(head_dim)
    softcap = _float(meta, p + "final_logit_softcapping", 0.0) if gemma3 else 0.0
    if softcap < 0:
        raise HparamError(f"[oracle] {p}final_logit_softcapping {softcap} must not be negative")

    rope_freqs = arch == "llama" and has_tensor("rope_freqs.weight")
    return Hparams(
        arch=arch,
        variant="llama3" if rope_freqs else arch,
        n_embd=n_embd,
        n_layer=n_layer,
        n_ff=_positive_int(meta, p + "feed_forward_length"),
        n_head=n_head,
        n_head_kv=n_head_kv,
        head_dim=head_dim,
        head_dim_v=_positive_int(meta, p + "attention.value_length", head_dim),
        n_rot=n_rot,
        n_ctx=_positive_int(meta, p + "context_length", 2048),
        eps=_float(meta, p + "attention.layer_norm_rms_epsilon"),
        rope_mode=ROPE_MODE[arch],
        freq_base=_float(meta, p + "rope.freq_base", 10000.0),
        freq_scale=1.0 / factor,
        rope_freqs=rope_freqs,
        qkv_bias=arch == "qwen2" or (arch == "llama" and has_tensor("blk.0.attn_q.bias")),
        qk_norm=arch in ("qwen3", "gemma3"),
        post_norms=gemma3,
        embd_scale=math.sqrt(n_embd) if gemma3 else 1.0,
        ffn_act="gelu_tanh" if gemma3 else "silu",
        attn_scale=attn_scale,
        n_swa=n_swa,
        swa_pattern=swa_pattern,
        swa_freq_base=GEMMA3_SWA_FREQ_BASE,
        swa_freq_scale=1.0,
        final_softcap=softcap,
    )


def check_shapes(hp: Hparams, n_vocab: int, shape_of: Callable[[str], tuple[int, ...] | None]) -> None:
    """Every tensor the forward pass reads exists (when required) with the
    shape the hyperparameters imply; shape_of(name) is the GGUF ne or None."""
    for name, (want, required) in hp.tensor_shapes(n_vocab).items():
        got = shape_of(name)
        if got is None:
            if required:
                raise HparamError(f"[oracle] tensor '{name}' is missing ({hp.arch})")
            continue
        if tuple(got) != want:
            raise HparamError(f"[oracle] tensor '{name}' has shape {list(got)}, expected {list(want)} "
                              f"(from the {hp.arch}.* metadata)")


def ablate(hp: Hparams, names) -> Hparams:
    """hp with the features in names (keys of ABLATIONS) switched off."""
    unknown = set(names) - set(ABLATIONS)
    if unknown:
        raise ValueError(f"[oracle] unknown ablation(s) {sorted(unknown)} (known: {', '.join(ABLATIONS)})")
    off = {
        "rope_freqs": {"rope_freqs": False},
        "qkv_bias": {"qkv_bias": False},
        "qk_norm": {"qk_norm": False},
        "swa_window": {"swa_window": False},
        "swa_rope": {"swa_freq_base": hp.freq_base, "swa_freq_scale": hp.freq_scale},
        "rope_scaling": {"freq_scale": 1.0},
        "embd_scale": {"embd_scale": 1.0},
        "post_norms": {"post_norms": False},
        "softcap": {"final_softcap": 0.0},
        "rope_mode": {"rope_mode": "neox" if hp.rope_mode == "normal" else "normal"},
    }
    changes = {}
    for n in names:
        changes.update(off[n])
    if "rope_scaling" in names and "swa_rope" in names:
        changes["swa_freq_scale"] = 1.0
    return replace(hp, **changes)
