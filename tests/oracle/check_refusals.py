#!/usr/bin/env python3
"""Run tessera-run on make_bad_models.py's corpus: every bad file must be
refused cleanly, naming what is wrong, and every control must run.

    check_refusals.py TESSERA_RUN CORPUS_DIR [extra tessera-run args...]

For each entry of CORPUS_DIR/cases.json it runs
    TESSERA_RUN -m FILE -p hi -n 1 [extra args]
A bad file (expect set) passes when the exit status is 1..127 -- non-zero,
and not a signal (a negative status from Python, or a shell's 128 + N) -- and
stderr contains the expected substring. A control (expect null) passes when
the exit status is 0. Exit 0 only if every case passes.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

TIMEOUT_S = 120


def run_case(exe: str, corpus: str, case: dict, extra: list[str]) -> bool:
    path = os.path.join(corpus, case["file"])
    cmd = [exe, "-m", path, "-p", "hi", "-n", "1"] + extra
    try:
        p = subprocess.run(cmd, capture_output=True, encoding="utf-8", errors="replace", timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        print(f"FAIL {case['file']}: no answer within {TIMEOUT_S} s")
        return False
    err = p.stderr.strip()
    last = err.splitlines()[-1] if err else "(no stderr)"
    want = case["expect"]
    if want is None:
        if p.returncode == 0:
            print(f"ok   {case['file']}: loads and runs (control)")
            return True
        print(f"FAIL {case['file']}: the control exits {p.returncode}: {last}")
        return False
    if p.returncode == 0:
        print(f"FAIL {case['file']}: accepted ({case['change']}); expected an error naming '{want}'")
        return False
    if p.returncode < 0 or p.returncode >= 128:
        print(f"FAIL {case['file']}: crashed (exit {p.returncode}) on: {case['change']}\n{err[-2000:]}")
        return False
    if want not in err:
        print(f"FAIL {case['file']}: exit {p.returncode}, but stderr does not name '{want}' ({case['change']}):\n"
              f"{err[-2000:]}")
        return False
    print(f"ok   {case['file']}: exit {p.returncode}: {last}")
    return True


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    exe, corpus, extra = argv[0], argv[1], argv[2:]
    with open(os.path.join(corpus, "cases.json")) as f:
        cases = json.load(f)
    failed = [c["file"] for c in cases if not run_case(exe, corpus, c, extra)]
    print(f"== {len(cases) - len(failed)}/{len(cases)} cases passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
