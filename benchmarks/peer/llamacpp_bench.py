#!/usr/bin/env python3
"""Tessera against llama.cpp on the same GGUF, the same threads, the same tests.

Two subcommands:

  llama   runs inside the llama-cpp-python virtual environment: loads the model
          through the llama_cpp low-level bindings and measures pp<P> and tg<N>
          the way llama.cpp's llama-bench does (see measure_prompt and
          measure_gen). Writes one JSON file of e2e results.
  peer    the whole comparison: for every repetition, one llama.cpp process
          and one Tessera process (tessera-bench e2e, or tessera-run where no
          tessera-bench is built), alternating which goes first, because this
          machine's absolute speed drifts over minutes. Then it merges the
          samples, prints one table and writes DIR/llamacpp.json and
          DIR/tessera.json in tessera-bench's schema ("tessera-bench/1"), so
          that `tessera-bench compare DIR/tessera.json DIR/llamacpp.json`
          merges them.

Only the standard library here, plus llama_cpp in the `llama` subcommand.
scripts/peer-llamacpp.sh builds the environment and calls `peer`.
"""

import argparse
import ctypes
import datetime
import json
import os
import platform
import random
import shlex
import statistics
import subprocess
import sys
import time

SCHEMA = "tessera-bench/1"
TOOL = "peer-llamacpp"


class PeerError(Exception):
    """A failure the user can act on; main() prints it and exits 1."""


# ---- Shared helpers -----------------------------------------------------------


def cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def tessera_commit():
    """HEAD of the checkout, "-dirty" when tracked files differ from it."""
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        head = subprocess.run(["git", "-C", here, "rev-parse", "HEAD"], capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", here, "diff", "--quiet", "HEAD"], check=False).returncode != 0
        return head + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return None


def e2e_result(engine, model, test, n_prompt, n_gen, threads, samples):
    """One e2e result record of the tessera-bench/1 schema from per-run seconds."""
    n_tokens = n_prompt + n_gen
    rates = sorted(n_tokens / s for s in samples)
    return {
        "kind": "e2e",
        "engine": engine,
        "device": "cpu:0",
        "backend": "cpu",
        "model": os.path.basename(model),
        "test": test,
        "n_prompt": n_prompt,
        "n_gen": n_gen,
        "threads": threads,
        "reps": len(samples),
        "tokens_per_second": statistics.median(rates),
        "tokens_per_second_min": rates[0],
        "tokens_per_second_max": rates[-1],
        "samples_seconds": list(samples),
    }


def test_names(n_prompt, n_gen):
    """(name, n_prompt, n_gen) of every test, llama-bench's naming: pp512, tg128."""
    tests = []
    if n_prompt > 0:
        tests.append((f"pp{n_prompt}", n_prompt, 0))
    if n_gen > 0:
        tests.append((f"tg{n_gen}", 0, n_gen))
    return tests


def write_json(path, doc):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)


def read_json(path, what):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise PeerError(f"[{what}] cannot read {path}: {e}") from e


# ---- llama subcommand: runs inside the venv ------------------------------------


