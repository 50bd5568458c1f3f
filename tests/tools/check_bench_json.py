#!/usr/bin/env python3
"""Checks tessera-bench result files and its compare step.

    check_bench_json.py results   --bench BIN --workdir DIR --ops OPS.json --e2e E2E.json
    check_bench_json.py bad-input --bench BIN --workdir DIR
    check_bench_json.py smollm2   --bench BIN --workdir DIR     (exit 77: model not present)
    check_bench_json.py sweep     --bench BIN --workdir DIR --model TINY.gguf --llama-bench LB.json

sweep:     e2e with lists for threads, batch sizes, prompt and generation
           lengths and a -pg test writes every combination once, with the
           statistics consistent with its samples; compare --baseline between
           two real llama-bench outputs (JSON and JSONL) gives ratios whose
           value and interval are recomputed here from the samples; the noise
           threshold's exit status.

results:   both files follow schema tessera-bench/1 (benchmarks/README.md) and
           are sane (finite positive times, gflops = flop / median / 1e9;
           memory_roofs ascending by capacity, only the last unbounded and
           equal to peak_gbps; each op's roof_level / roof_gbps the smallest
           roof holding its bytes; roofline share finite, positive and =
           gflops / min(peak_gflops, flop/bytes * roof_gbps)); no bound on a
           measured speed, share or ratio of roofs: the probe and the
           workload run at different moments on a shared machine, so any
           such bound flakes, and it belongs in benchmark notes, not
           pass/fail; compare merges them (and a copy of the ops file, a
           second source) into a table, a CSV and four SVG charts that parse
           as XML and hold bars / points for every source, a roof (and its
           label) per memory level, a label for every point, and the
           throughput chart's bars.
bad-input: malformed or foreign JSON given to compare, and bad flags, exit
           with code 2 and a message naming the problem; a missing model
           exits 1 with the library's message; nothing crashes.
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

RUN_KEYS = ["tool", "tessera_version", "git_commit", "build_type", "compiler", "date", "hostname",
            "cpu_model", "threads", "command_line"]
DEVICE_KEYS = ["name", "backend", "description", "driver", "peak_gflops", "peak_gbps", "peak_source"]
OP_KEYS = ["kind", "engine", "device", "backend", "name", "op", "dtype", "shape", "status", "reason", "reps",
           "median_s", "min_s", "max_s", "spread", "flop", "bytes", "gflops", "gbps", "roofline_share", "roof_level",
           "roof_gbps"]
E2E_KEYS = ["kind", "engine", "device", "backend", "model", "test", "n_prompt", "n_gen", "threads", "n_batch", "reps",
            "tokens_per_second", "tokens_per_second_min", "tokens_per_second_max", "tokens_per_second_mean",
            "tokens_per_second_stddev", "tokens_per_second_ci95_low", "tokens_per_second_ci95_high", "cv", "noisy",
            "samples_seconds", "fallback_nodes"]
SVG_NS = "{http://www.w3.org/2000/svg}"

failures: list[str] = []


def check(cond: bool, msg: str) -> bool:
    if not cond:
        failures.append(msg)
    return cond


def close(a: float, b: float, rel: float = 1e-6) -> bool:
    return abs(a - b) <= rel * max(abs(a), abs(b), 1e-300)


def is_num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def validate_doc(path: str, kind: str) -> dict:
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    where = os.path.basename(path)
    check(doc.get("schema") == "tessera-bench/1", f"{where}: schema is {doc.get('schema')!r}")
    run = doc.get("run", {})
    for k in RUN_KEYS:
        check(k in run, f"{where}: run.{k} missing")
    check(run.get("tool") == "tessera-bench", f"{where}: run.tool")
    check(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", run.get("date", "")) is not None,
          f"{where}: run.date {run.get('date')!r} is not UTC ISO 8601")
    check(re.fullmatch(r"[0-9a-f]{7,40}(-dirty)?|unknown", run.get("git_commit", "")) is not None,
          f"{where}: run.git_commit {run.get('git_commit')!r}")
    check(isinstance(run.get("threads"), int) and run["threads"] > 0, f"{where}: run.threads")
    check("tessera-bench" in run.get("command_line", ""), f"{where}: run.command_line")
    devices = {}
    for d in doc.get("devices", []):
        for k in DEVICE_KEYS:
            check(k in d, f"{where}: device {d.get('name')}: {k} missing")
        for k in ("peak_gflops", "peak_gbps"):
            check(d.get(k) is None or (is_num(d[k]) and d[k] > 0), f"{where}: device {d.get('name')}: {k} = {d.get(k)}")
        check(d.get("peak_source") in (None, "declared", "probe:native", "probe:op", "declared+probe:native",
                                       "declared+probe:op"), f"{where}: peak_source {d.get('peak_source')!r}")
        validate_roofs(where, d)
        devices[d.get("name")] = d
    check(len(devices) > 0, f"{where}: no devices")
    results = doc.get("results", [])
    check(len(results) > 0, f"{where}: no results")
    names = set()
    for r in results:
        check(r.get("device") in devices, f"{where}: result on unlisted device {r.get('device')!r}")
        check(r.get("kind") == kind, f"{where}: kind {r.get('kind')!r}, expected {kind}")
        if kind == "op":
            validate_op(where, r, devices.get(r.get("device"), {}))
            key = (r.get("device"), r.get("name"))
            check(key not in names, f"{where}: duplicate workload {key}")
            names.add(key)
        else:
            validate_e2e(where, r)
    return doc


def validate_roofs(where: str, d: dict) -> None:
    """memory_roofs: ascending capacity, only the last unbounded, positive finite gbps, the last = peak_gbps;
    present exactly when peak_gbps is (a declared bandwidth is one unbounded roof)."""
    name = d.get("name")
    roofs = d.get("memory_roofs")
    if not check(isinstance(roofs, list), f"{where}: device {name}: memory_roofs {roofs!r} is not a list"):
        return
    check(bool(roofs) == (d.get("peak_gbps") is not None),
          f"{where}: device {name}: memory_roofs {'present' if roofs else 'empty'} with peak_gbps {d.get('peak_gbps')}")
    prev = 0
    for i, m in enumerate(roofs):
        what = f"{where}: device {name}: memory_roofs[{i}]"
        if not check(isinstance(m, dict), f"{what} is not an object"):
            return
        check(isinstance(m.get("level"), str) and m["level"] != "", f"{what}: level {m.get('level')!r}")
        check(is_num(m.get("gbps")) and m["gbps"] > 0, f"{what}: gbps {m.get('gbps')!r}")
        cap = m.get("capacity_bytes")
        if i == len(roofs) - 1:
            check(cap is None, f"{what}: the last roof has capacity {cap!r}, not null (unbounded)")
        elif check(is_num(cap) and cap == int(cap) and cap > prev,
                   f"{what}: capacity {cap!r} is not a whole number of bytes above the previous level's {prev}"):
            prev = cap
    if roofs and is_num(roofs[-1].get("gbps")) and is_num(d.get("peak_gbps")):
        check(close(roofs[-1]["gbps"], d["peak_gbps"]), f"{where}: device {name}: the unbounded roof's gbps "
              f"{roofs[-1]['gbps']} != peak_gbps {d['peak_gbps']}")


def expected_roof(r: dict, dev: dict) -> dict | None:
    """The smallest memory roof holding the op's bytes (the unbounded last one holds any); None without roofs."""
    for m in dev.get("memory_roofs") or []:
        if m.get("capacity_bytes") is None or r["bytes"] <= m["capacity_bytes"]:
            return m
    return None


