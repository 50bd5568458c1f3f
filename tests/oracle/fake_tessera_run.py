#!/usr/bin/env python3
"""Stand-in for tessera-run that answers with the oracle itself, for testing
compare.py without Tessera: same command line subset, same outputs.

    fake_tessera_run.py -m MODEL --prompt-tokens 1,2,3 -n 32 --temp 0 --dump-logits F --json [--ignore-eos]

FAKE_TESSERA_ROPE=neox (or normal) forces a RoPE pairing -- a layout bug for
the architectures that use the other one -- to see compare.py catch it;
FAKE_TESSERA_DISABLE=swa_window,... switches architecture features off
(oracle_arch.ABLATIONS) for the same purpose.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _deps  # noqa: E402

_deps.ensure()
import numpy as np  # noqa: E402

import oracle  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("-m", required=True)
ap.add_argument("--prompt-tokens", required=True)
ap.add_argument("-n", type=int, default=128)
ap.add_argument("--temp", type=float, default=0.0)
ap.add_argument("--dump-logits")
ap.add_argument("--json", action="store_true")
ap.add_argument("--device", action="append")
ap.add_argument("--ignore-eos", action="store_true")
a = ap.parse_args()
if a.temp != 0:
    sys.exit("fake_tessera_run.py: only --temp 0 is supported")
disable = [d for d in os.environ.get("FAKE_TESSERA_DISABLE", "").split(",") if d]
model = oracle.Model(a.m, rope_mode=os.environ.get("FAKE_TESSERA_ROPE") or None, disable=disable)
logits, tokens, timings = oracle.run(model, oracle.parse_tokens(a.prompt_tokens), a.n, stop_at_eog=not a.ignore_eos)
if a.dump_logits:
    logits.astype("<f4").tofile(a.dump_logits)
print(json.dumps({"tokens": tokens, "text": model.detokenize(tokens), "timings": timings}))
