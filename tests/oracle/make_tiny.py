#!/usr/bin/env python3
"""Write tiny random-weight llama GGUF models for the oracle comparison.

    make_tiny.py OUT_DIR [--list]

Each file is a 2-layer llama with n_ctx 128 and a 301-token GPT-2 byte-level
BPE vocabulary (3 ChatML-style special tokens, the 256 byte tokens, 42 merges),
laid out exactly as a llama.cpp-converted file (SmolLM2-135M-Instruct is the
model the layout was checked against):

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
n_ff 512). gguf-py quantizes q4_0..q8_0; quantize_np.py the k-quants. Output
is deterministic: the same bytes on every run.
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

    def __post_init__(self):
        known = set(LAYER_WEIGHTS) | {f"blk.{l}.{t}" for l in range(N_LAYER) for t in LAYER_WEIGHTS}
        for key, _ in self.types:
            if key not in known:
                raise ValueError(f"[make_tiny] Spec.types: '{key}' is not a layer weight "
                                 f"({', '.join(LAYER_WEIGHTS)}, optionally as blk.N.<name>)")

    @property
    def n_embd(self) -> int:
        return self.n_head * self.head_dim

    @property
    def name(self) -> str:
        gqa = self.n_head // self.n_head_kv
        s = f"tiny-gqa{gqa}-hd{self.head_dim}-{(self.mix or self.wtype.name).lower()}"
        return s + ("-tied" if self.out_type is None else "") + ".gguf"

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


def vocabulary() -> tuple[list[str], list[int], list[str]]:
    """tokens, token types, merges: specials, then the 256 byte tokens in
    code point order (as in SmolLM2), then one token per merge."""
    byte_tokens = sorted(bytes_to_unicode().values())
    tokens = SPECIAL_TOKENS + byte_tokens
    have = set(tokens)
    for m in MERGES:
        a, b = m.split(" ")
        if a not in have or b not in have or a + b in have:
            raise AssertionError(f"bad merge '{m}'")
        tokens.append(a + b)
        have.add(a + b)
    types = [int(gguf.TokenType.CONTROL)] * len(SPECIAL_TOKENS) + [int(gguf.TokenType.NORMAL)] * (
        len(tokens) - len(SPECIAL_TOKENS)
    )
    return tokens, types, MERGES


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
    tokens, types, merges = vocabulary()
    n_vocab = len(tokens)
    E, F, hd = spec.n_embd, spec.n_ff, spec.head_dim

    def lin(n_out: int, n_in: int, gain: float = 1.0) -> np.ndarray:
        return (rng.standard_normal((n_out, n_in)) * gain / np.sqrt(n_in)).astype(np.float32)

    def norm(n: int) -> np.ndarray:
        return (1.0 + 0.1 * rng.standard_normal(n)).astype(np.float32)

    w = gguf.GGUFWriter(path, "llama")
    w.add_name(spec.name[: -len(".gguf")])
    w.add_type("model")
    w.add_context_length(N_CTX)
    w.add_embedding_length(E)
    w.add_block_count(N_LAYER)
    w.add_feed_forward_length(F)
    w.add_head_count(spec.n_head)
    w.add_head_count_kv(spec.n_head_kv)
    w.add_rope_freq_base(spec.freq_base)
    w.add_layer_norm_rms_eps(spec.eps)
    w.add_file_type(spec.file_type)
    w.add_vocab_size(n_vocab)
    w.add_rope_dimension_count(hd)
    w.add_quantization_version(gguf.GGML_QUANT_VERSION)
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

    def put(name: str, arr: np.ndarray, qtype: QT) -> None:
        data, raw = encode_weight(arr, qtype)
        w.add_tensor(name, data, raw_dtype=raw)

    # Embedding rows ~ N(0, 1); a tied output uses them too, so scale them down
    # there to keep logits around std 3 (far from ties, far from saturation).
    embd_gain = 3.0 / np.sqrt(E) if spec.out_type is None else 1.0
    put("token_embd.weight", (rng.standard_normal((n_vocab, E)) * embd_gain).astype(np.float32), spec.embd_type)
    for l in range(N_LAYER):
        b = f"blk.{l}."
        put(b + "attn_norm.weight", norm(E), QT.F32)
        # 1.5 gain on q/k gives attention scores of a few units: a peaked but
        # not one-hot softmax, so every key contributes.
        put(b + "attn_q.weight", lin(spec.n_head * hd, E, 1.5), spec.weight_type(l, "attn_q"))
        put(b + "attn_k.weight", lin(spec.n_head_kv * hd, E, 1.5), spec.weight_type(l, "attn_k"))
        put(b + "attn_v.weight", lin(spec.n_head_kv * hd, E), spec.weight_type(l, "attn_v"))
        put(b + "attn_output.weight", lin(E, spec.n_head * hd), spec.weight_type(l, "attn_output"))
        put(b + "ffn_norm.weight", norm(E), QT.F32)
        put(b + "ffn_gate.weight", lin(F, E), spec.weight_type(l, "ffn_gate"))
        put(b + "ffn_up.weight", lin(F, E), spec.weight_type(l, "ffn_up"))
        put(b + "ffn_down.weight", lin(E, F), spec.weight_type(l, "ffn_down"))
    put("output_norm.weight", norm(E), QT.F32)
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