def validate_op(where: str, r: dict, dev: dict) -> None:
    name = r.get("name")
    for k in OP_KEYS:
        check(k in r, f"{where}: {name}: {k} missing")
    check(r.get("engine") == "tessera", f"{where}: {name}: engine")
    check(isinstance(r.get("shape"), dict) and all(isinstance(v, int) and v > 0 for v in r["shape"].values()),
          f"{where}: {name}: shape {r.get('shape')}")
    check(r.get("status") in ("ok", "unsupported", "skipped", "error"), f"{where}: {name}: status")
    check(is_num(r.get("flop")) and r["flop"] > 0 and is_num(r.get("bytes")) and r["bytes"] > 0,
          f"{where}: {name}: flop / bytes")
    if r.get("status") != "ok":
        check(bool(r.get("reason")), f"{where}: {name}: a {r.get('status')} result without a reason")
        return
    med, lo, hi = r.get("median_s"), r.get("min_s"), r.get("max_s")
    if not check(all(is_num(v) and v > 0 for v in (med, lo, hi)), f"{where}: {name}: times {lo} {med} {hi}"):
        return
    check(lo <= med <= hi, f"{where}: {name}: min <= median <= max")
    check(isinstance(r.get("reps"), int) and r["reps"] >= 1, f"{where}: {name}: reps")
    check(is_num(r.get("spread")) and r["spread"] >= 0, f"{where}: {name}: spread")
    check(close(r["gflops"], r["flop"] / med / 1e9), f"{where}: {name}: gflops {r['gflops']} != flop/median/1e9")
    check(close(r["gbps"], r["bytes"] / med / 1e9), f"{where}: {name}: gbps {r['gbps']} != bytes/median/1e9")
    m = expected_roof(r, dev)
    if m is not None:
        check(r.get("roof_level") == m.get("level"),
              f"{where}: {name}: roof_level {r.get('roof_level')!r}, expected {m.get('level')!r} "
              f"(the smallest memory roof holding {r['bytes']} bytes)")
        check(is_num(r.get("roof_gbps")) and close(r["roof_gbps"], m["gbps"]),
              f"{where}: {name}: roof_gbps {r.get('roof_gbps')} != {m['level']}'s {m['gbps']}")
    else:
        check(r.get("roof_level") is None, f"{where}: {name}: roof_level {r.get('roof_level')!r} without memory_roofs")
        check(r.get("roof_gbps") == dev.get("peak_gbps") or close(r.get("roof_gbps") or 0, dev.get("peak_gbps") or 0),
              f"{where}: {name}: roof_gbps {r.get('roof_gbps')} != peak_gbps {dev.get('peak_gbps')} without roofs")
    if dev.get("peak_gflops") and is_num(r.get("roof_gbps")):
        share = r.get("roofline_share")
        check(is_num(share) and share > 0, f"{where}: {name}: roofline_share {share} is not a positive number")
        roof = min(dev["peak_gflops"], r["flop"] / r["bytes"] * r["roof_gbps"])
        check(is_num(share) and close(share, r["gflops"] / roof),
              f"{where}: {name}: roofline_share != gflops / min(peak_gflops, flop/bytes * roof_gbps)")


