#!/usr/bin/env python3
"""Writes the fuzzers' generated seed corpora (checked in under corpus/):

  gguf/         small valid files with every metadata type (nested arrays
                included) and tensors of several types, written by the gguf
                package (tests/oracle/requirements.txt), so the fuzzer starts
                from files the reader accepts
  gguf_header/  the same files' bytes between the version and the data
                section (counts, key/values, tensor infos, padding): what
                fuzz_gguf_header puts between its fixed magic + version and
                its fixed data blob
  tokenizer/, chat_template/, graph_api/
                inputs in the layouts their fuzzers' headers describe: texts
                (ASCII, several scripts, control tokens, invalid UTF-8) and
                id lists; conversations and templates; small graphs of every
                op family, and some the API must refuse

Not written here, checked in as files: the bench_json seeds (tessera-bench
ops and e2e outputs from a Release build, and hand-written edge cases), and
the inputs the fuzzers found (crash-*, timeout-*: each made the library fail
before its fix).

    make_seeds.py [CORPUS_DIR]      (default: corpus/ next to this script)"""
import os
import struct
import sys

import numpy as np
import gguf

HEADER_SKIP = 8  # "GGUF" and the version: fuzz_gguf_header writes them itself


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


def vocab(w):
    # The keys a tokenizer reads (tokenizer.ggml.*), as a model file has them.
    w.add_tokenizer_model("llama")
    w.add_token_list(["<unk>", "<s>", "</s>", "\u2581", "h", "i", "\u2581hi", "<0x0A>"])
    w.add_token_scores([0.0, 0.0, 0.0, -1.0, -2.0, -2.0, -0.5, 0.0])
    w.add_token_types([2, 3, 3, 1, 1, 1, 1, 6])
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_chat_template("{{ bos_token }}<start_of_turn>user\n")
    w.add_tensor("token_embd.weight", np.zeros((8, 32), dtype=np.float16))


# ---- tokenizer (fuzz_tokenizer.cpp) -------------------------------------------
# Tokenizers in the fuzzer's order; flags: 2 decode, 4 add_bos, 8 parse_special.
SMOLLM2, GEMMA3, QWEN2, LLAMA3, SPM = range(5)
TEXTS = {
    "ascii": "Hello world, it's 2024: 12345 apples!!  \n\n  x",
    "multilingual": "caf\u00e9 \u65e5\u672c\u8a9e \u0645\u0631\u062d\u0628\u0627 \u043f\u0440\u0438\u0432\u0435\u0442 \u3053\u3093\u306b\u3061\u306f \U0001F600 na\u00efve",
    "chatml": "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n",
    "gemma": "<bos><start_of_turn>user\nWhat is the capital of France?<end_of_turn>\n<start_of_turn>model\n",
    "llama3": "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nhello world<|eot_id|>",
    "spaces": "  hello   the\u2581world \u2581 a  ",
}
INVALID_UTF8 = b"a\xff\xfe b\xe2\x96 \xc0\xafz\xed\xa0\x80\xf4\x90\x80\x80\x04\x1d end\xe2"


def tokenizer_seeds():
    seeds = {}
    for i, tok in enumerate(["smollm2", "gemma3", "qwen2", "llama3", "spm"]):
        for name, text in TEXTS.items():
            flags = 8 if name in ("chatml", "gemma", "llama3") else 4 if name == "ascii" else 0
            seeds[f"{tok}_{name}"] = bytes([i, flags]) + text.encode()
        seeds[f"{tok}_invalid_utf8"] = bytes([i, 4 | 8]) + INVALID_UTF8
        # Ids: in range (top bits 00), just past either end (01), raw (1x).
        ids = [0, 1, 2, 3, 100, 255, 1000, 0x40000001, 0x40000000, 0x80000000 | 7, 0xFFFFFFFF]
        seeds[f"{tok}_ids"] = bytes([i, 2]) + b"".join(struct.pack("<I", v) for v in ids)
        seeds[f"{tok}_ids_in_range"] = bytes([i, 2]) + b"".join(struct.pack("<I", v) for v in range(0, 600, 7))
    return seeds


# ---- chat_template (fuzz_chat_template.cpp) ------------------------------------
ROLES = {"system": 0, "user": 1, "assistant": 2, "tool": 3}
SMOL_TEMPLATE = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ "
    "'<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' "
    "}}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + "
    "'\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")
GEMMA_TEMPLATE = "{{ bos_token }}{% for message in loop_messages %}<start_of_turn>{{ role }}\n<end_of_turn>"
LLAMA3_TEMPLATE = "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n' %}"


