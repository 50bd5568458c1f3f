#!/usr/bin/env python3
"""Write tiny GGUF models with bad hyperparameters, which a model loader must
refuse with an error naming the key or tensor at fault.

    make_bad_models.py OUT_DIR

The GGUF container of each file is valid (tests/gguf/gguf_corrupt_test.cpp
covers broken containers); what is wrong is the model: a missing or zero
sliding window, head counts that do not divide, a key_length the attention
weights disagree with, a rope_freqs.weight of the wrong length, an
architecture nobody implements, a missing or mis-sized bias. Each is a copy of
one of make_tiny.py's files with exactly one change; the unchanged files are
written too, as controls that must load.

OUT_DIR/cases.json lists them:
    [{"file": NAME, "change": WHAT, "expect": SUBSTRING or null}, ...]
expect null: a control, which must load and run; otherwise the loader must
fail cleanly (non-zero exit, no signal) with SUBSTRING in its message.
check_refusals.py runs tessera-run on every case.

Before writing cases.json, each file goes through the oracle, which must
agree: a control loads, a bad file raises an error containing SUBSTRING (so
the change really breaks what it is meant to, and only that). Output is
deterministic: the same bytes on every run.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass, field

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _deps  # noqa: E402

_deps.ensure()
import numpy as np  # noqa: E402
import gguf  # noqa: E402
from gguf import GGUFValueType as VT  # noqa: E402

import make_tiny  # noqa: E402
import oracle  # noqa: E402
import oracle_arch  # noqa: E402

# The make_tiny.py files the bad ones are made from (name -> short tag).
BASES = {
    "tiny-gqa2-hd64-q4_k_m.gguf": "llama",
    "tiny-llama3-gqa2-hd64-q4_k_m-tied.gguf": "llama3",
    "tiny-qwen2-gqa4-hd32-q5_k_m-tied.gguf": "qwen2",
    "tiny-qwen3-gqa2-hd64-q8_0.gguf": "qwen3",
    "tiny-gemma3-gqa4-hd64-q4_k_m-tied.gguf": "gemma3",
}


@dataclass
class Case:
    name: str  # bad-<name>.gguf
    base: str  # tag in BASES
    change: str  # what is wrong, for people
    expect: str  # substring of the loader's error message
    set_kv: dict = field(default_factory=dict)  # key -> (GGUFValueType, value); added if absent
    drop_kv: tuple = ()
    drop_tensors: tuple = ()
    replace_tensors: dict = field(default_factory=dict)  # name -> f32 array (numpy order)


CASES = [
    Case("gemma3-no-sliding-window", "gemma3", "gemma3.attention.sliding_window is missing (llama.cpp requires it)",
         "gemma3.attention.sliding_window", drop_kv=("gemma3.attention.sliding_window",)),
    Case("gemma3-sliding-window-0", "gemma3", "gemma3.attention.sliding_window = 0",
         "gemma3.attention.sliding_window", set_kv={"gemma3.attention.sliding_window": (VT.UINT32, 0)}),
    Case("gemma3-sliding-window-pattern-0", "gemma3",
         "gemma3.attention.sliding_window_pattern = 0 (il % 0: a division by zero)",
         "sliding_window_pattern", set_kv={"gemma3.attention.sliding_window_pattern": (VT.UINT32, 0)}),
    Case("llama-head-count-kv-3", "llama", "attention.head_count 4 is not a multiple of head_count_kv 3",
         "head_count_kv", set_kv={"llama.attention.head_count_kv": (VT.UINT32, 3)}),
    Case("llama-head-count-kv-0", "llama", "attention.head_count_kv = 0 (a division by zero)",
         "head_count_kv", set_kv={"llama.attention.head_count_kv": (VT.UINT32, 0)}),
    Case("qwen3-key-length-32", "qwen3",
         "key_length and value_length 32, but attn_q / attn_k / attn_v hold heads of 64 "
         "(blk.0.attn_q.weight is [256, 512], the keys imply [256, 256])",
         "attn_q", set_kv={"qwen3.attention.key_length": (VT.UINT32, 32),
                           "qwen3.attention.value_length": (VT.UINT32, 32)}),
    Case("llama3-rope-freqs-64", "llama3", "rope_freqs.weight has 64 factors, n_rot / 2 is 32",
         "rope_freqs", replace_tensors={"rope_freqs.weight": np.ones(64, np.float32)}),
    Case("mamba", "llama", "general.architecture 'mamba' (the llama.* keys and tensors unchanged)",
         "mamba"),
    Case("qwen2-no-attn-k-bias", "qwen2", "blk.1.attn_k.bias is missing (layer 0 has it)",
         "blk.1.attn_k.bias", drop_tensors=("blk.1.attn_k.bias",)),
    Case("qwen2-short-attn-q-bias", "qwen2", "blk.0.attn_q.bias has 128 values, q_dim is 256",
         "blk.0.attn_q.bias", replace_tensors={"blk.0.attn_q.bias": np.zeros(128, np.float32)}),
    Case("qwen3-no-attn-k-norm", "qwen3", "blk.0.attn_k_norm.weight is missing",
         "blk.0.attn_k_norm.weight", drop_tensors=("blk.0.attn_k_norm.weight",)),
    Case("gemma3-no-post-ffw-norm", "gemma3", "blk.5.post_ffw_norm.weight (the global layer's) is missing",
         "blk.5.post_ffw_norm.weight", drop_tensors=("blk.5.post_ffw_norm.weight",)),
]
ARCH_OVERRIDE = {"mamba": "mamba"}  # case name -> general.architecture


def copy_gguf(src: str, dst: str, case: Case | None = None) -> None:
    """Rewrite src to dst (same keys in the same order, same tensors and bytes)
    with case's changes."""
    r = gguf.GGUFReader(src)
    arch = str(r.fields["general.architecture"].contents())
    if case is not None:
        arch = ARCH_OVERRIDE.get(case.name, arch)
    set_kv = dict(case.set_kv) if case else {}
    drop_kv = set(case.drop_kv) if case else set()
    w = gguf.GGUFWriter(dst, arch)  # writes general.architecture first
    for f in r.fields.values():
        if f.name.startswith("GGUF.") or f.name == "general.architecture" or f.name in drop_kv:
            continue
        if f.name in set_kv:
            vtype, val = set_kv.pop(f.name)
            w.add_key_value(f.name, val, vtype)
        elif f.types[0] == VT.ARRAY:
            w.add_key_value(f.name, f.contents(), VT.ARRAY, sub_type=f.types[-1])
        else:
            w.add_key_value(f.name, f.contents(), f.types[0])
    for key, (vtype, val) in set_kv.items():  # new keys
        w.add_key_value(key, val, vtype)
    drop_t = set(case.drop_tensors) if case else set()
    repl = case.replace_tensors if case else {}
    for t in r.tensors:
        if t.name in drop_t:
            continue
        if t.name in repl:
            w.add_tensor(t.name, repl[t.name])
        else:
            w.add_tensor(t.name, np.asarray(t.data), raw_dtype=gguf.GGMLQuantizationType(int(t.tensor_type)))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def oracle_verdict(path: str) -> str | None:
    """None if the oracle loads path, else its error message."""
    try:
        oracle.Model(path)
    except (oracle_arch.HparamError, KeyError, ValueError) as e:
        return str(e)
    return None


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out_dir")
    args = ap.parse_args(argv)
    os.makedirs(args.out_dir, exist_ok=True)
    specs = {s.name: s for s in make_tiny.SPECS}
    base_path = {}
    cases = []
    ok = True
    for name, tag in BASES.items():
        path = os.path.join(args.out_dir, f"good-{tag}.gguf")
        src = path + ".src"
        make_tiny.write_model(specs[name], src)
        copy_gguf(src, path)  # through the same rewrite as the bad files
        os.remove(src)
        base_path[tag] = path
        cases.append({"file": os.path.basename(path), "change": f"none: {name} as make_tiny.py writes it",
                      "expect": None})
        msg = oracle_verdict(path)
        if msg is not None:
            print(f"FAIL {os.path.basename(path)}: the oracle refuses the control: {msg}")
            ok = False
    for c in CASES:
        path = os.path.join(args.out_dir, f"bad-{c.name}.gguf")
        copy_gguf(base_path[c.base], path, c)
        cases.append({"file": os.path.basename(path), "change": c.change, "expect": c.expect})
        msg = oracle_verdict(path)
        if msg is None or c.expect not in msg:
            print(f"FAIL {os.path.basename(path)}: the oracle should refuse it naming '{c.expect}', got: {msg}")
            ok = False
        else:
            print(f"ok   {os.path.basename(path)}: {msg}")
    with open(os.path.join(args.out_dir, "cases.json"), "w") as f:
        json.dump(cases, f, indent=1)
        f.write("\n")
    print(f"wrote {len(cases)} files and cases.json to {args.out_dir}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