def validate_e2e(where: str, r: dict) -> None:
    test = r.get("test")
    check(sorted(r.keys()) == sorted(E2E_KEYS), f"{where}: {test}: keys {sorted(r.keys())} != {sorted(E2E_KEYS)}")
    check(r.get("engine") == "tessera", f"{where}: {test}: engine")
    n_p, n_g = r.get("n_prompt"), r.get("n_gen")
    check((test == f"pp{n_p}" and n_g == 0) or (test == f"tg{n_g}" and n_p == 0) or
          (test == f"pp{n_p}+tg{n_g}" and n_p > 0 and n_g > 0),
          f"{where}: test {test!r} with n_prompt {n_p}, n_gen {n_g}")
    samples = r.get("samples_seconds", [])
    check(len(samples) == r.get("reps") and all(is_num(s) and s > 0 for s in samples), f"{where}: {test}: samples")
    if not samples:
        return
    tps = sorted((n_p + n_g) / s for s in samples)
    mid = len(tps) // 2
    median = tps[mid] if len(tps) % 2 else (tps[mid - 1] + tps[mid]) / 2
    check(close(r["tokens_per_second"], median, 1e-6), f"{where}: {test}: tokens_per_second != median of samples")
    check(close(r["tokens_per_second_min"], tps[0]) and close(r["tokens_per_second_max"], tps[-1]),
          f"{where}: {test}: min / max")


