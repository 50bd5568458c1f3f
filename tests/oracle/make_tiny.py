#!/usr/bin/env python3
"""Write tiny random-weight GGUF models for the oracle comparison.

    make_tiny.py OUT_DIR [--list]

The llama files (tiny-gqa*) are 2-layer llamas with n_ctx 128 and a 301-token
GPT-2 byte-level BPE vocabulary (3 ChatML-style special tokens, the 256 byte
tokens, 42 merges), laid out exactly as a llama.cpp-converted file
(SmolLM2-135M-Instruct is the model the layout was checked against):

  * the same metadata keys (llama.*, tokenizer.ggml.*, general.*)
  * weights [ne0 = in, ne1 = out]; norms f32; output.weight omitted when tied
  * attn_q / attn_k rows in the order llama.cpp's converter writes them, i.e.
    already permuted so that RoPE rotates adjacent pairs (2i, 2i+1) (llama.cpp's
    NORMAL rope mode for the llama arch). For random weights the permutation
    of an i.i.d. matrix is again i.i.d., so the weights are simply drawn in
    that stored order; what matters is that readers treat them like real files.

The names say what each file covers: GQA ratio (n_head / n_head_kv), head
dim, weight type (or llama.cpp's name for the mix of types), and "tied" when
the output projection is token_embd. The set covers GQA 1/2/3/4 (with several
kv heads, so the head -> kv head mapping is exercised), head dims 32 and 64,
f32/f16/q4_0/q4_1/q5_0/q5_1/q8_0 weights, mixed embedding/output types like
real files, an FFN width that is not a multiple of 32 (legal for f16/f32
only), and the k-quants q2_K..q6_K in the per-tensor mixes llama-quantize
gives a 2-layer llama for Q2_K, Q3_K_M, Q4_K_M, Q5_K_M and Q6_K (k-quant rows
must be whole 256-element super-blocks: those files have n_embd 256 and
n_ff 512).

The other architectures (oracle_arch.py has the facts) are named
tiny-<variant>-...; each mirrors the metadata keys and tokenizer of a real
converted file of its family:

  tiny-llama3-*  llama plus rope_freqs.weight, factors 1..8 from Llama 3.1's
                 rope scaling rule; BPE vocabulary with Llama 3's special
                 tokens at the end, tokenizer pre "llama-bpe" (what the
                 converter writes for Llama 3; llama.cpp also reads "llama3")
  tiny-qwen2-*   attn_q / attn_k / attn_v biases; NEOX RoPE; ChatML specials
                 at the end of the vocabulary, pre "qwen2"
  tiny-qwen3-*   per-head q / k norms, key_length 64 != n_embd / n_head (32)
  tiny-gemma3-*  8 or 7 layers, so both sliding-window (il % 6 < 5) and global
                 layers (il = 5) appear, with windows of 8 and 5 positions --
                 shorter than compare.py's 16-token prompt, so the window
                 matters from the prefill on; head_dim != n_embd / n_head;
                 a SentencePiece vocabulary shaped like Gemma's (control
                 tokens <pad> <eos> <bos> <unk> <mask> <start_of_turn>
                 <end_of_turn>, <0x00>..<0xFF> byte tokens, pieces scored by
                 merge rank, single characters last). The -softcap file also
                 has final_logit_softcapping, linear RoPE scaling (factor 8,
                 as Gemma 3 4B+), an untied f16 output and 7 layers.

Random weights need help to exercise these features. q / k gains (and, with
q / k norms, norm weights around 1.5) give attention scores of several units,
so softmax is peaked and a wrong window, RoPE base or factor moves the top-1
tokens (feature_check.py checks that each does); higher (2) made Gemma's
logits 4x more sensitive to Tessera's f16 KV cache (4.7e-3 of the logit scale
against compare.py's 5e-3 tolerance; 1.5 gives 0.9-1.3e-3 on cpu, vulkan, gpuemu). Tied outputs
favour repeating the input token, so the new tied files get larger layer
outputs (TIED_RESIDUAL_GAIN; for Gemma, post-norm and output-norm weights
around TIED_GEMMA_NORM_MEAN) -- without them the tied Gemma file's top-1 was
its input token at every position. Other norm weights are drawn around 1 (for
Gemma the converter's +1 is already in them).

gguf-py quantizes q4_0..q8_0; quantize_np.py the k-quants. Output is
deterministic: the same bytes on every run.
"""
from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _deps  # noqa: E402

