#!/usr/bin/env python3
"""Writes the GGUF fuzzer's seed corpus (checked in under corpus/gguf/): small
valid files with every metadata type (nested arrays included) and tensors of
several types, written by the gguf package (tests/oracle/requirements.txt),
so the fuzzer starts from files the reader accepts.

    make_seeds.py OUT_DIR"""
import os
import sys

import numpy as np
import gguf


def write(path, fill):
    w = gguf.GGUFWriter(path, "llama")
    fill(w)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def every_type(w):
    w.add_uint8("t.u8", 7)
    w.add_int8("t.i8", -7)
    w.add_uint16("t.u16", 700)
    w.add_int16("t.i16", -700)
    w.add_uint32("t.u32", 70000)
    w.add_int32("t.i32", -70000)
    w.add_uint64("t.u64", 1 << 40)
    w.add_int64("t.i64", -(1 << 40))
    w.add_float32("t.f32", 1.5)
    w.add_float64("t.f64", -2.25)
    w.add_bool("t.bool", True)
    w.add_string("t.str", "héllo")
    w.add_array("t.arr_i", [1, 2, 3])
    w.add_array("t.arr_s", ["a", "bc", ""])
    w.add_array("t.arr_f", [0.5, 1.5])
    w.add_array("t.nested", [[1, 2], [3]])
    w.add_tensor("a", np.arange(8, dtype=np.float32))


def tensors(w):
    w.add_uint32("general.alignment", 64)
    w.add_tensor("w32", np.ones((4, 8), dtype=np.float32))
    w.add_tensor("w16", np.ones((2, 32), dtype=np.float16))
    q = np.zeros((2, 18), dtype=np.uint8)  # two q4_0 blocks: 32 weights each
    w.add_tensor("q", q, raw_shape=q.shape, raw_dtype=gguf.GGMLQuantizationType.Q4_0)


def main() -> int:
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    write(os.path.join(out, "every_type.gguf"), every_type)
    write(os.path.join(out, "tensors.gguf"), tensors)
    write(os.path.join(out, "empty.gguf"), lambda w: None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