def run(cmd: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def svg_elements(path: str, cls: str, tag: str) -> list:
    root = ET.parse(path).getroot()
    check(root.tag == SVG_NS + "svg", f"{path}: root is {root.tag}")
    return [e for e in root.iter(SVG_NS + tag) if e.get("class") == cls]


def svg_marks(path: str, cls: str, tag: str) -> set[int]:
    return {int(e.get("data-source")) for e in svg_elements(path, cls, tag)}


def check_roofline_svg(path: str, cpu: dict) -> None:
    """Source 0 (the CPU of the ops file): a roof and a roof label per memory level; every point labelled (its
    workload name on a label; a numbered label's number in the key under the chart)."""
    levels = [m["level"] for m in cpu.get("memory_roofs") or []]
    check(len(levels) > 0, f"{path}: the CPU device has no memory_roofs")
    roofs = [e.get("data-level") for e in svg_elements(path, "roof", "polyline") if e.get("data-source") == "0"]
    check(sorted(roofs) == sorted(levels), f"{path}: source 0's roofs {roofs} != its memory levels {levels}")
    tags = [e.get("data-level") for e in svg_elements(path, "roof-label", "text") if e.get("data-source") == "0"]
    check(sorted(tags) == sorted(levels), f"{path}: source 0's roof labels {tags} != its memory levels {levels}")
    for e in svg_elements(path, "roof-label", "text"):
        check(bool(e.text) and e.text.endswith(" GB/s"), f"{path}: roof label {e.text!r}")
    labels = svg_elements(path, "label", "text")
    key = {e.get("data-name"): (e.text or "") for e in svg_elements(path, "key", "text")}
    named = {}
    for e in labels:
        check(bool(e.text), f"{path}: an empty point label for {e.get('data-name')!r}")
        named[e.get("data-name")] = e.text or ""
    for p in svg_elements(path, "point", "circle"):
        name = p.get("data-name")
        if not check(name in named, f"{path}: point {name!r} of source {p.get('data-source')} has no label"):
            continue
        if named[name].isdigit():
            check(key.get(name, "").split(" ")[0] == named[name],
                  f"{path}: point {name!r} is numbered {named[name]} but the key says {key.get(name)!r}")


def cmd_results(a) -> None:
    ops = validate_doc(a.ops, "op")
    validate_doc(a.e2e, "e2e")
    want = {"matmul q4_1 smollm2.attn_kv 576x192 n512", "matvec f16 smollm2.output 576x49152",
            "rms_norm f32 smollm2 576x512"}
    got = {r["name"] for r in ops["results"] if r["status"] == "ok"}
    check(want <= got, f"ops: expected ok results for {sorted(want - got)}")
    # A second source: the same results under another file name.
    other = os.path.join(a.workdir, "ops_copy.json")
    shutil.copyfile(a.ops, other)
    prefix = os.path.join(a.workdir, "cmp")
    out_csv = os.path.join(a.workdir, "cmp.csv")
    p = run([a.bench, "compare", a.ops, other, a.e2e, "--svg", prefix, "--csv", out_csv])
    if not check(p.returncode == 0, f"compare exit {p.returncode}: {p.stderr}"):
        return
    for name in want:
        check(name in p.stdout, f"compare table lacks {name!r}")
    check("x1.00" in p.stdout, "compare table lacks the ratio x1.00 of identical sources")
    with open(out_csv, newline="") as f:
        rows = list(csv.DictReader(f))
    check(len({r["source"] for r in rows}) == 3, f"compare CSV sources: {sorted({r['source'] for r in rows})}")
    # Sources: 0 = ops.json, 1 = ops_copy.json, 2 = e2e.json.
    check(svg_marks(prefix + "-ops.svg", "bar", "rect") >= {0, 1}, "ops.svg: bars for sources 0 and 1")
    check(svg_marks(prefix + "-e2e.svg", "bar", "rect") == {2}, "e2e.svg: bars for source 2")
    check(svg_marks(prefix + "-roofline.svg", "point", "circle") >= {0, 1}, "roofline.svg: points for 0 and 1")
    check(svg_marks(prefix + "-roofline.svg", "roof", "polyline") >= {0, 1}, "roofline.svg: roofs for 0 and 1")
    check_roofline_svg(prefix + "-roofline.svg", ops["devices"][0])
    check(svg_marks(prefix + "-throughput.svg", "bar", "rect") == {0, 1}, "throughput.svg: bars for sources 0 and 1")


def expect_usage_error(a, args: list[str], needle: str, code: int = 2) -> None:
    p = run([a.bench] + args)
    label = " ".join(args)
    check(p.returncode == code, f"`{label}`: exit {p.returncode}, expected {code} (stderr: {p.stderr.strip()})")
    check(needle in p.stderr, f"`{label}`: stderr lacks {needle!r}: {p.stderr.strip()!r}")


def cmd_bad_input(a) -> None:
    def write(name: str, text: str) -> str:
        path = os.path.join(a.workdir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    truncated = write("truncated.json", '{"schema": "tessera-bench/1", "results": [{"kind": "op"')
    foreign = write("foreign.json", '{"hello": [1, 2, 3]}')
    not_json = write("not_json.json", "schema = tessera-bench/1\n")
    bad_kind = write("bad_kind.json", '{"schema": "tessera-bench/1", "results": [{"kind": "x", "device": "cpu:0"}]}')
    expect_usage_error(a, ["compare", truncated], "truncated.json: malformed JSON at byte")
    expect_usage_error(a, ["compare", not_json], "not_json.json: malformed JSON at byte 0")
    expect_usage_error(a, ["compare", foreign], "unsupported schema")
    expect_usage_error(a, ["compare", bad_kind], "results[0]: not an op or e2e result")
    expect_usage_error(a, ["compare", os.path.join(a.workdir, "no_such_file.json")], "cannot read")
    expect_usage_error(a, ["compare"], "no result files")
    expect_usage_error(a, ["ops", "--min-time", "abc"], "bad value 'abc' for --min-time")
    expect_usage_error(a, ["ops", "--filter", "("], "bad --filter regex")
    expect_usage_error(a, ["ops", "--filter", "no workload has this name"], "no workload")
    expect_usage_error(a, ["ops", "--suite", "gpt5"], "unknown suite")
    expect_usage_error(a, ["ops", "--bogus"], "unknown option --bogus")
    expect_usage_error(a, ["ops", "--device"], "--device needs a value")
    expect_usage_error(a, ["ops", "--device", "nosuchdevice", "--filter", "gemm"], "unknown device 'nosuchdevice'")
    expect_usage_error(a, ["e2e", "--device", "cpu"], "-m MODEL.gguf is required")
    expect_usage_error(a, ["e2e", "-m", "x.gguf", "-p", "12,x"], "bad value '12,x' for -p")
    expect_usage_error(a, ["e2e", "-m", "x.gguf", "-t", "1-x"], "bad range '1-x'")
    expect_usage_error(a, ["e2e", "-m", "x.gguf", "-p", "1-2000000"], "bad range '1-2000000'")
    expect_usage_error(a, ["e2e", "-m", "x.gguf", "-p", "1-5000"], "more than 1024 values")
    expect_usage_error(a, ["e2e", "-m", "x.gguf", "-n", "8-2"], "ends before it starts")
    expect_usage_error(a, ["e2e", "-m", "x.gguf", "-pg", "5"], "expected P,N")
    expect_usage_error(a, ["e2e", "-m", "x.gguf", "-t", "1-32", "-p", "1-512", "-n", "1-8"], "combinations")
    lb_bad = write("lb_bad.jsonl", '{"n_prompt": 8, "n_gen": 0, "samples_ns": [100, -5]}\n')
    expect_usage_error(a, ["compare", lb_bad], "samples_ns holds a value that is not a positive number")
    lb_line = write("lb_line.jsonl", '{"n_prompt": 8, "n_gen": 0, "samples_ns": [100]}\n{"hello": 1}\n')
    expect_usage_error(a, ["compare", lb_line], "line 2: not a llama-bench test object")
    lb_ok = write("lb_ok.jsonl", '{"n_prompt": 8, "n_gen": 0, "samples_ns": [100, 120]}\n')
    expect_usage_error(a, ["compare", lb_ok, "--baseline", "nosuch"],
                       "--baseline 'nosuch' matches no file, device or engine")
    expect_usage_error(a, ["frobnicate"], "unknown subcommand")
    # Peaks and points past a double's range (1e999 reads as infinity) or
    # whose ratio underflows to 0: compare still draws its charts, promptly
    # (the roofline's grid loop ran forever on them; found by fuzz_bench_json).
    extreme = write("extreme.json", '{"schema": "tessera-bench/1", "devices": [{"name": "cpu:0", '
                    '"peak_gflops": 1e-320, "peak_gbps": 1e999}], "results": [{"kind": "op", "device": "cpu:0", '
                    '"name": "w", "flop": 1e308, "bytes": 1e-308, "gflops": 1e999, "median_s": 1}]}')
    try:
        p = subprocess.run([a.bench, "compare", extreme, "--svg", os.path.join(a.workdir, "extreme")],
                           capture_output=True, text=True, timeout=30)
        check(p.returncode == 0, f"compare of extreme values: exit {p.returncode}: {p.stderr.strip()}")
    except subprocess.TimeoutExpired:
        check(False, "compare of extreme values did not finish in 30 s")
    # A runtime failure: exit 1 with the C API's message, no crash.
    expect_usage_error(a, ["e2e", "-m", os.path.join(a.workdir, "missing.gguf"), "--device", "cpu", "--no-probe"],
                       "missing.gguf", code=1)


def cmd_smollm2(a) -> int:
    model = os.environ.get("TESSERA_SMOLLM2") or os.path.expanduser(
        "~/.cache/tessera/models/SmolLM2-135M-Instruct.Q4_1.gguf")
    if not os.path.exists(model):
        print(f"skipped: {model} not present")
        return 77
    out = os.path.join(a.workdir, "e2e_smollm2.json")
    p = run([a.bench, "e2e", "-m", model, "--device", "cpu", "--threads", "2", "-p", "32", "-n", "8", "--reps", "2",
             "--json", out])
    print(p.stdout, p.stderr)
    if check(p.returncode == 0, f"e2e exit {p.returncode}"):
        doc = validate_doc(out, "e2e")
        tests = {r["test"]: r for r in doc["results"]}
        check(set(tests) == {"pp32", "tg8"}, f"tests {sorted(tests)}")
        for r in tests.values():
            check(r["model"] == os.path.basename(model), "model is the file's basename")
            check(is_num(r["tokens_per_second"]) and r["tokens_per_second"] > 0,
                  f"{r['test']}: {r['tokens_per_second']} tokens/s")
    return 0


def t975_bounds_ok(half: float, se: float) -> bool:
    """A 95% t half-width lies between the normal's 1.96 se and df=1's 12.71 se."""
    return 1.959 * se <= half * (1 + 1e-9) and half <= 12.71 * se * (1 + 1e-9)


def log_stats(xs: list[float]) -> tuple[float, float, int]:
    ls = [math.log(x) for x in xs]
    m = sum(ls) / len(ls)
    v = sum((x - m) ** 2 for x in ls) / (len(ls) - 1) if len(ls) > 1 else 0.0
    return m, v, len(ls)


def cmd_sweep(a) -> None:
    out = os.path.join(a.workdir, "sweep.json")
    p = run([a.bench, "e2e", "-m", a.model, "--device", "cpu", "-t", "1,2", "-p", "8,16", "-n", "4", "-pg", "8,4",
             "-b", "4-16*4", "--reps", "3", "--no-probe", "--json", out])
    if not check(p.returncode == 0, f"sweep e2e exit {p.returncode}: {p.stderr}"):
        return
    doc = validate_doc(out, "e2e")
    rows = [(r["threads"], r["n_batch"], r["test"]) for r in doc["results"]]
    want = [(t, b, test) for t in (1, 2) for b in (4, 16) for test in ("pp8", "pp16", "tg4", "pp8+tg4")]
    check(sorted(rows) == sorted(want), f"sweep rows {sorted(rows)} != {sorted(want)}")
    check(len(set(rows)) == len(rows), "a combination written twice")
    for r in doc["results"]:
        n_p, n_g = r["n_prompt"], r["n_gen"]
        check(r["test"] == ("pp%d" % n_p if n_p else "") + ("+" if n_p and n_g else "") + ("tg%d" % n_g if n_g else ""),
              f"test name {r['test']} for n_prompt {n_p}, n_gen {n_g}")
        tps = [(n_p + n_g) / x for x in r["samples_seconds"]]
        mean = sum(tps) / len(tps)
        check(close(r["tokens_per_second_mean"], mean, 1e-9), f"{r['test']}: mean")
        sd = math.sqrt(sum((x - mean) ** 2 for x in tps) / (len(tps) - 1))
        check(close(r["tokens_per_second_stddev"], sd, 1e-9) or sd == 0, f"{r['test']}: stddev")
        # The interval of the geometric mean, from a t-interval on logs.
        m, v, n = log_stats(tps)
        lo, hi = r["tokens_per_second_ci95_low"], r["tokens_per_second_ci95_high"]
        check(lo <= math.exp(m) * (1 + 1e-9) and math.exp(m) <= hi * (1 + 1e-9), f"{r['test']}: interval {lo}..{hi}")
        check(close(math.log(hi) - m, m - math.log(lo), 1e-6), f"{r['test']}: interval not symmetric in logs")
        check(t975_bounds_ok(math.log(hi) - m, math.sqrt(v / n)), f"{r['test']}: interval width")
        times = r["samples_seconds"]
        tm = sum(times) / len(times)
        cv = math.sqrt(sum((x - tm) ** 2 for x in times) / (len(times) - 1)) / tm
        check(close(r["cv"], cv, 1e-9) or cv == 0, f"{r['test']}: cv {r['cv']} != {cv}")

    # The noise threshold: 0 makes any spread noisy (exit 3 with a warning);
    # a huge one none.
    p = run([a.bench, "e2e", "-m", a.model, "--device", "cpu", "-p", "8", "-n", "0", "--reps", "5", "--no-probe",
             "--noise-threshold", "0", "--fail-on-noise"])
    check(p.returncode == 3 and "noisy" in p.stderr, f"--fail-on-noise with threshold 0: exit {p.returncode}")
    p = run([a.bench, "e2e", "-m", a.model, "--device", "cpu", "-p", "8", "-n", "0", "--reps", "3", "--no-probe",
             "--noise-threshold", "100", "--fail-on-noise"])
    check(p.returncode == 0 and "noisy" not in p.stderr, f"threshold 100: exit {p.returncode}, {p.stderr.strip()}")

    # compare --baseline between llama-bench's JSON and JSONL (two real runs).
    lb_json = a.llama_bench
    lb_jsonl = os.path.splitext(a.llama_bench)[0] + ".jsonl"
    out_csv = os.path.join(a.workdir, "cmp_lb.csv")
    p = run([a.bench, "compare", lb_jsonl, lb_json, out, "--baseline", os.path.basename(lb_json), "--csv", out_csv])
    if not check(p.returncode == 0, f"compare --baseline exit {p.returncode}: {p.stderr}"):
        return
    check("(baseline)" in p.stdout, "compare table does not name the baseline")
    with open(lb_json) as f:
        tests = json.load(f)
    with open(lb_jsonl) as f:
        tests_l = [json.loads(line) for line in f if line.strip()]

    def key(t):
        return (t["n_threads"], t["n_prompt"], t["n_gen"])

    base = {key(t): t for t in tests}
    with open(out_csv, newline="") as f:
        rows = list(csv.DictReader(f))
    checked = 0
    for t in tests_l:
        b = base.get(key(t))
        if not b:
            continue
        name = ("pp%d" % t["n_prompt"] if t["n_prompt"] else "") + ("+" if t["n_prompt"] and t["n_gen"] else "") + (
            "tg%d" % t["n_gen"] if t["n_gen"] else "")
        label = f"llama.cpp cpu t={t['n_threads']} ({os.path.basename(lb_jsonl)})"
        row = [r for r in rows if r["source"] == label and r["row"].endswith(" " + name)]
        if not check(len(row) == 1, f"CSV row for {label} {name}: {len(row)}"):
            continue
        r = row[0]
        # Speed ratio: geometric means of the run times, Welch interval on logs.
        ma, va, na = log_stats([x / 1e9 for x in b["samples_ns"]])
        mb, vb, nb = log_stats([x / 1e9 for x in t["samples_ns"]])
        ratio = math.exp(ma - mb)
        check(close(float(r["ratio"]), ratio, 1e-9), f"{name}: ratio {r['ratio']} != {ratio}")
        lo, hi = float(r["ratio_low"]), float(r["ratio_high"])
        se = math.sqrt(va / na + vb / nb)
        check(close(math.log(hi) - math.log(ratio), math.log(ratio) - math.log(lo), 1e-6), f"{name}: asymmetric")
        check(t975_bounds_ok(math.log(hi) - math.log(ratio), se), f"{name}: ratio interval width")
        check(r["reference"].startswith(f"llama.cpp cpu t={t['n_threads']} ("), f"{name}: reference {r['reference']}")
        check(r["intervals_overlap"] in ("true", "false"), f"{name}: overlap flag {r['intervals_overlap']!r}")
        checked += 1
    check(checked >= 2, f"only {checked} llama-bench rows compared")

    # A baseline of several words, all to match: the sweep's own 1-thread
    # source; the 2-thread one is compared with it.
    p = run([a.bench, "compare", out, "--baseline", "cpu t=1", "--csv", out_csv])
    if check(p.returncode == 0, f"compare --baseline 'cpu t=1' exit {p.returncode}: {p.stderr}"):
        with open(out_csv, newline="") as f:
            rows = list(csv.DictReader(f))
        t2 = [r for r in rows if " t=2" in r["source"]]
        check(len(t2) > 0 and all(" t=1" in r["reference"] and r["ratio"] for r in t2),
              f"t=2 rows not compared with t=1: {[(r['source'], r['reference']) for r in t2][:3]}")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["results", "bad-input", "smollm2", "sweep"])
    ap.add_argument("--bench", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--ops")
    ap.add_argument("--e2e")
    ap.add_argument("--model")
    ap.add_argument("--llama-bench")
    a = ap.parse_args()
    os.makedirs(a.workdir, exist_ok=True)
    if a.mode == "results":
        cmd_results(a)
    elif a.mode == "bad-input":
        cmd_bad_input(a)
    elif a.mode == "sweep":
        cmd_sweep(a)
    elif cmd_smollm2(a) == 77:
        return 77
    for f in failures:
        print("FAIL:", f)
    print(f"{a.mode}: {'ok' if not failures else str(len(failures)) + ' failure(s)'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