_deps.ensure()
import numpy as np  # noqa: E402
import gguf  # noqa: E402
from gguf import GGMLQuantizationType as QT  # noqa: E402

import quantize_np  # noqa: E402
from oracle import bytes_to_unicode  # noqa: E402

N_LAYER = 2
N_CTX = 128
# Gains for the non-llama files (the module docstring says why).
QK_NORM_MEAN = 1.5
TIED_RESIDUAL_GAIN = 2.0
TIED_GEMMA_NORM_MEAN = 3.0


LAYER_WEIGHTS = ("attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down")


@dataclass(frozen=True)
class Spec:
    n_head: int
    n_head_kv: int
    head_dim: int
    n_ff: int
    wtype: QT  # attention and FFN weights, unless `types` says otherwise
    embd_type: QT  # token_embd
    out_type: QT | None  # output.weight; None = tied to token_embd
    freq_base: float
    eps: float
    seed: int
    # llama.cpp's name for a mix of weight types ("Q4_K_M"): names the file
    # and sets general.file_type. None: the file is named for wtype.
    mix: str | None = None
    # Per-tensor exceptions to wtype: ("attn_v", Q5_K) for every layer,
    # ("blk.1.ffn_down", Q6_K) for one (a layer's own entry wins).
    types: tuple[tuple[str, QT], ...] = ()
    # general.architecture: llama, qwen2, qwen3 or gemma3
    arch: str = "llama"
    n_layer: int = N_LAYER
    # n_embd when it is not n_head * head_dim; key_length / value_length are
    # then written (as the converter does for Qwen3 and Gemma 3 anyway)
    embd: int | None = None
    rope_freqs: bool = False  # llama3: rope_freqs.weight
    n_swa: int = 0  # gemma3: attention.sliding_window
    softcap: float = 0.0  # gemma3: final_logit_softcapping (0: absent)
    rope_linear: float = 0.0  # rope.scaling.type linear with this factor (0: absent)

    def __post_init__(self):
        known = set(LAYER_WEIGHTS) | {f"blk.{l}.{t}" for l in range(self.n_layer) for t in LAYER_WEIGHTS}
        for key, _ in self.types:
            if key not in known:
                raise ValueError(f"[make_tiny] Spec.types: '{key}' is not a layer weight "
                                 f"({', '.join(LAYER_WEIGHTS)}, optionally as blk.N.<name>)")

    @property
    def n_embd(self) -> int:
        return self.embd if self.embd is not None else self.n_head * self.head_dim

    @property
    def variant(self) -> str:
        return "llama3" if self.rope_freqs else self.arch

    @property
    def name(self) -> str:
        gqa = self.n_head // self.n_head_kv
        prefix = "" if self.variant == "llama" else self.variant + "-"
        s = f"tiny-{prefix}gqa{gqa}-hd{self.head_dim}-{(self.mix or self.wtype.name).lower()}"
        return s + ("-softcap" if self.softcap else "") + ("-tied" if self.out_type is None else "") + ".gguf"

    @property
    def file_type(self) -> int:
        if self.mix is not None:
            return int(gguf.LlamaFileType["MOSTLY_" + self.mix])
        return FILE_TYPE[self.wtype]

    def weight_type(self, layer: int, tensor: str) -> QT:
        """Type of blk.{layer}.{tensor}.weight (tensor one of LAYER_WEIGHTS)."""
        given = dict(self.types)
        return given.get(f"blk.{layer}.{tensor}", given.get(tensor, self.wtype))


