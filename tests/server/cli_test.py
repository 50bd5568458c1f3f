#!/usr/bin/env python3
"""tessera-server's command line without a model: usage errors exit 2 with
a message naming the flag or value, a model file that cannot be read exits
1 naming its path, --help and --version exit 0."""
import subprocess
import tempfile

import server_util as su


def run(server, *argv):
    r = subprocess.run([server, *argv], capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout, r.stderr


def main() -> None:
    a = su.args()
    rc, out, err = run(a.server, "--no-such-flag")
    su.check(rc == 2 and "unknown option --no-such-flag" in err, f"an unknown flag exits 2: {err.splitlines()[0]!r}")
    for argv, mention in [(["-m", "x.gguf", "--port", "abc"], "'abc' for --port"),
                          (["-m", "x.gguf", "--port", "70000"], "'70000' for --port"),
                          (["-m", "x.gguf", "--parallel", "0"], "'0' for --parallel"),
                          (["-m", "x.gguf", "--queue", "-1"], "'-1' for --queue"),
                          (["-m", "x.gguf", "--max-body", "1k"], "'1k' for --max-body"),
                          (["-m", "x.gguf", "--ctx"], "--ctx needs a value"),
                          (["-m", "x.gguf", "--kv-blocks", "-3"], "'-3' for --kv-blocks"),
                          (["--port", "8080"], "-m MODEL is required")]:
        rc, out, err = run(a.server, *argv)
        su.check(rc == 2 and mention in err, f"{' '.join(argv)} exits 2 saying {mention!r}")
    with tempfile.TemporaryDirectory() as d:
        missing = d + "/no-such-model.gguf"
        rc, out, err = run(a.server, "-m", missing, "--port", "0")
        su.check(rc == 1 and missing in err and out == "", f"a missing model exits 1 naming it: {err.strip()!r}")
        junk = d + "/junk.gguf"
        with open(junk, "wb") as f:
            f.write(b"not a gguf file at all")
        rc, out, err = run(a.server, "-m", junk, "--port", "0")
        su.check(rc == 1 and junk in err and out == "", f"a file that is not GGUF exits 1 naming it: {err.strip()!r}")
    rc, out, err = run(a.server, "--help")
    su.check(rc == 0 and "usage: tessera-server" in out and "--parallel" in out, "--help exits 0 with the usage")
    rc, out, err = run(a.server, "--version")
    su.check(rc == 0 and out.startswith("tessera-server ") and "commit" in out, f"--version: {out.strip()!r}")


if __name__ == "__main__":
    main()
