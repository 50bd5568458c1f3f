#!/usr/bin/env python3
"""Writes tests/models/tokenizer_oracle_gemma.json: the token ids Google's
SentencePiece (the `sentencepiece` package, the implementation Gemma's own
tokenizer.model is made for) gives for a list of strings, with Gemma 3's
vocabulary read from the GGUF by the `gguf` package.

    pip install sentencepiece protobuf gguf numpy
    python3 tests/models/tokenizer_oracle_gemma.py [model.gguf] > tests/models/tokenizer_oracle_gemma.json

The model defaults to $TESSERA_GEMMA3 or
~/.cache/tessera/models/gemma-3-270m-q4_k_m.gguf (scripts/fetch-model.sh gemma3).

The GGUF holds no SentencePiece model, so one is rebuilt from its vocabulary
(a ModelProto, sentencepiece_model_pb2) the way Gemma's tokenizer.model is
set up: a BPE model with byte fallback, no dummy prefix, whitespace kept as
is and spelled U+2581, no Unicode normalisation ("identity"). Two things the
GGUF converter (llama.cpp's convert_hf_to_gguf.py) changed are undone:
  - user-defined pieces had U+2581 replaced by a plain space ("pre-normalize
    user-defined spaces", added there for Gemma); in the original they are
    "▁▁", "▁▁▁", ... and SentencePiece matches them after escaping spaces;
  - <unk> is marked CONTROL in the GGUF; SentencePiece needs exactly one
    UNKNOWN piece, the file's tokenizer.ggml.unknown_token_id.
main() checks the rebuilt model against facts known about Gemma 3
(check_reference) before writing anything.

SentencePiece never parses control tokens (<bos>, <start_of_turn>, ...)
written in the text. For cases with parse_special true the reference is
therefore computed by splitting the text at control-token strings (leftmost,
longest first) and encoding the pieces between them with SentencePiece; with
parse_special false the whole text goes to SentencePiece, which spells the
control-token text with ordinary pieces.
"""
import json
import os
import sys

import gguf
import sentencepiece
from sentencepiece import sentencepiece_model_pb2 as pb

from oracle_texts import TRICKY_TEXTS

SPACE = "\u2581"
Piece = pb.ModelProto.SentencePiece
# GGUF tokenizer.ggml.token_type -> SentencePiece piece type.
GGUF_TYPES = {1: Piece.NORMAL, 2: Piece.UNKNOWN, 3: Piece.CONTROL, 4: Piece.USER_DEFINED, 5: Piece.UNUSED,
              6: Piece.BYTE}

# Gemma's own strings: user-defined runs of newlines, spaces and tabs, HTML
# tags (user-defined), and its control tokens in chat turns.
GEMMA_TEXTS = [
    "a\n\nb\n\n\n\nc", "x" + "\n" * 40 + "y", "indent" + " " * 40 + "end", "tabs\t\t\t\there", "\t" * 35,
    "<table><tr><td>1</td></tr></table>", "<b>bold</b> <em>em</em>", "[multimodal] image",
    " mixed \t \n  whitespace \n\t", "▁ already a space mark", "Hello world",
]
SPECIAL_TEXTS = [
    "<start_of_turn>user\nHi there<end_of_turn>\n<start_of_turn>model\n",
    "<bos><start_of_turn>user\nYou are brief.\n\nWhat is 2+2?<end_of_turn>\n<start_of_turn>model\n",
    "<start_of_turn>", "<start_of_turn", "a<end_of_turn>b", "<eos>", "text<start_of_image>more<end_of_image>",
]


def model_path():
    if len(sys.argv) > 1:
        return sys.argv[1]
    return os.environ.get("TESSERA_GEMMA3") or os.path.expanduser(
        "~/.cache/tessera/models/gemma-3-270m-q4_k_m.gguf")


def read_vocab(path):
    r = gguf.GGUFReader(path)

    def array(key):
        f = r.fields[key]
        return [f.parts[i] for i in f.data]

    def scalar(key):
        return r.fields[key].parts[-1][0]

    assert bytes(r.fields["tokenizer.ggml.model"].parts[-1]).decode() == "llama"
    assert not scalar("tokenizer.ggml.add_space_prefix")
    tokens = [bytes(p).decode("utf-8") for p in array("tokenizer.ggml.tokens")]
    scores = [float(p[0]) for p in array("tokenizer.ggml.scores")]
    types = [int(p[0]) for p in array("tokenizer.ggml.token_type")]
    return tokens, scores, types, int(scalar("tokenizer.ggml.unknown_token_id"))