# The k-quant mixes follow llama.cpp's llama_tensor_get_type (src/llama-quant.cpp)
# for a 2-layer llama without an imatrix:
#   * output.weight is q6_K; token_embd keeps the mix's base type unless it is
#     tied, when it is quantized as the output (q6_K)
#   * Q4_K_M / Q5_K_M: attn_v and ffn_down go to q6_K in the layers
#     use_more_bits(i, n) picks -- i < n/8 or i >= 7n/8 or (i - n/8) % 3 == 2 --
#     which for n = 2 is layer 1 only
#   * Q3_K_M: attn_v q5_K (its first two layers), ffn_down q4_K (n/16 = 0
#     layers get q5_K), attn_output q4_K
#   * Q2_K: attn_v q4_K when n_head / n_head_kv >= 4 (else q3_K), ffn_down and
#     attn_output q3_K
# and for q5_0 / q5_1 an output row of n_embd 128 or 192 is not whole q6_K
# super-blocks, so llama.cpp falls back to q8_0 there.
SPECS = [
    # n_embd 96, 3 heads, plain multi-head attention, all q8_0
    Spec(3, 3, 32, 160, QT.Q8_0, QT.Q8_0, QT.Q8_0, 10000.0, 1e-5, 1),
    # SmolLM2's layout: GQA 3, head dim 64, q4_1 layers, q8_0 tied embedding
    Spec(6, 2, 64, 224, QT.Q4_1, QT.Q8_0, None, 100000.0, 1e-5, 2),
    # GQA 4 with two kv heads, head dim 32, q4_0, q4_0 embedding, q8_0 output
    Spec(8, 2, 32, 288, QT.Q4_0, QT.Q4_0, QT.Q8_0, 10000.0, 1e-6, 3),
    # GQA 4 with one kv head, head dim 64, q4_1 everywhere
    Spec(4, 1, 64, 352, QT.Q4_1, QT.Q4_1, QT.Q4_1, 500000.0, 1e-5, 4),
    # f16, FFN width 200 (not a multiple of 32), tied f16 embedding
    Spec(2, 2, 64, 200, QT.F16, QT.F16, None, 10000.0, 1e-5, 5),
    # f32 everywhere, GQA 3 with one kv head, odd FFN width 136
    Spec(3, 1, 32, 136, QT.F32, QT.F32, QT.F32, 10000.0, 1e-5, 6),
    # q5_0 layers and embedding (n_embd 128), q8_0 output; GQA 2, head dim 32
    Spec(4, 2, 32, 160, QT.Q5_0, QT.Q5_0, QT.Q8_0, 10000.0, 1e-5, 7),
    # q5_1 layers and embedding (n_embd 192, FFN 224), q8_0 output; plain MHA, head dim 64
    Spec(3, 3, 64, 224, QT.Q5_1, QT.Q5_1, QT.Q8_0, 100000.0, 1e-5, 8),
    # Q4_K_M: q4_K with q6_K attn_v / ffn_down in layer 1; GQA 2, head dim 64
    Spec(4, 2, 64, 512, QT.Q4_K, QT.Q4_K, QT.Q6_K, 10000.0, 1e-5, 9, "Q4_K_M",
         (("blk.1.attn_v", QT.Q6_K), ("blk.1.ffn_down", QT.Q6_K))),
    # Q5_K_M: q5_K with q6_K attn_v / ffn_down in layer 1; plain MHA, 8 heads of 32
    Spec(8, 8, 32, 512, QT.Q5_K, QT.Q5_K, QT.Q6_K, 500000.0, 1e-5, 10, "Q5_K_M",
         (("blk.1.attn_v", QT.Q6_K), ("blk.1.ffn_down", QT.Q6_K))),
    # Q3_K_M: q3_K with q5_K attn_v, q4_K ffn_down / attn_output; GQA 2, head dim 32
    Spec(8, 4, 32, 512, QT.Q3_K, QT.Q3_K, QT.Q6_K, 10000.0, 1e-6, 11, "Q3_K_M",
         (("attn_v", QT.Q5_K), ("ffn_down", QT.Q4_K), ("attn_output", QT.Q4_K))),
    # Q2_K: q2_K with q4_K attn_v (GQA 4), q3_K ffn_down / attn_output; head dim 32
    Spec(8, 2, 32, 512, QT.Q2_K, QT.Q2_K, QT.Q6_K, 10000.0, 1e-5, 12, "Q2_K",
         (("attn_v", QT.Q4_K), ("ffn_down", QT.Q3_K), ("attn_output", QT.Q3_K))),
    # Q6_K everywhere, tied q6_K embedding; GQA 4 with one kv head, head dim 64
    Spec(4, 1, 64, 512, QT.Q6_K, QT.Q6_K, None, 10000.0, 1e-5, 13, "Q6_K"),
    # The other architectures. Their seeds are picked so that over compare.py's
    # prompt and 32 greedy tokens the oracle's top two logits never come closer
    # than 2e-3 of the logit scale (Tessera's error is ~5e-4 of it): a near tie
    # would fail the comparison on rounding alone.
    # llama3 (rope_freqs, base 500000) as Llama 3.2 1B, tied: Q4_K_M, whose tied
    # token_embd is quantized as the output (q6_K); GQA 2, head dim 64
    Spec(4, 2, 64, 512, QT.Q4_K, QT.Q6_K, None, 500000.0, 1e-5, 104, "Q4_K_M",
         (("blk.1.attn_v", QT.Q6_K), ("blk.1.ffn_down", QT.Q6_K)), rope_freqs=True),
    # qwen2 (q / k / v biases, NEOX, base 1e6), tied as Qwen2 0.5B: Q5_K_M; GQA 4, head dim 32
    Spec(8, 2, 32, 512, QT.Q5_K, QT.Q6_K, None, 1000000.0, 1e-6, 101, "Q5_K_M",
         (("blk.1.attn_v", QT.Q6_K), ("blk.1.ffn_down", QT.Q6_K)), arch="qwen2"),
    # qwen3 (q / k norms), head dim 64 with n_embd 256 and 8 heads (q_dim 512);
    # q8_0 layers and embedding, q6_K output; GQA 2
    Spec(8, 4, 64, 512, QT.Q8_0, QT.Q8_0, QT.Q6_K, 1000000.0, 1e-6, 108, arch="qwen3", embd=256),
    # gemma3 as gemma-3-270m's Q4_K_M: q5_0 attn_q / attn_k / ffn_gate / ffn_up,
    # q8_0 attn_v, q4_K attn_output (rows of q_dim 256), q6_K ffn_down (rows of
    # n_ff 512), tied q8_0 embedding; 8 layers (5 global, 0-4 and 6-7 SWA),
    # window 8; n_embd 128 with 4 heads of 64, one kv head
    Spec(4, 1, 64, 512, QT.Q5_0, QT.Q8_0, None, 1000000.0, 1e-6, 109, "Q4_K_M",
         (("attn_v", QT.Q8_0), ("attn_output", QT.Q4_K), ("ffn_down", QT.Q6_K)),
         arch="gemma3", n_layer=8, embd=128, n_swa=8),
    # gemma3, f16 with an untied output, final_logit_softcapping 5 (logits of
    # std ~3 come out visibly compressed), linear RoPE scaling 8 on the global
    # layer; 7 layers (5 global), window 5; n_embd 96 with 4 heads of 32, GQA 2
    Spec(4, 2, 32, 192, QT.F16, QT.F16, QT.F16, 1000000.0, 1e-6, 139,
         arch="gemma3", n_layer=7, embd=96, n_swa=5, softcap=10.0, rope_linear=8.0),
]