def conversation(vocab, bos, flags, template, arch, messages, name_byte=None, name=None):
    out = bytes([vocab, bos, flags])
    if name_byte is not None:
        out += bytes([name_byte])
    if name is not None:
        out += bytes([len(name)]) + name
    out += struct.pack("<H", len(template)) + template + bytes([len(arch)]) + arch
    out += bytes([len(messages)])
    for role, content in messages:
        if role in ROLES:
            out += bytes([ROLES[role]])
        else:
            out += bytes([0xF0, len(role)]) + role.encode()
        c = content.encode() if isinstance(content, str) else content
        out += struct.pack("<H", len(c)) + c
    return out


def chat_template_seeds():
    turns = [("system", "Be brief."), ("user", "  Hi there \u3000"), ("assistant", "Hello!\n"), ("user", "Bye")]
    gen = 1
    return {
        "smol_template": conversation(0, 0, gen, SMOL_TEMPLATE.encode(), b"llama", turns[1:]),
        "smol_with_system": conversation(0, 0, 0, SMOL_TEMPLATE.encode(), b"llama", turns),
        "gemma_template": conversation(1, 0, gen, GEMMA_TEMPLATE.encode(), b"gemma3", turns),
        "gemma_from_arch": conversation(1, 0, gen, b"", b"gemma3", turns[1:]),
        "gemma_bad_order": conversation(1, 0, gen, b"", b"gemma3", [("user", "a"), ("user", "b")]),
        "llama3_template": conversation(0, 0x80 + 2, gen, LLAMA3_TEMPLATE.encode(), b"llama", turns),
        "qwen_from_arch": conversation(0, 0x40, gen, b"", b"qwen2", turns),
        "named_chatml": conversation(0, 0, gen | 2, b"unknown {{ x }}", b"", turns, name_byte=0),
        "named_llama3": conversation(1, 0xFF, 2, b"", b"", turns, name_byte=2),
        "any_name": conversation(0, 0, gen | 4, b"", b"", turns, name=b"zephyr"),
        "odd_roles": conversation(1, 0, gen, b"", b"gemma3", [("user", b"\xff\xfe"), ("model", "x"), ("", "")]),
        "no_template": conversation(0, 0, gen, b"", b"phi3", turns),
        "empty": conversation(0, 0, gen, b"<|im_start|>", b"", []),
    }


# ---- graph_api (fuzz_graph_api.cpp) --------------------------------------------
# The fuzzer's value tables (decode_dim, decode_dtype): a value is written as
# the byte that decodes to it.
SIZES = [0, 16, 32, 64, 96, 128, 256, 512, 0, 24, 48, 100, 127, 255, 1024, 2048]
ODD = [-1, -2, -(1 << 63), (1 << 63) - 1, 1 << 31, (1 << 31) - 1, 1 << 32, 1 << 40, 1 << 50, 1 << 62,
       -(1 << 31), -(1 << 40), 1 << 20, (1 << 20) + 1, 3 << 61, 0]
DTYPES = {"f32": 0x00, "f16": 0x80, "i32": 0xA0, "q4_0": 0xB2, "q4_1": 0xB3, "q8_0": 0xB6, "q4_K": 0xB9,
          "q6_K": 0xBB, "i8": 0xBD, "bf16": 0xBF}
OPS = {"get_rows": 1, "matmul": 2, "add": 3, "sub": 4, "mul": 5, "div": 6, "scale": 7, "rms_norm": 8,
       "layer_norm": 9, "rope": 10, "softmax": 11, "silu": 12, "gelu": 13, "swiglu": 14, "attention": 15,
       "set_rows": 16, "cpy": 17, "reshape": 18, "view": 19, "permute": 20, "concat": 21, "argmax": 22,
       "softcap": 23, "geglu": 24, "paged_attention": 25, "all_reduce": 26, "all_gather": 27}
FLOATS = [0, 1, -1, 0.5, 2, 1e-5, 1e-6, 10000, 1e6, 30, 0.125, -0.5, 50, 1e30, -1e30, 3]


def dim(d):
    if 1 <= d <= 8:
        return bytes([d - 1])
    if d in SIZES:
        return bytes([0xC0 + SIZES.index(d)])
    if d in ODD:
        return bytes([0xD0 + ODD.index(d)])
    return b"\xf0" + struct.pack("<q", d)  # any int64


