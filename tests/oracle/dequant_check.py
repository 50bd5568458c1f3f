#!/usr/bin/env python3
"""Check the oracle's dequantization and quantize_np's quantizers against gguf-py.

    dequant_check.py [--seed N]

1. Decoding: for every block type the oracle reads (q4_0, q4_1, q5_0, q5_1,
   q8_0, q2_K, q3_K, q4_K, q5_K, q6_K), random but valid blocks -- random quant
   and sub-scale bytes, finite f16 super-scales of either sign between 1e-4
   and 1 (one block with them 0, blocks of all-0x00 and all-0xFF quant bytes)
   -- must dequantize in oracle.dequantize exactly as in gguf.quants.dequantize
   (PyPI gguf 0.19.0, an implementation independent of the oracle's): equal, or
   within 1e-6 relative.
2. Round trip: for every type quantize_np writes, dequantize(quantize(x)) must
   be close to x, and gguf.quants.dequantize must read quantize_np's bytes as
   the oracle does (so the bytes are in the GGUF layout, not merely
   self-consistent). The inputs: N(0, 1) rows; rows scaled by 1e-3 .. 1e2
   (error taken per row, relative to the row); rows uniform in [0, 1) and
   (-1, 0]; an all-zero row, which must come back as exact zeros.

Bounds on the relative RMS error (RMS(y - x) / RMS(x)). A uniform grid of step
D has error RMS ~ D / sqrt(12). For N(0, 1) data D is a sub-block's range over
its number of steps: the expected span [min(x, 0), max] of 16 / 32 samples is
3.53 / 4.14, the expected largest |x| 2.08 / 2.35 (sampled). quantize_np sets
affine types (value = d q + m) from the span and symmetric types (value = d q,
largest |x| -> the lowest level) from the largest |x|, giving the estimates
below; the bounds allow 25% over them for the rounding of the sub-block and
f16 scales. The measured errors (seed 0) are within 1-4% of the estimates. A
layout bug (a wrong nibble, bit or scale) gives errors of order 1.

    type   sub-block  grid                  estimate  bound
    q5_0   32         absmax / 16           0.0431    0.054
    q5_1   32         span / 31             0.0391    0.049
    q2_K   16         span / 3              0.348     0.435
    q3_K   16         absmax / 4            0.154     0.193
    q4_K   32         span / 15             0.0808    0.101
    q5_K   32         span / 31             0.0391    0.049
    q6_K   16         absmax / 32           0.0192    0.024

Exits 0 when everything holds; otherwise 1, printing each failure with the type
and the first mismatching element.
"""
from __future__ import annotations

import argparse
import importlib.metadata
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _deps  # noqa: E402

_deps.ensure()
import numpy as np  # noqa: E402
import gguf  # noqa: E402

import oracle  # noqa: E402
import quantize_np  # noqa: E402

O = oracle
# Byte offsets of the f16 super-scale fields in a block, from the layouts
# (written out here rather than taken from oracle.py, which is under test).
F16_FIELDS = {
    O.Q4_0: (0,), O.Q4_1: (0, 2), O.Q5_0: (0,), O.Q5_1: (0, 2), O.Q8_0: (0,),
    O.Q2_K: (80, 82), O.Q3_K: (108,), O.Q4_K: (0, 2), O.Q5_K: (0, 2), O.Q6_K: (208,),
}
ROUND_TRIP_BOUND = {O.Q5_0: 0.054, O.Q5_1: 0.049, O.Q2_K: 0.435, O.Q3_K: 0.193,
                    O.Q4_K: 0.101, O.Q5_K: 0.049, O.Q6_K: 0.024}
REL_TOL = 1e-6


def gguf_dequantize(raw: np.ndarray, ttype: int) -> np.ndarray:
    return np.asarray(gguf.quants.dequantize(raw, gguf.GGMLQuantizationType(ttype)), np.float32).reshape(-1)


def first_mismatch(what: str, ttype: int, ours: np.ndarray, ref: np.ndarray) -> str | None:
    """None if ours == ref (or within REL_TOL relative) everywhere, else a message."""
    if ours.shape != ref.shape:
        return f"{what}: oracle gave {ours.shape} values, gguf {ref.shape}"
    ok = (ours == ref) | (np.abs(ours - ref) <= REL_TOL * np.abs(ref))
    if ok.all():
        return None
    i = int(np.flatnonzero(~ok)[0])
    per = O.BLOCK_ELEMS[ttype]
    return (f"{what}: first mismatch at element {i} (block {i // per}, element {i % per} of the block): "
            f"oracle {float(ours[i])!r}, gguf {float(ref[i])!r}; {int((~ok).sum())} of {ours.size} elements differ")


