#!/usr/bin/env python3
"""Requantize a GGUF model's 2-D weights to a k-quant, for comparisons.

    requantize-gguf.py IN.gguf OUT.gguf {q4_K,q5_K,q6_K}

Each 2-D weight is dequantized to float32 (gguf-py) and quantized with
tests/oracle/quantize_np.py (simple range-based scales, not llama.cpp's
error-minimising search: files compare engines, not quantizers). Rows that
are not whole 256-element super-blocks take llama.cpp's fallback for the
type (q4_K -> q5_0, q5_K -> q5_1, q6_K -> q8_0); norms stay f32. Metadata is
copied, general.file_type set to llama.cpp's value for the pure type.
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "oracle"))
import numpy as np  # noqa: E402
import gguf  # noqa: E402
from gguf import GGMLQuantizationType as QT  # noqa: E402

import quantize_np  # noqa: E402

TARGET = {"q4_K": (QT.Q4_K, QT.Q5_0, 14), "q5_K": (QT.Q5_K, QT.Q5_1, 16), "q6_K": (QT.Q6_K, QT.Q8_0, 18)}


def main() -> int:
    if len(sys.argv) != 4 or sys.argv[3] not in TARGET:
        print(__doc__, file=sys.stderr)
        return 2
    src, dst, name = sys.argv[1:4]
    kq, fallback, ftype = TARGET[name]
    r = gguf.GGUFReader(src)
    arch = r.fields["general.architecture"].contents()
    w = gguf.GGUFWriter(dst, arch)
    for key, f in r.fields.items():
        if key.startswith("GGUF.") or key == "general.architecture":
            continue
        val = ftype if key == "general.file_type" else f.contents()
        w.add_key_value(key, val, f.types[0], sub_type=f.types[-1] if f.types[0] == gguf.GGUFValueType.ARRAY else None)
    counts: dict[str, int] = {}
    for t in r.tensors:
        if len(t.shape) < 2:
            w.add_tensor(t.name, np.asarray(t.data), raw_dtype=t.tensor_type)
            continue
        x = gguf.quants.dequantize(np.asarray(t.data), t.tensor_type).astype(np.float32)
        qt = kq if x.shape[-1] % 256 == 0 else fallback
        data = quantize_np.quantize(x, int(qt)) if qt != QT.Q8_0 else gguf.quants.quantize(x, qt)
        w.add_tensor(t.name, data, raw_dtype=qt)
        counts[qt.name] = counts.get(qt.name, 0) + 1
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    print(f"{dst}: {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
