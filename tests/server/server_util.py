"""Shared by the tessera-server tests: find SmolLM2, start a server on an
ephemeral port, talk HTTP to it, read /metrics, and stop it with SIGTERM
(checking that it exits 0, which every test thereby also asserts).

A test exits 77 (ctest's SKIP_RETURN_CODE) when SmolLM2 is absent; the model
comes from $TESSERA_SMOLLM2 or ~/.cache/tessera/models (scripts/fetch-model.sh
smollm2).
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

SKIP = 77
LISTEN_RE = re.compile(r"^tessera-server: listening on (http://(\S+):(\d+))$")


def fail(msg: str) -> None:
    print(f"FAIL: {msg}", flush=True)
    sys.exit(1)


def check(cond: bool, msg: str) -> None:
    if not cond:
        fail(msg)
    print(f"ok: {msg}", flush=True)


def args() -> argparse.Namespace:
    p = argparse.ArgumentParser()
    p.add_argument("--server", required=True, help="path to tessera-server")
    return p.parse_args()


def model_or_skip() -> str:
    path = os.environ.get("TESSERA_SMOLLM2") or os.path.expanduser(
        "~/.cache/tessera/models/SmolLM2-135M-Instruct.Q4_1.gguf")
    if not os.path.isfile(path):
        print(f"SKIP: SmolLM2 not found at {path} (scripts/fetch-model.sh smollm2)", flush=True)
        sys.exit(SKIP)
    return path


def openai_or_skip():
    try:
        import openai  # noqa: F401
    except ImportError:
        print("SKIP: the openai package is missing (pip install -r tests/server/requirements.txt)", flush=True)
        sys.exit(SKIP)
    return openai


class Server:
    """tessera-server on 127.0.0.1 with an ephemeral port."""

    def __init__(self, binary: str, model: str, *extra: str, start_timeout: float = 120.0):
        self.log = tempfile.NamedTemporaryFile(prefix="tessera-server-", suffix=".log", delete=False)
        cmd = [binary, "-m", model, "--host", "127.0.0.1", "--port", "0", *extra]
        print("starting: " + " ".join(cmd), flush=True)
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.log, text=True)
        self.alias = os.path.basename(model)[: -len(".gguf")]
        line: list[str] = []
        reader = threading.Thread(target=lambda: line.append(self.proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(start_timeout)
        if not line or not LISTEN_RE.match(line[0].rstrip("\n")):
            self.proc.kill()
            fail(f"no 'listening on' line within {start_timeout} s (got {line!r}); log:\n{self.stderr()}")
        m = LISTEN_RE.match(line[0].rstrip("\n"))
        self.base, self.host, self.port = m.group(1), m.group(2), int(m.group(3))
        print(f"server at {self.base}", flush=True)

    def stderr(self) -> str:
        with open(self.log.name, encoding="utf-8", errors="replace") as f:
            return f.read()

    def request(self, method: str, path: str, body: bytes | str | dict | None = None,
                timeout: float = 120.0) -> tuple[int, str, dict]:
        """(status, body text, headers) of one request on a fresh connection."""
        if isinstance(body, dict) or isinstance(body, list):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode()
        c = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            headers = {"Content-Type": "application/json"} if body is not None else {}
            c.request(method, path, body=body, headers=headers)
            r = c.getresponse()
            return r.status, r.read().decode("utf-8", errors="replace"), dict(r.getheaders())
        finally:
            c.close()

    def post(self, path: str, body) -> tuple[int, dict]:
        status, text, _ = self.request("POST", path, body)
        try:
            return status, json.loads(text)
        except json.JSONDecodeError:
            fail(f"POST {path} -> {status} with a body that is not JSON: {text[:200]!r}")

    def metrics(self) -> dict[tuple[str, tuple], float]:
        status, text, _ = self.request("GET", "/metrics")
        if status != 200:
            fail(f"GET /metrics -> {status}")
        return parse_prometheus(text)

    def stop(self, timeout: float = 60.0) -> None:
        """SIGTERM; the server must exit 0 within timeout."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            fail(f"the server did not exit within {timeout} s of SIGTERM; log:\n{self.stderr()}")
        if rc != 0:
            fail(f"the server exited {rc} after SIGTERM; log:\n{self.stderr()}")
        print("ok: the server exited 0 after SIGTERM", flush=True)
        os.unlink(self.log.name)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.stop()
        else:
            self.proc.kill()
            self.proc.wait()
            print(self.stderr())
        return False


SAMPLE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL_RE = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def parse_prometheus(text: str) -> dict[tuple[str, tuple], float]:
    """{(name, ((label, value), ...)): value}. Checks the text format on the
    way: every sample's family has # HELP and # TYPE lines before it."""
    out: dict[tuple[str, tuple], float] = {}
    typed: dict[str, str] = {}
    helped: set[str] = set()
    for line in text.splitlines():
        if not line:
            continue
        if line.startswith("# HELP "):
            helped.add(line.split(" ")[2])
            continue
        if line.startswith("# TYPE "):
            parts = line.split(" ")
            typed[parts[2]] = parts[3]
            continue
        if line.startswith("#"):
            continue
        m = SAMPLE_RE.match(line)
        if not m:
            fail(f"/metrics line is not a Prometheus sample: {line!r}")
        name, labels, value = m.group(1), m.group(3) or "", m.group(4)
        family = re.sub(r"_(bucket|sum|count)$", "", name) if re.sub(r"_(bucket|sum|count)$", "", name) in typed \
            else name
        if family not in typed or family not in helped:
            fail(f"/metrics sample {name} has no # HELP / # TYPE for {family}")
        out[(name, tuple(sorted(LABEL_RE.findall(labels))))] = float(value)
    return out


def metric(m: dict, name: str, **labels) -> float:
    """A sample's value (0 when absent, as Prometheus counters start)."""
    return m.get((name, tuple(sorted(labels.items()))), 0.0)


def wait_for(cond, timeout: float, interval: float = 0.1) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(interval)
    return cond()