def llama_main(a):
    try:
        import llama_cpp as L  # pylint: disable=import-outside-toplevel
    except ImportError as e:
        raise PeerError(f"[llama] cannot import llama_cpp ({e}); run scripts/peer-llamacpp.sh, which "
                        "builds the environment") from e

    # llama.cpp logs every tensor on load; keep stderr for errors only.
    @ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p)
    def quiet(level, text, user_data):  # pylint: disable=unused-argument
        if level == 4:  # GGML_LOG_LEVEL_ERROR
            sys.stderr.write(text.decode("utf-8", "replace"))

    L.llama_log_set(quiet, None)
    L.llama_backend_init()

    mp = L.llama_model_default_params()
    mp.n_gpu_layers = a.n_gpu_layers  # 0: CPU only, as the CPU peer comparison needs
    model = L.llama_model_load_from_file(a.model.encode(), mp)
    if not model:
        raise PeerError(f"[llama] llama.cpp cannot load {a.model}")
    vocab = L.llama_model_get_vocab(model)
    n_vocab = L.llama_vocab_n_tokens(vocab)
    bos = L.llama_vocab_bos(vocab) if L.llama_vocab_get_add_bos(vocab) else None
    rng = random.Random(a.seed)

    def random_tokens(n, first_is_bos):
        # llama-bench: the first token of an empty sequence is BOS when the
        # model adds one, the rest uniformly random ids of the vocabulary.
        ids = [rng.randrange(n_vocab) for _ in range(n)]
        if first_is_bos and bos is not None and n > 0:
            ids[0] = bos
        return (L.llama_token * n)(*ids)

    def make_context(n_ctx, n_batch):
        cp = L.llama_context_default_params()
        cp.n_ctx = n_ctx
        cp.n_batch = n_batch
        cp.n_ubatch = n_batch  # the whole prompt in one compute graph
        cp.n_threads = a.threads
        cp.n_threads_batch = a.threads
        cp.no_perf = True
        ctx = L.llama_init_from_model(model, cp)
        if not ctx:
            raise PeerError(f"[llama] cannot create a context (n_ctx {n_ctx}, n_batch {n_batch})")
        return ctx

    def decode(ctx, tokens, n):
        # llama_batch_get_one: one sequence, positions after the cache's
        # last, logits of the last token only (as llama-bench's batches).
        rc = L.llama_decode(ctx, L.llama_batch_get_one(tokens, n))
        if rc != 0:
            raise PeerError(f"[llama] llama_decode of {n} tokens failed with {rc}")

    def measure_prompt(ctx, n_prompt):
        # llama-bench test_prompt with n_batch >= n_prompt: one decode of the
        # whole prompt into an empty cache. Token ids are drawn before the
        # clock starts (llama-bench draws them inside it; std::rand is cheap,
        # Python's is not).
        tokens = random_tokens(n_prompt, True)
        L.llama_memory_clear(L.llama_get_memory(ctx), False)
        t0 = time.perf_counter()
        decode(ctx, tokens, n_prompt)
        L.llama_synchronize(ctx)
        return time.perf_counter() - t0

    def measure_gen(ctx, n_gen):
        # llama-bench test_gen: from an empty cache, n_gen decodes of one
        # token each (BOS first), each synchronised before the next.
        steps = [random_tokens(1, i == 0) for i in range(n_gen)]
        L.llama_memory_clear(L.llama_get_memory(ctx), False)
        t0 = time.perf_counter()
        for tok in steps:
            decode(ctx, tok, 1)
            L.llama_synchronize(ctx)
        return time.perf_counter() - t0

    results = []
    for name, n_prompt, n_gen in test_names(a.n_prompt, a.n_gen):
        # As llama-bench: one context per test, n_ctx = n_prompt + n_gen.
        ctx = make_context(n_prompt + n_gen, max(512, n_prompt))
        try:
            measure, count = (measure_prompt, n_prompt) if n_prompt else (measure_gen, n_gen)
            measure(ctx, count)  # warm-up
            samples = [measure(ctx, count) for _ in range(a.reps)]
        finally:
            L.llama_free(ctx)
        results.append(e2e_result("llama.cpp", a.model, name, n_prompt, n_gen, a.threads, samples))
        print(f"llama.cpp  {name}: " + ", ".join(f"{(n_prompt + n_gen) / s:.1f}" for s in samples)
              + " tokens/s", file=sys.stderr)
    L.llama_model_free(model)

    write_json(a.json, {
        "engine_version": llama_version(L),
        "system_info": L.llama_print_system_info().decode("utf-8", "replace").strip(),
        "n_vocab": n_vocab,
        "results": results,
    })
    return 0


def llama_version(L):
    """"llama-cpp-python X (ggml V, commit C)"; the commit is llama.cpp's, vendored."""
    text = f"llama-cpp-python {L.__version__}"
    lib = getattr(getattr(L, "llama_cpp", None), "_lib", None)
    parts = []
    for fn, label in (("ggml_version", "ggml"), ("ggml_commit", "commit")):
        try:  # ggml-base is a dependency of libllama, so dlsym finds it there
            f = getattr(lib, fn)
            f.restype = ctypes.c_char_p
            parts.append(f"{label} {f().decode()}")
        except (AttributeError, TypeError):
            pass
    return text + (f" ({', '.join(parts)})" if parts else "")


# ---- peer subcommand: the comparison ----------------------------------------------


def run_process(argv, what, log):
    log.write("$ " + shlex.join(argv) + "\n")
    log.flush()
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=False)
    log.write(proc.stderr)
    log.flush()
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-8:])
        raise PeerError(f"[{what}] exit status {proc.returncode}: {shlex.join(argv)}\n{tail}")
    return proc.stdout


