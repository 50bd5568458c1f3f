#!/usr/bin/env python3
"""tessera-run -i driven through a pseudo-terminal for two turns, as a person
at a terminal would: it waits for the "> " prompt, types a line, reads the
reply, types a second one, then ends the input with Ctrl-D. The second turn
must reuse the KV cache of the first (its "[turn 2: N new prompt tokens after
M cached" line has M at least the whole first prompt) and the tool must exit 0.

usage: run_interactive_test.py TESSERA_RUN WRITE_TINY_MODEL
"""
import os
import pty
import re
import select
import subprocess
import sys
import tempfile
import time

TURN = re.compile(rb"\[turn (\d+): (\d+) new prompt tokens after (\d+) cached, (\d+) generated, (\w+)\]")


class Session:
    def __init__(self, argv):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execv(argv[0], argv)
        self.seen = b""

    def read_until(self, pattern, timeout=120.0):
        """Reads until pattern (bytes regex) matches the output after the
        previous match; returns the match."""
        deadline = time.monotonic() + timeout
        while True:
            m = re.search(pattern, self.seen)
            if m:
                rest = self.seen[m.end():]
                self.seen = rest
                return m
            left = deadline - time.monotonic()
            if left <= 0:
                self.fail(f"timed out waiting for {pattern!r}")
            r, _, _ = select.select([self.fd], [], [], left)
            if r:
                try:
                    chunk = os.read(self.fd, 4096)
                except OSError:
                    chunk = b""
                if not chunk:
                    self.fail(f"the tool's output ended before {pattern!r}")
                self.seen += chunk

    def send(self, data):
        os.write(self.fd, data)

    def fail(self, why):
        print(f"FAIL: {why}\noutput so far: {self.seen!r}", file=sys.stderr)
        try:
            os.kill(self.pid, 9)
        except OSError:
            pass
        sys.exit(1)


def main():
    run, writer = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as d:
        model = os.path.join(d, "tiny.gguf")
        subprocess.run([writer, model], check=True)
        s = Session([run, "-m", model, "-i", "-n", "6", "--temp", "0", "--ignore-eos", "--threads", "1"])
        s.read_until(rb"> ")
        s.send(b"hello there\n")
        t1 = s.read_until(TURN)
        s.read_until(rb"> ")
        s.send(b"and a second question\n")
        t2 = s.read_until(TURN)
        s.read_until(rb"> ")
        s.send(b"\x04")  # Ctrl-D: end of input
        _, status = os.waitpid(s.pid, 0)
        turn1 = [int(x) for x in t1.groups()[:4]]
        turn2 = [int(x) for x in t2.groups()[:4]]
        print(f"turn 1: {t1.group(0).decode()}\nturn 2: {t2.group(0).decode()}")
        if turn1[0] != 1 or turn2[0] != 2:
            s.fail("turns out of order")
        if turn1[2] != 0:
            s.fail("the first turn found tokens already cached")
        # Turn 1's prompt and its 6 reply tokens are in the cache; the second
        # rendering repeats them and only the new turn is fed.
        if turn2[2] < turn1[1]:
            s.fail(f"turn 2 reused {turn2[2]} cached tokens, fewer than turn 1's prompt of {turn1[1]}")
        if turn1[3] != 6 or turn2[3] != 6:
            s.fail("a reply was not 6 tokens")
        if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
            s.fail(f"exit status {status}")
    print("ok")


if __name__ == "__main__":
    main()
