#!/usr/bin/env python3
"""Check that the tiny models exercise every architecture feature: with one
feature switched off in the oracle (oracle_arch.ABLATIONS), as a runtime that
forgot it would compute, compare.py's criteria must fail on that model.

    feature_check.py TINY_DIR [-n 32]

For each tiny file of a non-llama variant, the oracle runs compare.py's
default prompt (folded into the vocabulary) and -n greedy tokens, once as is
and once per feature of its architecture with that feature off. A feature is
caught when the top-1 token changes at some prompt position or the greedy
tokens differ (compare.py's criteria 2 and 3); for final_logit_softcapping,
which is monotonic and cannot move a top-1, when the logit error exceeds
compare.py's tolerance (criterion 1). Printed per feature: prompt positions
whose top-1 changed, the first greedy step that differs, the largest logit
change relative to compare.py's tolerance.

Also checked per file, for the oracle itself: its KV-cache decode (one token
at a time after the prefill, where the sliding window and per-layer RoPE act
on cached keys) gives the logits of one prefill over the whole sequence.

Every feature of every file must be caught, and together the files must cover
every feature listed in FEATURES; exit 0 then, else 1.
"""
from __future__ import annotations

import argparse
import glob
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _deps  # noqa: E402

_deps.ensure()
import numpy as np  # noqa: E402

import compare  # noqa: E402
import oracle  # noqa: E402

# The features each variant has, as oracle_arch.ABLATIONS names them.
FEATURES = {
    "llama3": ["rope_freqs"],
    "qwen2": ["qkv_bias", "rope_mode"],
    "qwen3": ["qk_norm", "rope_mode"],
    "gemma3": ["swa_window", "swa_rope", "qk_norm", "embd_scale", "post_norms", "rope_mode"],
}
# Present only when the file sets them.
OPTIONAL = {"rope_scaling": lambda hp: hp.freq_scale != 1.0, "softcap": lambda hp: hp.final_softcap > 0}
# Caught by the logit tolerance alone (cannot change an argmax).
LOGITS_ONLY = {"softcap"}


def features_of(model: oracle.Model) -> list[str]:
    hp = model.hp
    return FEATURES.get(hp.variant, []) + [f for f, present in OPTIONAL.items() if present(hp)]


def decode_matches_prefill(model: oracle.Model, prompt: list[int], tokens: list[int]) -> float:
    """Largest |logit difference| between decoding tokens one at a time after
    prompt and one prefill of prompt + tokens, relative to the logit scale."""
    seq = prompt + tokens[:-1]
    full = model.forward(seq, model.new_cache())
    cache = model.new_cache()
    rows = [model.forward(prompt, cache)[-1]] + [model.forward([t], cache)[-1] for t in tokens[:-1]]
    step = np.stack(rows)
    return float(np.abs(step - full[len(prompt) - 1 :]).max() / np.abs(full).max())


def check_file(path: str, n: int) -> tuple[bool, set[str]]:
    model = oracle.Model(path)
    feats = features_of(model)
    if not feats:
        return True, set()
    prompt = [t % model.n_vocab for t in compare.DEFAULT_PROMPT]
    tol, _ = compare.default_tol(model)
    t0 = time.perf_counter()
    ref_logits, ref_tokens, _ = oracle.run(model, prompt, n, stop_at_eog=False)
    ref_top = ref_logits.argmax(axis=1)
    scale = float(np.abs(ref_logits).max())
    extra = f", window {model.hp.n_swa}" if model.hp.n_swa else ""
    print(f"== {os.path.basename(path)} ({model.hp.variant}, {model.n_layer} layers{extra}): "
          f"prompt {len(prompt)} tokens, {n} generated, {len(set(ref_tokens))} distinct")
    ok, caught = True, set()
    drift = decode_matches_prefill(model, prompt, ref_tokens)
    print(f"   oracle KV-cache decode vs one prefill: max |difference| {drift:.1e} x scale")
    if not drift < 1e-4:  # float32 summation order; a mask or cache bug gives > 1e-2
        print("   FAIL: the oracle's decode path disagrees with its prefill")
        ok = False
    for f in feats:
        m = oracle.Model(path, disable=[f])
        logits, tokens, _ = oracle.run(m, prompt, n, stop_at_eog=False)
        changed = np.flatnonzero(logits.argmax(axis=1) != ref_top)
        step = next((i for i, (a, b) in enumerate(zip(tokens, ref_tokens)) if a != b), None)
        err = float(np.abs(logits - ref_logits).max()) / (tol * scale)
        hit = err > 1.0 if f in LOGITS_ONLY else (len(changed) > 0 or step is not None)
        ok &= hit
        if hit:
            caught.add(f)
        where = f"positions {changed.tolist()}" if len(changed) else "no position"
        print(f"   {'caught ' if hit else 'MISSED '} {f:<12} top-1 changed at {len(changed)}/{len(prompt)} "
              f"({where}); greedy differs {'from step ' + str(step) if step is not None else 'nowhere'}; "
              f"max |logit change| {err:.1f} x tolerance")
    print(f"   ({time.perf_counter() - t0:.1f} s)")
    return ok, caught


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("tiny_dir")
    ap.add_argument("-n", type=int, default=32, help="greedy tokens (compare.py's default)")
    args = ap.parse_args(argv)
    paths = sorted(glob.glob(os.path.join(args.tiny_dir, "*.gguf")))
    ok, covered = True, set()
    for p in paths:
        file_ok, caught = check_file(p, args.n)
        ok &= file_ok
        covered |= caught
    wanted = {f for fs in FEATURES.values() for f in fs} | set(OPTIONAL)
    if wanted - covered:
        print(f"FAIL: no tiny model catches {sorted(wanted - covered)}")
        ok = False
    print("PASS: every feature changes what compare.py checks" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