# llama.cpp file types (general.file_type) for the dominant weight type
FILE_TYPE = {QT.F32: 0, QT.F16: 1, QT.Q4_0: 2, QT.Q4_1: 3, QT.Q8_0: 7, QT.Q5_0: 8, QT.Q5_1: 9}

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]  # ids 0, 1, 2 as in SmolLM2
MERGES = [
    "Ġ t", "Ġ a", "i n", "h e", "Ġ Ġ", "r e", "o n", "e r", "Ġt he", "a t", "Ġ s", "Ġ o", "e n", "Ġ c",
    "e s", "Ġ w", "n d", "i t", "o r", "i s", "a l", "Ġ p", "in g", "Ġ f", "a n", "e d", "Ġ b", "o u",
    "a r", "Ġ in", "Ġo f", "Ġ m", "Ġa nd", "i on", "i c", "Ġ d", "Ġt o", "ĠĠ ĠĠ", "l e", "r o", "a s", "e l",
]
CHAT_TEMPLATE = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + "
    "'<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
# Llama 3's special tokens (ids 128000.. in the real vocabulary: after the rest)
LLAMA3_SPECIALS = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]
LLAMA3_CHAT_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}{{ '<|start_header_id|>' + message['role'] + "
    "'<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}"
)
GEMMA_CHAT_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}{% set role = 'model' if message['role'] == 'assistant' "
    "else message['role'] %}{{ '<start_of_turn>' + role + '\\n' + message['content'] | trim + "
    "'<end_of_turn>\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<start_of_turn>model\\n' }}{% endif %}"
)


