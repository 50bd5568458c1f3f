#!/usr/bin/env python3
"""Writes tests/models/tokenizer_oracle.json: the token ids Hugging Face
`tokenizers` (an implementation independent of Tessera's) gives for a list of
strings (oracle_texts.py, plus ChatML special tokens), with the SmolLM2
vocabulary read from the GGUF by the `gguf` package.

    pip install tokenizers gguf numpy
    python3 tests/models/tokenizer_oracle.py [model.gguf] > tests/models/tokenizer_oracle.json

The model defaults to $TESSERA_SMOLLM2 or
~/.cache/tessera/models/SmolLM2-135M-Instruct.Q4_1.gguf. Each case runs with
the file's own pre-tokenizer ("smollm": digits isolated, then GPT-2's
ByteLevel regex, as SmolLM2's tokenizer.json has it); a part of them is
repeated with the same vocabulary under the pre-tokenizers of other
tokenizer.ggml.pre values (gpt2, llama3, qwen2), built from their published
regexes, to check Tessera's hand-written matchers.
"""
import json
import os
import sys

import gguf
import tokenizers
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers

from oracle_texts import TRICKY_TEXTS

GPT2_RE = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"
LLAMA3_RE = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
             r"|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2_RE = LLAMA3_RE.replace(r"\p{N}{1,3}", r"\p{N}")

TEXTS = TRICKY_TEXTS + [
    "<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n", "<|endoftext|>", "<|im_start", "a<|im_end|>b",
    "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
    "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n",
]
# Cases also run under the other pre-tokenizers (plain text: no special tokens).
OTHER_PRE_TEXTS = [t for t in TEXTS if "<|" not in t]


def model_path():
    if len(sys.argv) > 1:
        return sys.argv[1]
    return os.environ.get("TESSERA_SMOLLM2") or os.path.expanduser(
        "~/.cache/tessera/models/SmolLM2-135M-Instruct.Q4_1.gguf")


def read_vocab(path):
    r = gguf.GGUFReader(path)

    def strings(key):
        f = r.fields[key]
        return [bytes(f.parts[i]).decode("utf-8") for i in f.data]

    assert bytes(r.fields["tokenizer.ggml.model"].parts[-1]).decode() == "gpt2"
    types = [int(r.fields["tokenizer.ggml.token_type"].parts[i][0]) for i in r.fields["tokenizer.ggml.token_type"].data]
    return strings("tokenizer.ggml.tokens"), types, strings("tokenizer.ggml.merges")


def build(tokens, types, merges, pre):
    vocab = {}
    for i, t in enumerate(tokens):
        vocab.setdefault(t, i)
    pairs = [tuple(m.split(" ")) for m in merges]
    tok = Tokenizer(models.BPE(vocab=vocab, merges=pairs, ignore_merges=(pre == "llama3")))
    byte_level_regex = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    byte_level_plain = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    if pre == "smollm":  # SmolLM2's tokenizer.json
        tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True), byte_level_regex])
    elif pre == "gpt2":
        tok.pre_tokenizer = byte_level_regex
    else:
        regex = LLAMA3_RE if pre == "llama3" else QWEN2_RE
        tok.pre_tokenizer = pre_tokenizers.Sequence(
            [pre_tokenizers.Split(Regex(regex), behavior="isolated"), byte_level_plain])
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens([AddedToken(tokens[i], special=True, normalized=False)
                            for i, t in enumerate(types) if t in (3, 4)])
    return tok


def main():
    path = model_path()
    tokens, types, merges = read_vocab(path)
    cases = []
    for pre, texts in [("smollm", TEXTS), ("gpt2", OTHER_PRE_TEXTS), ("llama3", OTHER_PRE_TEXTS),
                       ("qwen2", OTHER_PRE_TEXTS)]:
        tok = build(tokens, types, merges, pre)
        for parse_special in ([True, False] if pre == "smollm" else [True]):
            tok.encode_special_tokens = not parse_special
            for text in texts:
                if not parse_special and "<|" not in text:
                    continue  # the same as with parse_special
                ids = tok.encode(text, add_special_tokens=False).ids
                cases.append({"pre": pre, "parse_special": parse_special, "text": text, "ids": ids})
    out = {
        "generator": "tests/models/tokenizer_oracle.py",
        "tokenizers_version": tokenizers.__version__,
        "model": os.path.basename(path),
        "n_vocab": len(tokens),
        "cases": cases,
    }
    sys.stdout.write("{\n")
    for k in ["generator", "tokenizers_version", "model", "n_vocab"]:
        sys.stdout.write(" %s: %s,\n" % (json.dumps(k), json.dumps(out[k])))
    sys.stdout.write(' "cases": [\n')
    sys.stdout.write(",\n".join("  " + json.dumps(c, ensure_ascii=True) for c in cases))
    sys.stdout.write("\n ]\n}\n")


if __name__ == "__main__":
    main()
