#!/usr/bin/env python3
"""Compare tessera-run with the numpy oracle on one or more GGUF models.

    compare.py MODEL_OR_DIR... [--tessera PATH] [--device cpu] [--tokens 1,2,3] [-n 32]

A directory stands for every *.gguf in it. For each model both sides get the
same prompt token ids; Tessera runs
    tessera-run -m MODEL --prompt-tokens IDS -n N --temp 0 --dump-logits F --json [--device D]
and the oracle (oracle.py, float32 activations) computes the prefill logits at
every prompt position and N greedy tokens. Reported per model: max |logit
error| per position and overall, top-1 agreement per position, and whether the
greedy tokens are identical.

Pass criteria (exit 0 only if every model passes):
  1. max |tessera - oracle| over all prefill logits <= tol * max|oracle logit|,
     tol = 5e-3 for every weight type. Measured with Tessera's 16-bit
     activation blocks for quantized matmuls: 3.7e-4..6.5e-4 on the quantized
     tiny models, 4.0e-4 on SmolLM2-135M (30 layers), 1.2e-3 on the f16 and
     3.5e-4 on the f32 tiny model (f16 KV cache). With 8-bit activations (as
     ggml rounds them) it was 1.3-3.9%, which flipped near ties; a layout or
     RoPE bug moves logits by tens of percent (neox instead of normal RoPE:
     55-65%). Override with --tol only with a reason.
  2. top-1 agrees at every prompt position.
  3. the N greedy tokens are identical. Both sides generate exactly N tokens,
     continuing past end-of-generation tokens (tessera-run --ignore-eos), so N
     tokens are compared whatever the prompt.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _deps  # noqa: E402

_deps.ensure()
import numpy as np  # noqa: E402

import oracle  # noqa: E402

# Default prompt: ChatML "What is the capital of France?" in SmolLM2's vocabulary.
# Ids past a tiny model's vocabulary are folded into it (id % n_vocab).
DEFAULT_PROMPT = [1, 4093, 198, 1780, 314, 260, 3575, 282, 4649, 47, 2, 198, 1, 520, 9531, 198]
TOL_QUANT, TOL_HALF, TOL_F32 = 5e-3, 5e-3, 5e-3


def default_tol(model: oracle.Model) -> tuple[float, str]:
    types = {int(t.tensor_type) for t in model.reader.tensors if len(t.shape) >= 2}
    if types & set(oracle.BLOCK_BYTES):
        return TOL_QUANT, "block-quantized weights, 16-bit activation blocks"
    if types & {oracle.F16, oracle.BF16}:
        return TOL_HALF, "f16/bf16 weights"
    return TOL_F32, "f32 weights"


def canonical(tokens: list[int], eog: set[int], n: int) -> tuple[list[int], bool]:
    """(tokens before the first end-of-generation token, whether generation
    stopped there). A runner may or may not report the final EOG token; one
    that returns fewer than n tokens without it is taken to have stopped at one
    (check_divergence verifies that claim when the sequences differ)."""
    for i, t in enumerate(tokens):
        if t in eog:
            return tokens[:i], True
    return tokens, len(tokens) < n


def run_tessera(exe: str, model: str, prompt: list[int], n: int, device: str | None, logits_path: str,
                extra: list[str] | None = None, launcher: list[str] | None = None):
    """launcher: a command the run goes under (["mpirun", "-np", "2"])."""
    cmd = (launcher or []) + [exe, "-m", model, "--prompt-tokens", ",".join(map(str, prompt)), "-n", str(n), "--temp", "0",
           "--dump-logits", logits_path, "--json", "--ignore-eos"] + (extra or [])
    if device:
        cmd += ["--device", device]
    t0 = time.perf_counter()
    # errors="replace": a random model's text may be invalid UTF-8; only "tokens" is used
    p = subprocess.run(cmd, capture_output=True, encoding="utf-8", errors="replace", timeout=1800)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError(f"tessera-run failed (exit {p.returncode}):\n  {' '.join(cmd)}\n{p.stderr[-4000:]}")
    out = None
    for line in reversed(p.stdout.strip().splitlines()):  # the JSON object is the last line
        try:
            out = json.loads(line)
            break
        except json.JSONDecodeError:
            continue
    if out is None or "tokens" not in out:
        raise RuntimeError(f"tessera-run printed no JSON object with 'tokens':\n{p.stdout[-2000:]}")
    return out, wall


def compare_model(path: str, args) -> bool:
    name = os.path.basename(path)
    model = oracle.Model(path)
    prompt = [t % model.n_vocab for t in args.tokens]
    tol, why = (args.tol, "--tol") if args.tol is not None else default_tol(model)
    eog = model.eog_ids()
    print(f"== {name}: n_vocab {model.n_vocab}, prompt {len(prompt)} tokens, generate {args.n}")

    t0 = time.perf_counter()
    # Both sides generate exactly n tokens, past end-of-generation tokens, so
    # that n greedy tokens are compared whatever the prompt.
    ref_logits, ref_tokens, _ = oracle.run(model, prompt, args.n, stop_at_eog=False)
    t_oracle = time.perf_counter() - t0

    with tempfile.TemporaryDirectory() as tmp:
        lpath = os.path.join(tmp, "logits.f32")
        try:
            ts, t_tessera = run_tessera(args.tessera, path, prompt, args.n, args.device, lpath,
                                        [a for p in args.plugin for a in ("--plugin", p)])
        except (RuntimeError, OSError, subprocess.TimeoutExpired) as e:
            print(f"FAIL {name}: {e}")
            return False
        raw = np.fromfile(lpath, dtype="<f4") if os.path.exists(lpath) else np.zeros(0, np.float32)
    if raw.size != ref_logits.size:
        print(f"FAIL {name}: --dump-logits wrote {raw.size} floats, expected {ref_logits.shape[0]} x "
              f"{ref_logits.shape[1]} = {ref_logits.size}")
        return False
    got = raw.reshape(ref_logits.shape)
    print(f"   time: oracle {t_oracle:.2f} s, tessera-run {t_tessera:.2f} s (wall, including load)")

    ok = True
    if not np.all(np.isfinite(got)):
        print(f"FAIL {name}: tessera logits contain NaN/Inf")
        return False
    scale = float(np.abs(ref_logits).max())
    err = np.abs(got - ref_logits).max(axis=1)  # per position
    limit = tol * scale
    print(f"   logit scale (max |oracle|) {scale:.3f}; tolerance {tol:g} x scale = {limit:.4f} ({why})")
    print("   max |err| per position: " + " ".join(f"{e:.4f}" for e in err))
    print(f"   max |err| overall {err.max():.5f} = {err.max() / scale:.2e} x scale")
    if err.max() > limit:
        print(f"FAIL {name}: max logit error {err.max():.5f} > {limit:.5f}")
        ok = False

    ref_top, got_top = ref_logits.argmax(axis=1), got.argmax(axis=1)
    agree = ref_top == got_top
    print(f"   top-1 agreement: {int(agree.sum())}/{len(agree)} positions")
    for i in np.flatnonzero(~agree):
        gap = float(ref_logits[i, ref_top[i]] - ref_logits[i, got_top[i]])
        print(f"FAIL {name}: top-1 differs at position {i}: oracle {ref_top[i]}, tessera {got_top[i]}, "
              f"oracle margin {gap:.4f}, error there {err[i]:.4f}")
        ok = False

    ts_tokens = [int(t) for t in ts["tokens"]]
    (a, a_stop), (b, b_stop) = canonical(ref_tokens, set(), args.n), canonical(ts_tokens, set(), args.n)
    print(f"   oracle  tokens: {a}{' + end' if a_stop else ''}")
    print(f"   tessera tokens: {b}{' + end' if b_stop else ''}")
    if a == b and a_stop == b_stop:
        print(f"   greedy tokens identical ({len(a)}{', then end of generation' if a_stop else ''}); "
              f"text: {model.detokenize(a)!r}")
    else:
        k = next((i for i in range(min(len(a), len(b))) if a[i] != b[i]), min(len(a), len(b)))
        print(f"   greedy tokens diverge at step {k}")
        print(f"FAIL {name}: greedy tokens differ")
        ok = False
    print(f"{'PASS' if ok else 'FAIL'} {name}")
    return ok


def check_divergence(model: oracle.Model, prompt, ts_tokens, ts_stop, k, eog, limit) -> bool:
    """Teacher-force the oracle with Tessera's tokens (and its stop, if it
    stopped): each must be a near-best choice of the oracle at that step."""
    seq = prompt + ts_tokens
    if len(seq) > model.n_ctx:
        print(f"   {len(seq)} tokens exceed the context of {model.n_ctx}")
        return False
    logits = model.forward(seq, model.new_cache())
    ok = True
    for j in range(len(ts_tokens) + (1 if ts_stop else 0)):
        row = logits[len(prompt) - 1 + j]
        best = int(row.argmax())
        if j < len(ts_tokens):
            t, what = ts_tokens[j], f"token {ts_tokens[j]}"
        else:  # the stop: Tessera's choice was some end-of-generation token
            t = max(eog, key=lambda e: row[e])
            what = f"end of generation ({t})"
        gap = float(row[best] - row[t])
        if gap > 2 * limit:
            print(f"   step {j}: tessera chose {what}, oracle (teacher-forced) prefers {best} by "
                  f"{gap:.4f} > {2 * limit:.4f}")
            ok = False
        elif j == k:
            print(f"   step {j}: near tie, tessera {what} vs oracle {best}, oracle margin {gap:.4f} <= {2 * limit:.4f}")
    return ok


def parse_tokens(s: str) -> list[int]:
    return oracle.parse_tokens(s)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="+", help="GGUF files or directories of them")
    ap.add_argument("--tessera", default=os.environ.get("TESSERA_RUN", "tessera-run"), help="tessera-run binary")
    ap.add_argument("--device", default=None, help="passed to tessera-run --device")
    ap.add_argument("--tokens", type=parse_tokens, default=DEFAULT_PROMPT, help="prompt token ids")
    ap.add_argument("-n", type=int, default=32, help="greedy tokens to generate")
    ap.add_argument("--tol", type=float, default=None, help="override the relative logit tolerance")
    ap.add_argument("--plugin", action="append", default=[], help="backend plugin for tessera-run (repeatable)")
    args = ap.parse_args(argv)

    paths = []
    for m in args.models:
        paths += sorted(glob.glob(os.path.join(m, "*.gguf"))) if os.path.isdir(m) else [m]
    if not paths:
        print("compare.py: no models found", file=sys.stderr)
        return 2
    failed = [p for p in paths if not compare_model(p, args)]
    print(f"== {len(paths) - len(failed)}/{len(paths)} models passed")
    for p in failed:
        print(f"   failed: {p}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