def build(tokens, scores, types, unk):
    m = pb.ModelProto()
    for i, (text, score, t) in enumerate(zip(tokens, scores, types)):
        p = m.pieces.add()
        p.piece = text.replace(" ", SPACE) if t == 4 else text
        p.score = score
        p.type = Piece.UNKNOWN if i == unk else GGUF_TYPES[t]
    m.trainer_spec.model_type = pb.TrainerSpec.BPE
    m.trainer_spec.vocab_size = len(tokens)
    m.trainer_spec.byte_fallback = True
    m.trainer_spec.unk_id = unk
    m.normalizer_spec.name = "identity"
    m.normalizer_spec.add_dummy_prefix = False
    m.normalizer_spec.remove_extra_whitespaces = False
    m.normalizer_spec.escape_whitespaces = True
    return sentencepiece.SentencePieceProcessor(model_proto=m.SerializeToString())


def check_reference(sp, tokens):
    """Facts about Gemma 3's tokenizer that do not come from this script."""
    def pieces(text):
        return [tokens[i] for i in sp.encode(text)]
    # No dummy prefix: "Hello" at the start is the piece without U+2581.
    assert pieces("Hello world") == ["Hello", SPACE + "world"], pieces("Hello world")
    assert sp.encode("Hello world") == [9259, 1902]
    # Runs of newlines and spaces are the user-defined tokens 107.. and 138...
    assert sp.encode("\n\n") == [108] and sp.encode("  ") == [138]
    # Digits are single pieces; a character outside the vocabulary falls back to <0xNN> bytes.
    assert pieces("2025") == ["2", "0", "2", "5"]
    assert pieces("\U000f0000") == ["<0xF3>", "<0xB0>", "<0x80>", "<0x80>"], pieces("\U000f0000")
    assert sp.decode(sp.encode("  x\n\n\ty")) == "  x\n\n\ty"


def split_special(text, specials):
    """Leftmost, longest-first split of text at control-token strings."""
    out, done, i = [], 0, 0
    while i < len(text):
        match = next((s for s in specials if text.startswith(s, i)), None)
        if match is None:
            i += 1
            continue
        out += [(False, text[done:i])] if i > done else []
        out.append((True, match))
        i = done = i + len(match)
    out += [(False, text[done:])] if done < len(text) else []
    return out


def encode(sp, text, parse_special, specials, ids_of):
    if not parse_special:
        return sp.encode(text)
    ids = []
    for special, part in split_special(text, specials):
        ids += [ids_of[part]] if special else sp.encode(part)
    return ids


def main():
    path = model_path()
    tokens, scores, types, unk = read_vocab(path)
    sp = build(tokens, scores, types, unk)
    check_reference(sp, tokens)
    specials = sorted({t for t, ty in zip(tokens, types) if ty == 3 and t}, key=len, reverse=True)
    ids_of = {}
    for i, t in enumerate(tokens):
        ids_of.setdefault(t, i)
    cases = []
    for text in TRICKY_TEXTS + GEMMA_TEXTS:
        cases.append({"parse_special": True, "text": text, "ids": encode(sp, text, True, specials, ids_of)})
    for text in SPECIAL_TEXTS:
        for parse_special in [True, False]:
            cases.append({"parse_special": parse_special, "text": text,
                          "ids": encode(sp, text, parse_special, specials, ids_of)})
    out = {
        "generator": "tests/models/tokenizer_oracle_gemma.py",
        "sentencepiece_version": sentencepiece.__version__,
        "model": os.path.basename(path),
        "n_vocab": len(tokens),
        "cases": cases,
    }
    sys.stdout.write("{\n")
    for k in ["generator", "sentencepiece_version", "model", "n_vocab"]:
        sys.stdout.write(" %s: %s,\n" % (json.dumps(k), json.dumps(out[k])))
    sys.stdout.write(' "cases": [\n')
    sys.stdout.write(",\n".join("  " + json.dumps(c, ensure_ascii=True) for c in cases))
    sys.stdout.write("\n ]\n}\n")


if __name__ == "__main__":
    main()