def vocabulary(specials_last: bool = False, specials: list[str] = SPECIAL_TOKENS
               ) -> tuple[list[str], list[int], list[str]]:
    """tokens, token types, merges of the byte-level BPE vocabulary: the 256
    byte tokens in code point order (as in SmolLM2), one token per merge, and
    the special tokens first (SmolLM2) or last (Llama 3, Qwen)."""
    byte_tokens = sorted(bytes_to_unicode().values())
    tokens = byte_tokens if specials_last else specials + byte_tokens
    have = set(tokens)
    for m in MERGES:
        a, b = m.split(" ")
        if a not in have or b not in have or a + b in have:
            raise AssertionError(f"bad merge '{m}'")
        tokens.append(a + b)
        have.add(a + b)
    control, normal = int(gguf.TokenType.CONTROL), int(gguf.TokenType.NORMAL)
    if specials_last:
        return tokens + specials, [normal] * len(tokens) + [control] * len(specials), MERGES
    types = [control] * len(specials) + [normal] * (len(tokens) - len(specials))
    return tokens, types, MERGES


# Gemma's SentencePiece vocabulary, in miniature: control tokens, user-defined
# newline runs, the 256 byte tokens (score 0), then pieces with score
# -(rank) -- each the concatenation of two earlier tokens, so SentencePiece's
# merging can reach it -- and the single characters last, scored lowest.
GEMMA_CONTROL = ["<pad>", "<eos>", "<bos>", "<unk>", "<mask>", "<start_of_turn>", "<end_of_turn>"]
GEMMA_USER_DEFINED = ["\n", "\n\n", "\n\n\n"]
GEMMA_PIECES = [
    "▁t", "in", "er", "▁a", "he", "on", "re", "▁s", "en", "at", "▁the", "or", "▁w", "es", "▁c", "is", "it",
    "an", "▁o", "ou", "▁f", "ed", "nd", "ing", "▁of", "▁and", "▁to", "▁in", "▁is", "▁p", "▁m", "ar", "al",
    "▁b", "ic", "le", "ro", "▁d", "as", "▁h", "hi", "▁hi", "▁th", "▁I", "▁T", "ll", "▁Th", "▁The",
]
GEMMA_CHARS = (["▁"] + [chr(c) for c in range(ord("a"), ord("z") + 1)]
               + [chr(c) for c in range(ord("A"), ord("Z") + 1)]
               + [str(d) for d in range(10)] + list(".,!?'\"-:;()"))


def spm_vocabulary() -> tuple[list[str], list[int], list[float]]:
    """tokens, token types, scores of the Gemma-shaped SentencePiece vocabulary."""
    T = gguf.TokenType
    tokens = GEMMA_CONTROL + GEMMA_USER_DEFINED + [f"<0x{b:02X}>" for b in range(256)]
    types = ([int(T.CONTROL)] * len(GEMMA_CONTROL) + [int(T.USER_DEFINED)] * len(GEMMA_USER_DEFINED)
             + [int(T.BYTE)] * 256)
    scores = [-1000.0] * (len(GEMMA_CONTROL) + len(GEMMA_USER_DEFINED)) + [0.0] * 256
    have = set(GEMMA_CHARS)
    for rank, piece in enumerate(GEMMA_PIECES + GEMMA_CHARS):
        if len(piece) > 1 and not any(piece[:i] in have and piece[i:] in have for i in range(1, len(piece))):
            raise AssertionError(f"piece '{piece}' is not two earlier tokens")
        tokens.append(piece)
        types.append(int(T.NORMAL))
        scores.append(-float(rank))
        have.add(piece)
    if len(set(tokens)) != len(tokens):
        raise AssertionError("duplicate tokens in the SentencePiece vocabulary")
    return tokens, types, scores