class LlamaEngine:
    name = "llama.cpp"

    def __init__(self, a, raw_dir, log):
        self.a, self.raw_dir, self.log = a, raw_dir, log
        self.info = None

    def run_once(self, rep):
        a = self.a
        out = os.path.join(self.raw_dir, f"llamacpp-{rep}.json")
        run_process([a.python, os.path.abspath(__file__), "llama", "-m", a.model, "-t", str(a.threads), "-p",
                     str(a.n_prompt), "-n", str(a.n_gen), "--reps", "1", "--seed", str(rep), "--json", out],
                    "llama.cpp", self.log)
        doc = read_json(out, "llama.cpp")
        self.info = doc
        return {r["test"]: r["samples_seconds"] for r in doc["results"]}


class TesseraBenchEngine:
    """tessera-bench e2e, which warms up and times in one process."""

    name = "tessera"

    def __init__(self, a, raw_dir, log):
        self.a, self.raw_dir, self.log = a, raw_dir, log
        self.doc = None

    def run_once(self, rep):
        a = self.a
        out = os.path.join(self.raw_dir, f"tessera-{rep}.json")
        # --no-probe: the devices' peak probes (STREAM, FMA loop) are not
        # needed here and would heat the CPU between the engines' runs.
        run_process([a.tessera, "e2e", "-m", a.model, "--device", "cpu", "-t", str(a.threads), "-p",
                     str(a.n_prompt), "-n", str(a.n_gen), "--reps", "1", "--no-probe", "--json", out],
                    "tessera-bench", self.log)
        doc = read_json(out, "tessera-bench")
        if doc.get("schema") != SCHEMA:
            raise PeerError(f"[tessera-bench] {out}: schema {doc.get('schema')!r}, expected {SCHEMA!r}")
        self.doc = doc
        return {r["test"]: r["samples_seconds"] for r in doc.get("results", []) if r.get("kind") == "e2e"}

    def commit(self):
        # The commit tessera-bench was built from (the checkout may have moved on).
        return self.doc["run"].get("git_commit") or tessera_commit()

    def simd(self):
        # The CPU device's driver string names the SIMD path its kernels
        # dispatched to, e.g. "tessera-cpu (2 threads, avx2+fma+f16c, oneDNN)".
        devs = [d for d in self.doc.get("devices", []) if d.get("backend") == "cpu"]
        return devs[0].get("driver", "unknown") if devs else "unknown"

    def document(self, results):
        # The last run's stamp and devices, with every run's samples merged.
        doc = dict(self.doc)
        doc["results"] = results
        return doc


class TesseraRunEngine:
    """Fallback while no tessera-bench is built: tessera-run --json, one
    process per test and repetition (after one untimed run of each test, for
    the page cache). tgN is a one-token prompt, then N single-token decode
    steps, timed by tessera-run's decode_seconds (which also holds greedy
    sampling, an argmax). ppP is timed by prefill_seconds, and that run is the
    process's first use of the P-token graph, so Tessera's graph compilation
    is inside it: the fallback's pp numbers are pessimistic for Tessera.
    tessera-bench e2e warms up in-process and has no such bias."""

    name = "tessera"

    def __init__(self, a, raw_dir, log):
        self.a, self.raw_dir, self.log = a, raw_dir, log
        self.n_vocab = None
        self.warmed = False

    def _run(self, tokens, n_predict, n_ctx, tag):
        a = self.a
        argv = [a.tessera, "-m", a.model, "--device", "cpu", "--threads", str(a.threads), "--ctx", str(n_ctx),
                "--batch", str(max(512, len(tokens))), "--temp", "0", "--ignore-eos", "-n", str(n_predict),
                "--json", "--prompt-tokens", ",".join(map(str, tokens))]
        out = run_process(argv, "tessera-run", self.log)
        with open(os.path.join(self.raw_dir, f"tessera-run-{tag}.json"), "w", encoding="utf-8") as f:
            f.write(out)
        try:
            return json.loads(out)
        except ValueError as e:
            raise PeerError(f"[tessera-run] output is not JSON: {e}") from e

    def run_once(self, rep):
        a = self.a
        if self.n_vocab is None:
            self.n_vocab = int(self._run([0], 0, 16, "probe")["n_vocab"])
        rng = random.Random(1000 + rep)
        samples = {}
        for name, n_prompt, n_gen in test_names(a.n_prompt, a.n_gen):
            if n_prompt:
                # One prefill of n_prompt random ids, no generation.
                tokens = [rng.randrange(self.n_vocab) for _ in range(n_prompt)]
                args = (tokens, 0, n_prompt)
            else:
                # One untimed token (it compiles the one-token graph), then
                # n_gen timed single-token decode steps.
                args = ([rng.randrange(self.n_vocab)], n_gen, n_gen + 1)
            if not self.warmed:
                self._run(*args, f"warmup-{name}")
            r = self._run(*args, f"{rep}-{name}")
            if r["n_prompt"] != len(args[0]) or r["n_generated"] != args[1]:
                raise PeerError(f"[tessera-run] ran {r['n_prompt']} + {r['n_generated']} tokens, not {name}")
            seconds = r["decode_seconds"] if n_gen else r["prefill_seconds"]
            samples[name] = [seconds]
        self.warmed = True
        return samples

    @staticmethod
    def simd():
        return "not reported by tessera-run (build tessera-bench, or see tessera-info)"

    @staticmethod
    def commit():
        # tessera-run does not say what it was built from; the checkout's HEAD.
        return tessera_commit()

    def document(self, results):
        cpu = cpu_model()
        return {
            "schema": SCHEMA,
            "run": run_stamp(self.a, f"tessera {(self.commit() or 'unknown')[:12]}", self.commit(),
                             TOOL + " (tessera-run)"),
            "devices": [{"name": "cpu:0", "backend": "cpu", "description": cpu, "driver": "tessera",
                         "peak_gflops": None, "peak_gbps": None, "peak_source": None}],
            "results": results,
        }