def random_blocks(rng: np.random.Generator, ttype: int, n_random: int) -> np.ndarray:
    """uint8 [n_random + 3, block bytes]: random blocks with valid f16 super-scales,
    then one with zero super-scales and random quants, one of all-0x00 and one
    of all-0xFF quant bytes (both with random scales)."""
    size = O.BLOCK_BYTES[ttype]
    nb = n_random + 3
    b = rng.integers(0, 256, size=(nb, size), dtype=np.uint8)
    b[nb - 2] = 0x00
    b[nb - 1] = 0xFF
    for off in F16_FIELDS[ttype]:
        mag = 10.0 ** rng.uniform(-4, 0, size=nb)
        v = (np.where(rng.random(nb) < 0.5, -1.0, 1.0) * mag).astype("<f2")
        v[n_random] = 0.0
        b[:, off:off + 2] = v.view(np.uint8).reshape(nb, 2)
    return b


def check_decoding(rng: np.random.Generator) -> list[str]:
    failures = []
    for ttype in O.BLOCK_BYTES:
        name = O.TYPE_NAMES[ttype]
        n_random = 13 if O.BLOCK_ELEMS[ttype] == O.QK else 6
        raw = random_blocks(rng, ttype, n_random)
        n = len(raw) * O.BLOCK_ELEMS[ttype]
        ref = gguf_dequantize(raw, ttype)
        assert np.all(np.isfinite(ref)), name  # the fixture's own promise
        msg = first_mismatch(f"{name} decoding", ttype, O.dequantize(raw, ttype, n), ref)
        if msg:
            failures.append(msg)
        else:
            how = "bit-identical" if np.array_equal(O.dequantize(raw, ttype, n), ref) else f"within {REL_TOL:g} relative"
            print(f"ok   {name}: {len(raw)} blocks, oracle.dequantize == gguf.quants.dequantize ({how})")
    return failures


def round_trip_inputs(rng: np.random.Generator) -> list[tuple[str, np.ndarray]]:
    """(what, float32 [rows, 1024]); 1024 is a multiple of every block."""
    gauss = rng.standard_normal((16, 1024)).astype(np.float32)
    scaled = (rng.standard_normal((12, 1024)) * 10.0 ** np.repeat(np.arange(-3, 3), 2)[:, None]).astype(np.float32)
    signed = np.concatenate([rng.random((4, 1024)), -rng.random((4, 1024))]).astype(np.float32)
    return [("N(0,1) rows", gauss), ("rows scaled 1e-3..1e2", scaled), ("rows in [0,1) and (-1,0]", signed)]


def rel_rms(y: np.ndarray, x: np.ndarray) -> float:
    """RMS over rows of (per-row RMS error / per-row RMS of x)."""
    err = np.mean((y.astype(np.float64) - x) ** 2, axis=1) / np.mean(x.astype(np.float64) ** 2, axis=1)
    return float(np.sqrt(err.mean()))


def check_round_trip(rng: np.random.Generator) -> list[str]:
    failures = []
    inputs = round_trip_inputs(rng)
    for ttype in quantize_np.TYPES:
        name = O.TYPE_NAMES[ttype]
        bound = ROUND_TRIP_BOUND[ttype]
        errors = []
        for what, x in inputs + [("zero row", np.zeros((1, 1024), np.float32))]:
            raw = quantize_np.quantize(x, ttype)
            expect = (x.shape[0], x.shape[1] // O.BLOCK_ELEMS[ttype] * O.BLOCK_BYTES[ttype])
            if raw.shape != expect or raw.dtype != np.uint8:
                failures.append(f"{name} quantize ({what}): got {raw.dtype} {raw.shape}, expected uint8 {expect}")
                continue
            y = O.dequantize(raw, ttype, x.size)
            msg = first_mismatch(f"{name} round trip ({what}), reading quantize_np's bytes", ttype, y,
                                 gguf_dequantize(raw, ttype))
            if msg:
                failures.append(msg)
                continue
            y = y.reshape(x.shape)
            if what == "zero row":
                if np.any(y != 0):
                    failures.append(f"{name} round trip: an all-zero row came back with {np.count_nonzero(y)} "
                                    f"nonzero values, first at element {int(np.flatnonzero(y)[0])}")
                continue
            e = rel_rms(y, x)
            errors.append(f"{what} {e:.4f}")
            if not e < bound:
                failures.append(f"{name} round trip ({what}): relative RMS error {e:.4f} >= bound {bound}")
        print(f"{'ok  ' if not any(f.startswith(name + ' ') for f in failures) else 'FAIL'} {name}: "
              f"round trip relative RMS error (bound {bound}): " + (", ".join(errors) or "not measured, see below"))
    return failures


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    failures = check_decoding(rng) + check_round_trip(rng)
    for f in failures:
        print(f"FAIL {f}")
    print(f"== dequant_check: {'all passed' if not failures else f'{len(failures)} failure(s)'} "
          f"(gguf {importlib.metadata.version('gguf')}, numpy {np.__version__})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