def write_tokenizer(w: gguf.GGUFWriter, variant: str) -> int:
    """The tokenizer.* keys of variant's family; returns the vocabulary size."""
    if variant == "gemma3":  # as gemma-3-270m: SentencePiece, BOS added, no space prefix
        tokens, types, scores = spm_vocabulary()
        w.add_tokenizer_model("llama")
        w.add_tokenizer_pre("default")
        w.add_token_list(tokens)
        w.add_token_scores(scores)
        w.add_token_types(types)
        w.add_bos_token_id(tokens.index("<bos>"))
        w.add_eos_token_id(tokens.index("<eos>"))
        w.add_unk_token_id(tokens.index("<unk>"))
        w.add_pad_token_id(tokens.index("<pad>"))
        w.add_add_bos_token(True)
        w.add_add_sep_token(False)
        w.add_add_eos_token(False)
        w.add_add_space_prefix(False)
        w.add_chat_template(GEMMA_CHAT_TEMPLATE)
        return len(tokens)
    if variant == "llama":  # as SmolLM2
        tokens, types, merges = vocabulary()
        w.add_tokenizer_model("gpt2")
        w.add_tokenizer_pre("smollm")
        w.add_token_list(tokens)
        w.add_token_types(types)
        w.add_token_merges(merges)
        w.add_bos_token_id(1)
        w.add_eos_token_id(2)
        w.add_unk_token_id(0)
        w.add_pad_token_id(2)
        w.add_add_bos_token(False)
        w.add_add_space_prefix(False)
        w.add_chat_template(CHAT_TEMPLATE)
        return len(tokens)
    llama3 = variant == "llama3"
    specials = LLAMA3_SPECIALS if llama3 else SPECIAL_TOKENS
    tokens, types, merges = vocabulary(specials_last=True, specials=specials)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("llama-bpe" if llama3 else "qwen2")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(merges)
    if llama3:  # as Llama 3.2 Instruct: BOS <|begin_of_text|> added, EOS <|eot_id|>
        w.add_bos_token_id(tokens.index("<|begin_of_text|>"))
        w.add_eos_token_id(tokens.index("<|eot_id|>"))
        w.add_add_bos_token(True)
        w.add_chat_template(LLAMA3_CHAT_TEMPLATE)
    else:  # as Qwen2 / Qwen3 Instruct: EOS <|im_end|>, <|endoftext|> as BOS and padding, no BOS added
        w.add_eos_token_id(tokens.index("<|im_end|>"))
        w.add_pad_token_id(tokens.index("<|endoftext|>"))
        w.add_bos_token_id(tokens.index("<|endoftext|>"))
        w.add_add_bos_token(False)
        w.add_chat_template(CHAT_TEMPLATE)
    return len(tokens)


def llama3_rope_factors(n_rot: int, base: float, factor: float = 8.0, low_freq_factor: float = 1.0,
                        high_freq_factor: float = 4.0, original_context: int = 32) -> np.ndarray:
    """f32 [n_rot / 2]: Llama 3.1's rope scaling rule (as the converter
    computes rope_freqs.weight): 1 for wavelengths under original_context /
    high_freq_factor, `factor` over original_context / low_freq_factor, a
    smooth blend between. original_context is 8192 in Llama 3.1; 32 here, so
    that the factors (1, 1.23, 2.07, 3.73, 8, 8, ...) reach the dimensions that
    turn noticeably within a tiny model's context."""
    freqs = base ** (-np.arange(0, n_rot, 2, dtype=np.float64) / n_rot)
    wavelen = 2 * np.pi / freqs
    smooth = (original_context / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor)
    blend = 1.0 / ((1 - smooth) / factor + smooth)
    out = np.where(wavelen < original_context / high_freq_factor, 1.0,
                   np.where(wavelen > original_context / low_freq_factor, factor, blend))
    return out.astype(np.float32)


