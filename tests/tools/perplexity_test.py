#!/usr/bin/env python3
"""tessera-perplexity against the numpy oracle, and its KL divergence mode.

    perplexity_test.py TESSERA_PERPLEXITY TINY_MODEL TEXT

1. PPL of TINY_MODEL over TEXT (-c 64, 3 chunks) equals the perplexity the
   oracle (tests/oracle/oracle.py, independent numpy forward pass) gives over
   the very tokens the tool reports, scored the llama-perplexity way.
2. --save-reference then --kl-divergence on the same device: KL ~ 0 and
   top-1 agreement 100%; a reference made with another -c, and a truncated
   file, are refused with a message naming the file.
"""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "oracle"))
import _deps  # noqa: E402

_deps.ensure()
import numpy as np  # noqa: E402

N_CTX, N_CHUNKS = 64, 3


def run(exe: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=300)


def log_softmax(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.float64)
    m = x.max(axis=-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=-1, keepdims=True))


def main() -> int:
    exe, model, text = sys.argv[1:4]
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        js, ref = os.path.join(tmp, "ppl.json"), os.path.join(tmp, "ref.bin")
        common = ["-m", model, "-f", text, "-c", str(N_CTX), "--chunks", str(N_CHUNKS)]
        p = run(exe, *common, "--json", js, "--save-reference", ref)
        if p.returncode != 0:
            print(p.stdout, p.stderr)
            return 1
        res = json.load(open(js))
        tokens = res["tokens"]
        assert len(tokens) == N_CTX * N_CHUNKS and res["n_scored"] == N_CHUNKS * (N_CTX - 1 - N_CTX // 2), res

        # 1. The oracle over the same chunks.
        nll = []
        for c in range(N_CHUNKS):
            chunk = tokens[c * N_CTX : (c + 1) * N_CTX]
            npy = os.path.join(tmp, f"chunk{c}.npy")
            o = subprocess.run([sys.executable, os.path.join(HERE, "..", "oracle", "oracle.py"), model, "--tokens",
                                ",".join(map(str, chunk)), "--logits-out", npy], capture_output=True, text=True)
            if o.returncode != 0:
                print(o.stdout, o.stderr)
                return 1
            lp = log_softmax(np.load(npy))
            for j in range(N_CTX // 2, N_CTX - 1):
                nll.append(-lp[j, chunk[j + 1]])
        want = math.exp(float(np.mean(nll)))
        rel = abs(res["ppl"] - want) / want
        print(f"PPL tessera {res['ppl']:.6f}, oracle {want:.6f}, relative difference {rel:.2e}")
        if not rel < 2e-3:
            print("FAIL: perplexity differs from the oracle's")
            ok = False

        # 2. KL against itself, then bad references.
        p = run(exe, *common, "--kl-divergence", ref, "--json", js)
        kl = json.load(open(js)) if p.returncode == 0 else {}
        print(p.stdout.strip())
        if p.returncode != 0 or not (0 <= kl["kl_mean"] < 1e-9) or kl["same_top1"] != 1.0:
            print("FAIL: self KL divergence should be 0 with 100% top-1 agreement", p.stderr)
            ok = False
        p = run(exe, "-m", model, "-f", text, "-c", str(N_CTX // 2), "--chunks", str(N_CHUNKS), "--kl-divergence", ref)
        if p.returncode != 1 or ref not in p.stderr or "n_ctx 64" not in p.stderr:
            print("FAIL: a reference of another n_ctx must be refused naming it:", p.returncode, p.stderr)
            ok = False
        with open(ref, "r+b") as f:
            f.truncate(os.path.getsize(ref) - 4)
        p = run(exe, *common, "--kl-divergence", ref)
        if p.returncode != 1 or ref not in p.stderr or "header implies" not in p.stderr:
            print("FAIL: a truncated reference must be refused naming it:", p.returncode, p.stderr)
            ok = False
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