def run_stamp(a, engine_version, commit, tool=TOOL):
    cpu = cpu_model()
    return {
        "tool": tool,
        "engine_version": engine_version,
        "commit": commit,
        "date": utc_now(),
        "hostname": platform.node(),
        "cpu": cpu,
        "threads": a.threads,
        "command": a.command,
        # The same facts under the names tessera-bench's own run stamp uses
        # (tools/bench/stamp.cpp), so a reader of either spelling finds them.
        "subcommand": "e2e",
        "git_commit": commit,
        "cpu_model": cpu,
        "command_line": a.command,
    }


def fmt_rate(r):
    if r is None:
        return "-"
    return f"{r['tokens_per_second']:.1f} [{r['tokens_per_second_min']:.1f}-{r['tokens_per_second_max']:.1f}]"


def loadavg_1min():
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "unknown"


def print_table(a, llama_info, tessera_kind, tessera_simd, commit, by_engine, load_before):
    rows = [("test", "tessera tok/s [min-max]", "llama.cpp tok/s [min-max]", "ratio (tessera / llama.cpp)")]
    for name, _, _ in test_names(a.n_prompt, a.n_gen):
        t = by_engine["tessera"].get(name)
        l = by_engine["llama.cpp"].get(name)
        ratio = f"{t['tokens_per_second'] / l['tokens_per_second']:.2f}" if t and l else "-"
        rows.append((name, fmt_rate(t), fmt_rate(l), ratio))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    print()
    print(f"model      {os.path.basename(a.model)}")
    print(f"cpu        {cpu_model()}, {a.threads} threads")
    print(f"llama.cpp  {llama_info['engine_version']}")
    print(f"           {llama_info['system_info']}")
    print(f"tessera    {tessera_kind}: {a.tessera}")
    print(f"           {tessera_simd}")
    print(f"           commit {commit or 'unknown'}")
    print(f"reps       {a.reps} per engine and test, medians; engines alternate each repetition")
    print(f"load avg   {load_before} before, {loadavg_1min()} after (1-minute; above {a.threads} means other "
          "work shared the cores)")
    print()
    for i, r in enumerate(rows):
        print("| " + " | ".join(c.ljust(w) if j == 0 else c.rjust(w) for j, (c, w) in enumerate(zip(r, widths)))
              + " |")
        if i == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    print()


