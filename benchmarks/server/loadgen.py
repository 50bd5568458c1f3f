#!/usr/bin/env python3
"""Load generator for OpenAI-compatible servers (tessera-server, llama.cpp's
llama-server, ...): streaming requests with a fixed prompt and max_tokens at
several concurrency levels, timing each token as it arrives.

    loadgen.py --url http://127.0.0.1:8080 --concurrency 1,4,16 --requests 32 --max-tokens 64 \\
               [--endpoint chat|completions] [--prompt TEXT] [--time-limit 600] [--json out.json]
               [--extra '{"cache_prompt": false}']

For each level, `concurrency` client threads share `requests` requests
(after an unmeasured warm-up round of one short request per thread, so graph
compilation and first-use costs stay out of the numbers). Per request it
records the time to the first token (from sending the request to the first
streamed chunk with text) and the arrival time of every chunk. Per level it
prints:

  tok/s      generated tokens of all requests / the level's wall time
             (the aggregate decode throughput the server sustained)
  TTFT       p50 and p99 of the times to first token (queueing and prefill included)
  ITL        p50 and p99 of the gaps between consecutive chunks of a request
             (one chunk per token on tessera-server and llama-server)

as a table, then the same as JSON (also written to --json). The generated
token counts come from the usage the server reports (stream_options
include_usage), else from the chunk count.

Bounded by construction: at most `requests` per level, every request sent
to a loopback address only (127.0.0.0/8, localhost, ::1), and the whole run
stops starting requests after --time-limit seconds. Standard library only.
"""
from __future__ import annotations

import argparse
import http.client
import ipaddress
import json
import socket
import statistics
import sys
import threading
import time
import urllib.parse

DEFAULT_PROMPT = "Write a long story about a lighthouse keeper who finds a message in a bottle."


def percentile(values: list[float], q: float) -> float | None:
    """Linear interpolation between the closest ranks (q in [0, 100])."""
    if not values:
        return None
    v = sorted(values)
    k = (len(v) - 1) * q / 100.0
    lo = int(k)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def loopback_or_exit(url: str) -> tuple[str, int]:
    u = urllib.parse.urlparse(url)
    if u.scheme != "http" or not u.hostname:
        sys.exit(f"loadgen: --url {url!r}: expected http://HOST:PORT")
    try:
        addrs = {ai[4][0] for ai in socket.getaddrinfo(u.hostname, u.port or 80, proto=socket.IPPROTO_TCP)}
    except socket.gaierror as e:
        sys.exit(f"loadgen: --url {url!r}: cannot resolve {u.hostname}: {e}")
    if not addrs or not all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addrs):
        sys.exit(f"loadgen: --url {url!r}: {u.hostname} is not a loopback address ({sorted(addrs)}); "
                 "this tool only loads servers on this machine")
    return u.hostname, u.port or 80


class Result:
    def __init__(self) -> None:
        self.ok = False
        self.error = ""
        self.sent = 0.0
        self.chunks: list[float] = []  # arrival time of each chunk that carried text
        self.tokens = 0                # from usage, else len(chunks)


def one_request(host: str, port: int, path: str, body: bytes, timeout: float) -> Result:
    r = Result()
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        r.sent = time.perf_counter()
        conn.request("POST", path, body=body, headers={"Content-Type": "application/json",
                                                       "Accept": "text/event-stream"})
        resp = conn.getresponse()
        if resp.status != 200:
            r.error = f"HTTP {resp.status}: {resp.read(300)!r}"
            return r
        usage = None
        while True:
            line = resp.readline()
            if not line:
                break
            line = line.strip()
            if not line.startswith(b"data: "):
                continue
            data = line[len(b"data: "):]
            if data == b"[DONE]":
                r.ok = True
                break
            now = time.perf_counter()
            obj = json.loads(data)
            if "error" in obj:
                r.error = str(obj["error"])
                break
            for c in obj.get("choices") or []:
                text = c.get("text") if "text" in c else (c.get("delta") or {}).get("content")
                if text:
                    r.chunks.append(now)
            if obj.get("usage"):
                usage = obj["usage"].get("completion_tokens")
        r.tokens = usage if usage is not None else len(r.chunks)
        if r.ok and not r.chunks:
            r.ok, r.error = False, "no text was streamed"
    except (OSError, http.client.HTTPException, ValueError) as e:
        r.error = f"{type(e).__name__}: {e}"
    finally:
        conn.close()
    return r


def run_level(host: str, port: int, path: str, make_body, concurrency: int, n_requests: int,
              deadline: float) -> tuple[list[Result], float]:
    """Runs n_requests over `concurrency` threads; returns the results and the wall time."""
    lock = threading.Lock()
    next_index = [0]
    results: list[Result] = []

    def worker() -> None:
        while True:
            with lock:
                if next_index[0] >= n_requests or time.monotonic() >= deadline:
                    return
                next_index[0] += 1
            res = one_request(host, port, path, make_body(), max(1.0, deadline - time.monotonic()))
            with lock:
                results.append(res)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, time.perf_counter() - t0