def param(v):
    if 0 <= v < 16:
        return bytes([v])
    if 0 <= v < 128 and v % 4 == 0:
        return bytes([0x80 + v // 4])
    return bytes([0xA0]) + dim(v)


class Program:
    """Commands for fuzz_graph_api; each method returns the new tensor's index."""

    def __init__(self, flags=0, devices=1, steps=()):
        self.b = bytes([flags, devices, len(steps)]) + b"".join(param(s) for s in steps)
        self.n = 0

    def _leaf(self, cmd, dtype, shape, rank=None, extra=b""):
        r = len(shape) if rank is None else rank
        shape = list(shape) + [1] * (4 - len(shape))
        self.b += bytes([cmd, DTYPES[dtype], (r - 1) if 1 <= r <= 4 else 0xF0 + [0, -1, 5, 100].index(r)])
        self.b += b"".join(dim(d) for d in shape) + extra
        self.n += 1
        return self.n - 1

    def input(self, dtype, shape, rank=None):
        return self._leaf(0, dtype, shape, rank if rank is not None else len(shape))

    def weight(self, dtype, shape):
        return self._leaf(1, dtype, shape, len(shape), extra=b"\x00")

    def state(self, dtype, shape):
        return self._leaf(2, dtype, shape, len(shape))

    def op(self, name, inputs, ip=None, fp=None):
        ip = ip or {}
        fp = fp or {}
        self.b += bytes([3, OPS[name], len(inputs) - 1]) + bytes(inputs)
        self.b += struct.pack("<H", sum(1 << i for i in ip)) + bytes([sum(1 << i for i in fp)])
        self.b += b"".join(param(ip[i]) for i in sorted(ip))
        self.b += bytes(FLOATS.index(fp[i]) for i in sorted(fp))
        self.b += b"\x02"  # params and inputs given
        self.n += 1
        return self.n - 1

    def output(self, t):
        self.b += bytes([6, t])

    def device(self, choice):
        self.b += bytes([7, choice])  # 0 NULL, 2 "cpu", 4 "null"

    def end(self, data=b""):
        return self.b + b"\xff" + data


def graph_seeds():
    seeds = {}
    p = Program()
    x = p.input("f32", [64, 4])
    p.output(p.op("silu", [x]))
    seeds["silu"] = p.end(bytes(range(256)))

    p = Program()  # y = silu(W x + b), W [K=8, M=5], x [8, 3]
    w, x, b = p.weight("f32", [8, 5]), p.input("f32", [8, 3]), p.weight("f32", [5])
    p.output(p.op("silu", [p.op("add", [p.op("matmul", [w, x]), b])]))
    seeds["matmul_add_silu"] = p.end(struct.pack("<16f", *[0.25 * i - 2 for i in range(16)]))

    p = Program()
    x, g = p.input("f32", [8, 4]), p.weight("f32", [8])
    n = p.op("mul", [p.op("rms_norm", [x], fp={0: 1e-5}), g])
    s = p.op("softmax", [p.op("scale", [n], fp={0: 0.5, 1: 1})])
    p.output(s)
    p.output(p.op("argmax", [s]))
    p.output(p.op("layer_norm", [x], fp={0: 1e-5}))
    seeds["norms_softmax_argmax"] = p.end(struct.pack("<8f", 1, -2, 3, 0.5, 7, -1, 0, 2))

    p = Program()  # rope over [head_dim 8, heads 2, tokens 3]
    x, pos = p.input("f32", [8, 2, 3]), p.input("i32", [3])
    p.output(p.op("rope", [x, pos], ip={0: 8, 1: 0}, fp={0: 10000}))
    p.output(p.op("rope", [x, pos], ip={0: 4, 1: 2}, fp={0: 10000, 1: 0.5}))
    seeds["rope"] = p.end(struct.pack("<3i", 0, 1, 2) * 4)

    p = Program(steps=[6])  # causal attention, GQA 2:1, kv length from step parameter 0
    q, k, v, pos = p.input("f32", [8, 2, 3]), p.input("f16", [8, 1, 8]), p.input("f16", [8, 1, 8]), p.input("i32", [3])
    p.output(p.op("attention", [q, k, v, pos], ip={0: 1, 1: 0}))
    p.output(p.op("attention", [q, k, v, pos], ip={0: 1, 1: -1, 2: 2}, fp={0: 0.125}))
    seeds["attention"] = p.end(struct.pack("<3i", 3, 4, 5))

    p = Program()  # paged attention: blocks of 4 rows, a pool of 8 rows, 2 sequences
    q, k, v = p.input("f32", [8, 2, 3]), p.input("f32", [8, 1, 8]), p.input("f32", [8, 1, 8])
    pos, seq, table = p.input("i32", [3]), p.input("i32", [3]), p.input("i32", [2, 2])
    p.output(p.op("paged_attention", [q, k, v, pos, seq, table], ip={0: 4}))
    seeds["paged_attention"] = p.end(struct.pack("<3i", 0, 1, 0))

    p = Program()
    table, ids = p.weight("q4_0", [32, 4]), p.input("i32", [2])
    p.output(p.op("get_rows", [table, ids]))
    t2 = p.weight("f16", [8, 6])
    p.output(p.op("get_rows", [t2, ids]))
    seeds["get_rows"] = p.end(struct.pack("<2i", 3, 1))

    p = Program()  # a KV-cache write: set_rows into a state
    kv, src, idx = p.state("f16", [8, 4]), p.input("f32", [8, 2]), p.input("i32", [2])
    p.output(p.op("set_rows", [kv, src, idx]))
    q8 = p.state("q8_0", [32, 4])
    src2 = p.input("f32", [32, 2])
    p.output(p.op("set_rows", [q8, src2, idx]))
    seeds["set_rows"] = p.end(struct.pack("<2i", 2, 0))

    p = Program()  # metadata ops and copies
    x = p.input("f32", [8, 4])
    r = p.op("reshape", [x], ip={0: 4, 1: 8, 2: 1, 3: 1})
    t = p.op("permute", [r], ip={0: 1, 1: 0, 2: 2, 3: 3})
    c = p.op("cpy", [t], ip={0: 0})
    vw = p.op("view", [x], ip={0: 4, 1: 2, 2: 1, 3: 1, 4: 32, 5: 64, 6: 64, 7: 16})
    p.output(c)
    p.output(p.op("concat", [x, x], ip={0: 1}))
    p.output(p.op("cpy", [vw], ip={0: 1}))
    seeds["views"] = p.end()

    p = Program()  # quantize and back
    x = p.input("f32", [32, 2])
    for dt in (8, 2, 3):  # q8_0, q4_0, q4_1
        p.output(p.op("cpy", [p.op("cpy", [x], ip={0: dt})], ip={0: 0}))
    big = p.input("f32", [256, 1])
    p.output(p.op("cpy", [p.op("cpy", [big], ip={0: 12})], ip={0: 0}))  # q4_K
    seeds["quantize"] = p.end(struct.pack("<8f", 0.1, -3, 2.5, 0, 7, -7, 1e-3, 100))

    p = Program()  # element-wise with broadcasting, gated units, capping
    a, b = p.input("f32", [8, 4]), p.input("f32", [8, 1])
    for name in ("add", "sub", "mul", "div"):
        p.output(p.op(name, [a, b]))
    p.output(p.op("swiglu", [a, a]))
    p.output(p.op("geglu", [a, a]))
    p.output(p.op("gelu", [a]))
    p.output(p.op("softcap", [a], fp={0: 30}))
    seeds["elementwise"] = p.end()

    p = Program(flags=0, devices=3)  # placement: part on the null device (falls back), collectives of one rank
    x = p.input("f32", [4, 2])
    p.device(4)
    y = p.op("all_reduce", [x], ip={0: 1})
    p.device(0)
    p.output(p.op("all_gather", [y], ip={0: 1}))
    seeds["placement_collectives"] = p.end()

    p = Program(flags=1, devices=4)  # strict on the null device: refused
    x = p.input("f32", [4])
    p.output(p.op("silu", [x]))
    seeds["strict_null"] = p.end()

    p = Program()  # refusals: bad ranks, dims, dtypes, a huge tensor, a view past the end
    p.input("f32", [4, 4, 4, 4], rank=5)
    p.input("f32", [-1, 4])
    p.b += bytes([0, 0xF0]) + struct.pack("<I", 77) + bytes([1, 3, 3, 0, 0])  # dtype 77
    h = p.input("f32", [1 << 40])
    p.output(p.op("silu", [h]))
    x = p.input("f32", [4, 4])
    p.op("view", [x], ip={0: 4, 1: 600, 2: 1, 3: 1, 4: 16, 5: 16 * 600, 6: 16 * 600})
    p.op("matmul", [x, h])
    seeds["refusals"] = p.end()
    return seeds


def write_seeds(folder, seeds):
    os.makedirs(folder, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(folder, name + ".bin"), "wb") as f:
            f.write(data)


def main() -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "corpus")
    files = {"every_type": every_type, "tensors": tensors, "vocab": vocab, "empty": lambda w: None}
    os.makedirs(os.path.join(out, "gguf"), exist_ok=True)
    os.makedirs(os.path.join(out, "gguf_header"), exist_ok=True)
    for name, fill in files.items():
        path = os.path.join(out, "gguf", name + ".gguf")
        write(path, fill)
        start = gguf.GGUFReader(path).data_offset
        with open(path, "rb") as f:
            header = f.read()[HEADER_SKIP:start]
        with open(os.path.join(out, "gguf_header", name + ".bin"), "wb") as f:
            f.write(header)
    write_seeds(os.path.join(out, "tokenizer"), tokenizer_seeds())
    write_seeds(os.path.join(out, "chat_template"), chat_template_seeds())
    write_seeds(os.path.join(out, "graph_api"), graph_seeds())
    return 0


if __name__ == "__main__":
    sys.exit(main())