def peer_main(a):
    os.makedirs(a.out, exist_ok=True)
    raw_dir = os.path.join(a.out, "raw")
    os.makedirs(raw_dir, exist_ok=True)
    for stale in os.listdir(raw_dir):  # a previous run's per-process files
        if stale.endswith(".json"):
            os.remove(os.path.join(raw_dir, stale))
    load_before = loadavg_1min()
    use_bench = os.path.basename(a.tessera).startswith("tessera-bench")
    tessera_kind = "tessera-bench e2e" if use_bench else "tessera-run fallback, pp without in-process warm-up"
    with open(os.path.join(a.out, "peer.log"), "w", encoding="utf-8") as log:
        llama = LlamaEngine(a, raw_dir, log)
        tessera = (TesseraBenchEngine if use_bench else TesseraRunEngine)(a, raw_dir, log)
        samples = {"llama.cpp": {}, "tessera": {}}
        for rep in range(a.reps):
            # Alternate the order so that neither engine always runs on the
            # warmer (or the throttled) half of a round.
            order = (llama, tessera) if rep % 2 == 0 else (tessera, llama)
            for engine in order:
                print(f"rep {rep + 1}/{a.reps}: {engine.name}", file=sys.stderr, flush=True)
                for test, secs in engine.run_once(rep).items():
                    samples[engine.name].setdefault(test, []).extend(secs)

    by_engine = {}
    results = {}
    for engine_name, tests in samples.items():
        by_engine[engine_name] = {}
        results[engine_name] = []
        for name, n_prompt, n_gen in test_names(a.n_prompt, a.n_gen):
            if name not in tests:
                raise PeerError(f"[{engine_name}] produced no {name} result")
            r = e2e_result(engine_name, a.model, name, n_prompt, n_gen, a.threads, tests[name])
            by_engine[engine_name][name] = r
            results[engine_name].append(r)

    info = llama.info
    llama_doc = {
        "schema": SCHEMA,
        "run": run_stamp(a, info["engine_version"], tessera.commit()),
        "devices": [{"name": "cpu:0", "backend": "cpu",
                     "description": f"{cpu_model()}; {info['system_info']}",
                     "driver": f"llama.cpp {info['engine_version']}",
                     "peak_gflops": None, "peak_gbps": None, "peak_source": None}],
        "results": results["llama.cpp"],
    }
    write_json(os.path.join(a.out, "llamacpp.json"), llama_doc)
    write_json(os.path.join(a.out, "tessera.json"), tessera.document(results["tessera"]))
    print_table(a, info, tessera_kind, tessera.simd(), tessera.commit(), by_engine, load_before)
    print(f"wrote {os.path.join(a.out, 'llamacpp.json')} and {os.path.join(a.out, 'tessera.json')}")
    return 0


# ---- Command line ----------------------------------------------------------------


def positive(text):
    try:
        v = int(text)
    except ValueError:
        v = 0
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return v


def non_negative(text):
    try:
        v = int(text)
    except ValueError:
        v = -1
    if v < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}")
    return v


def parse_args(argv):
    p = argparse.ArgumentParser(prog="llamacpp_bench.py", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)

    def common(sp):
        sp.add_argument("-m", "--model", required=True, help="GGUF model")
        sp.add_argument("-t", "--threads", type=positive, required=True)
        sp.add_argument("-p", "--n-prompt", type=non_negative, default=512, help="prompt tokens (pp test)")
        sp.add_argument("-n", "--n-gen", type=non_negative, default=128, help="generated tokens (tg test)")
        sp.add_argument("--reps", type=positive, default=3)

    sl = sub.add_parser("llama", help="measure llama.cpp (inside the llama-cpp-python venv)")
    common(sl)
    sl.add_argument("--seed", type=int, default=0, help="seed of the random token ids")
    sl.add_argument("--n-gpu-layers", type=non_negative, default=0,
                    help="layers offloaded to a GPU build of llama.cpp (999: all)")
    sl.add_argument("--json", required=True, help="output file")

    sp = sub.add_parser("peer", help="measure both engines, alternating, and compare")
    common(sp)
    sp.add_argument("--python", required=True, help="python of the llama-cpp-python venv")
    sp.add_argument("--tessera", required=True, help="tessera-bench (preferred) or tessera-run")
    sp.add_argument("--out", required=True, help="output directory")
    sp.add_argument("--command", default=None, help="command line recorded in the results")
    a = p.parse_args(argv)
    if a.n_prompt == 0 and a.n_gen == 0:
        p.error("nothing to measure: -p and -n are both 0")
    if not os.path.isfile(a.model):
        p.error(f"model not found: {a.model}")
    if a.cmd == "peer":
        if not (os.path.isfile(a.tessera) and os.access(a.tessera, os.X_OK)):
            p.error(f"not an executable: {a.tessera}")
        if a.command is None:
            a.command = shlex.join(sys.argv)
    return a


def main(argv):
    a = parse_args(argv)
    try:
        return llama_main(a) if a.cmd == "llama" else peer_main(a)
    except PeerError as e:
        print(f"llamacpp_bench: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