def encode_weight(w: np.ndarray, qtype: QT) -> tuple[np.ndarray, QT | None]:
    """float32 (out, in) -> array to store plus the raw type for add_tensor."""
    if qtype == QT.F32:
        return w.astype(np.float32), None
    if qtype == QT.F16:
        return w.astype(np.float16), None
    per = gguf.GGML_QUANT_SIZES[qtype][0]
    if w.shape[-1] % per:
        raise ValueError(f"[make_tiny] {qtype.name} needs rows that are a multiple of {per}, got {w.shape}")
    if qtype in (QT.Q2_K, QT.Q3_K, QT.Q4_K, QT.Q5_K, QT.Q6_K):  # gguf-py 0.19 cannot quantize these
        return quantize_np.quantize(w.astype(np.float32), qtype), qtype
    return gguf.quants.quantize(w.astype(np.float32), qtype), qtype


def write_model(spec: Spec, path: str) -> None:
    rng = np.random.default_rng(spec.seed)
    E, F, hd = spec.n_embd, spec.n_ff, spec.head_dim
    llama_family = spec.arch == "llama"
    gemma3 = spec.arch == "gemma3"
    qk_norm = spec.arch in ("qwen3", "gemma3")

    def lin(n_out: int, n_in: int, gain: float = 1.0) -> np.ndarray:
        return (rng.standard_normal((n_out, n_in)) * gain / np.sqrt(n_in)).astype(np.float32)

    def norm(n: int, mean: float = 1.0) -> np.ndarray:
        return (mean + 0.1 * rng.standard_normal(n)).astype(np.float32)

    def vec(n: int, std: float) -> np.ndarray:
        return (std * rng.standard_normal(n)).astype(np.float32)

    w = gguf.GGUFWriter(path, spec.arch)
    w.add_name(spec.name[: -len(".gguf")])
    w.add_type("model")
    w.add_context_length(N_CTX)
    w.add_embedding_length(E)
    w.add_block_count(spec.n_layer)
    w.add_feed_forward_length(F)
    w.add_head_count(spec.n_head)
    w.add_head_count_kv(spec.n_head_kv)
    w.add_rope_freq_base(spec.freq_base)
    w.add_layer_norm_rms_eps(spec.eps)
    if spec.embd is not None or qk_norm:
        w.add_key_length(hd)
        w.add_value_length(hd)
    if spec.n_swa:
        w.add_sliding_window(spec.n_swa)
    if spec.softcap:
        w.add_final_logit_softcapping(spec.softcap)
    if spec.rope_linear:
        w.add_rope_scaling_type(gguf.RopeScalingType.LINEAR)
        w.add_rope_scaling_factor(spec.rope_linear)
    w.add_file_type(spec.file_type)
    if not llama_family:
        n_vocab = write_tokenizer(w, spec.variant)
        w.add_quantization_version(gguf.GGML_QUANT_VERSION)
    else:
        # the key order of a converted llama (vocab_size before the tokenizer)
        n_vocab = len(vocabulary()[0]) if spec.variant == "llama" else len(vocabulary(True, LLAMA3_SPECIALS)[0])
        w.add_vocab_size(n_vocab)
        w.add_rope_dimension_count(hd)
        w.add_quantization_version(gguf.GGML_QUANT_VERSION)
        write_tokenizer(w, spec.variant)

    def put(name: str, arr: np.ndarray, qtype: QT) -> None:
        data, raw = encode_weight(arr, qtype)
        w.add_tensor(name, data, raw_dtype=raw)

    if spec.rope_freqs:  # the converter emits it first
        put("rope_freqs.weight", llama3_rope_factors(hd, spec.freq_base), QT.F32)
    # Embedding rows ~ N(0, 1); a tied output uses them too, so scale them down
    # there to keep logits around std 3 (far from ties, far from saturation).
    # Gemma multiplies the rows by sqrt(n_embd) on input: scale them down
    # there too, to an input of rms 1 (3 when tied).
    embd_gain = 3.0 / np.sqrt(E) if spec.out_type is None else (1.0 / np.sqrt(E) if gemma3 else 1.0)
    # A tied output favours the input token itself (its row is in the residual
    # stream): greedy decoding then repeats one token. Larger layer outputs
    # dilute that. Gemma, whose layers add unit-rms normed outputs and whose
    # input rows are scaled by sqrt(n_embd), needs it most: its tied input rows
    # get rms 1 instead of 3 and its post-norms and output norm weights are
    # drawn around TIED_GEMMA_NORM_MEAN. The llama files predate this and keep gain 1.
    tied_new = spec.out_type is None and spec.variant != "llama"
    res_gain = TIED_RESIDUAL_GAIN if tied_new and not gemma3 else 1.0
    post_mean = TIED_GEMMA_NORM_MEAN if tied_new and gemma3 else 1.0
    if tied_new and gemma3:
        embd_gain = 1.0 / np.sqrt(E)
    put("token_embd.weight", (rng.standard_normal((n_vocab, E)) * embd_gain).astype(np.float32), spec.embd_type)
    for l in range(spec.n_layer):
        b = f"blk.{l}."
        put(b + "attn_norm.weight", norm(E), QT.F32)
        # 1.5 gain on q/k gives attention scores of a few units: a peaked but
        # not one-hot softmax, so every key contributes. With q / k norms the
        # scale comes from the norm weights instead (below).
        put(b + "attn_q.weight", lin(spec.n_head * hd, E, 1.5), spec.weight_type(l, "attn_q"))
        put(b + "attn_k.weight", lin(spec.n_head_kv * hd, E, 1.5), spec.weight_type(l, "attn_k"))
        put(b + "attn_v.weight", lin(spec.n_head_kv * hd, E), spec.weight_type(l, "attn_v"))
        if spec.arch == "qwen2":  # biases of the size of the matmul outputs (std 1.5, 1.5, 1)
            put(b + "attn_q.bias", vec(spec.n_head * hd, 1.0), QT.F32)
            put(b + "attn_k.bias", vec(spec.n_head_kv * hd, 1.0), QT.F32)
            put(b + "attn_v.bias", vec(spec.n_head_kv * hd, 0.5), QT.F32)
        if qk_norm:
            # Normalized q and k have rms 1 per element, so scores would be
            # ~N(0, 1): weights around QK_NORM_MEAN widen them to a few units.
            put(b + "attn_q_norm.weight", norm(hd, QK_NORM_MEAN), QT.F32)
            put(b + "attn_k_norm.weight", norm(hd, QK_NORM_MEAN), QT.F32)
        put(b + "attn_output.weight", lin(E, spec.n_head * hd, res_gain), spec.weight_type(l, "attn_output"))
        if gemma3:
            put(b + "post_attention_norm.weight", norm(E, post_mean), QT.F32)
        put(b + "ffn_norm.weight", norm(E), QT.F32)
        put(b + "ffn_gate.weight", lin(F, E), spec.weight_type(l, "ffn_gate"))
        put(b + "ffn_up.weight", lin(F, E), spec.weight_type(l, "ffn_up"))
        put(b + "ffn_down.weight", lin(E, F, res_gain), spec.weight_type(l, "ffn_down"))
        if gemma3:
            put(b + "post_ffw_norm.weight", norm(E, post_mean), QT.F32)
    put("output_norm.weight", norm(E, post_mean), QT.F32)
    if spec.out_type is not None:
        put("output.weight", lin(n_vocab, E, 3.0), spec.out_type)

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out_dir")
    ap.add_argument("--list", action="store_true", help="print the file names only")
    args = ap.parse_args(argv)
    if args.list:
        for s in SPECS:
            print(s.name)
        return 0
    os.makedirs(args.out_dir, exist_ok=True)
    for s in SPECS:
        path = os.path.join(args.out_dir, s.name)
        tmp = path + ".tmp"
        write_model(s, tmp)
        os.replace(tmp, path)
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