def summarize(concurrency: int, results: list[Result], wall: float) -> dict:
    ok = [r for r in results if r.ok]
    ttft = [r.chunks[0] - r.sent for r in ok]
    gaps = [b - a for r in ok for a, b in zip(r.chunks, r.chunks[1:])]
    tokens = sum(r.tokens for r in ok)
    ms = lambda v: None if v is None else round(v * 1000.0, 2)  # noqa: E731
    return {
        "concurrency": concurrency,
        "requests": len(results),
        "failed": len(results) - len(ok),
        "errors": sorted({r.error for r in results if not r.ok})[:3],
        "generated_tokens": tokens,
        "wall_seconds": round(wall, 3),
        "tokens_per_second": round(tokens / wall, 2) if wall > 0 else None,
        "ttft_p50_ms": ms(percentile(ttft, 50)),
        "ttft_p99_ms": ms(percentile(ttft, 99)),
        "itl_p50_ms": ms(percentile(gaps, 50)),
        "itl_p99_ms": ms(percentile(gaps, 99)),
        "mean_tokens_per_request": round(statistics.mean([r.tokens for r in ok]), 1) if ok else None,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--url", default="http://127.0.0.1:8080", help="the server (loopback only)")
    p.add_argument("--model", default=None, help="the model name to send (default: the first of /v1/models)")
    p.add_argument("--endpoint", choices=["chat", "completions"], default="chat")
    p.add_argument("--prompt", default=DEFAULT_PROMPT)
    p.add_argument("--max-tokens", type=int, default=64)
    p.add_argument("--temperature", type=float, default=0.0)
    p.add_argument("--concurrency", default="1,4,16", help="comma-separated levels")
    p.add_argument("--requests", type=int, default=32, help="requests per level (at least the level's concurrency)")
    p.add_argument("--time-limit", type=float, default=600.0, help="seconds; no request starts after it")
    p.add_argument("--no-warmup", action="store_true")
    p.add_argument("--label", default="", help="a name for this run in the JSON (e.g. the server)")
    p.add_argument("--extra", default="{}",
                   help="a JSON object merged into every request body (a server's own fields)")
    p.add_argument("--json", default=None, help="also write the JSON here")
    a = p.parse_args()
    if a.max_tokens < 1 or a.requests < 1 or a.time_limit <= 0:
        sys.exit("loadgen: --max-tokens, --requests and --time-limit must be positive")
    try:
        extra = json.loads(a.extra)
    except ValueError as e:
        sys.exit(f"loadgen: --extra {a.extra!r}: not JSON ({e})")
    if not isinstance(extra, dict):
        sys.exit(f"loadgen: --extra {a.extra!r}: expected a JSON object")
    try:
        levels = [int(x) for x in a.concurrency.split(",")]
    except ValueError:
        sys.exit(f"loadgen: --concurrency {a.concurrency!r}: expected integers like 1,4,16")
    if any(c < 1 or c > 256 for c in levels):
        sys.exit(f"loadgen: --concurrency {a.concurrency!r}: each level must be in [1, 256]")
    host, port = loopback_or_exit(a.url)
    deadline = time.monotonic() + a.time_limit

    model = a.model
    if model is None:
        conn = http.client.HTTPConnection(host, port, timeout=30)
        try:
            conn.request("GET", "/v1/models")
            model = json.loads(conn.getresponse().read())["data"][0]["id"]
        except (OSError, ValueError, KeyError, IndexError, http.client.HTTPException) as e:
            sys.exit(f"loadgen: GET {a.url}/v1/models failed ({e}); pass --model")
        finally:
            conn.close()

    path = "/v1/chat/completions" if a.endpoint == "chat" else "/v1/completions"

    def body(max_tokens: int) -> bytes:
        b = {"model": model, "max_tokens": max_tokens, "temperature": a.temperature, "stream": True,
             "stream_options": {"include_usage": True}}
        if a.endpoint == "chat":
            b["messages"] = [{"role": "user", "content": a.prompt}]
        else:
            b["prompt"] = a.prompt
        b.update(extra)
        return json.dumps(b).encode()

    rows = []
    for c in levels:
        if time.monotonic() >= deadline:
            print(f"loadgen: time limit reached before concurrency {c}", file=sys.stderr)
            break
        if not a.no_warmup:
            run_level(host, port, path, lambda: body(4), c, c, deadline)
        results, wall = run_level(host, port, path, lambda: body(a.max_tokens), c, max(a.requests, c), deadline)
        row = summarize(c, results, wall)
        rows.append(row)
        print(f"loadgen: concurrency {c}: {row['requests']} requests, {row['generated_tokens']} tokens "
              f"in {row['wall_seconds']} s", file=sys.stderr, flush=True)

    header = f"{'conc':>4} {'reqs':>5} {'fail':>4} {'tokens':>7} {'tok/s':>8} {'TTFT p50':>9} {'TTFT p99':>9} " \
             f"{'ITL p50':>8} {'ITL p99':>8}"
    print(f"server {a.url} model {model} endpoint {a.endpoint} max_tokens {a.max_tokens} "
          f"prompt {a.prompt[:40]!r}...")
    print(header + "   (latencies in ms)")
    fmt = lambda v: "-" if v is None else f"{v:.1f}"  # noqa: E731
    for r in rows:
        print(f"{r['concurrency']:>4} {r['requests']:>5} {r['failed']:>4} {r['generated_tokens']:>7} "
              f"{fmt(r['tokens_per_second']):>8} {fmt(r['ttft_p50_ms']):>9} {fmt(r['ttft_p99_ms']):>9} "
              f"{fmt(r['itl_p50_ms']):>8} {fmt(r['itl_p99_ms']):>8}")
    out = {"label": a.label, "url": a.url, "model": model, "endpoint": a.endpoint, "prompt": a.prompt, "extra": extra,
           "max_tokens": a.max_tokens, "temperature": a.temperature, "levels": rows}
    text = json.dumps(out, indent=2)
    print(text)
    if a.json:
        with open(a.json, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    if any(r["failed"] for r in rows):
        sys.exit(1)


if __name__ == "__main__":
    main()
