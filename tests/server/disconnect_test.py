#!/usr/bin/env python3
"""A client that reads a couple of chunks of a long streamed generation and
closes its socket gets its request cancelled: the slot is free again within
a few seconds (/metrics), the cancellation is counted, and the next request
is served. Then SIGTERM while a stream is running: the stream ends (an
error event and [DONE]) and the server exits 0."""
import json
import signal
import socket
import time

import server_util as su

LONG = {"prompt": "Once upon a time", "max_tokens": 512, "temperature": 0, "stream": True}


def open_stream(srv, body: dict) -> tuple[socket.socket, bytes]:
    """Sends a streaming request on a raw socket and reads until two data
    events have come; returns the socket and what was read."""
    payload = json.dumps(body).encode()
    s = socket.create_connection((srv.host, srv.port), timeout=60)
    s.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Content-Length: " + str(len(payload)).encode() + b"\r\n\r\n" + payload)
    got = b""
    while got.count(b"data: ") < 2:
        chunk = s.recv(4096)
        if not chunk:
            su.fail(f"the stream ended before two events: {got!r}")
        got += chunk
    return s, got


def main() -> None:
    a = su.args()
    model = su.model_or_skip()
    srv = su.Server(a.server, model, "--parallel", "2")
    try:
        s, got = open_stream(srv, LONG)
        su.check(b"200 OK" in got.split(b"\r\n")[0] and b"text/event-stream" in got,
                 "a streaming response started (200, text/event-stream)")
        m = srv.metrics()
        su.check(su.metric(m, "tessera_active_slots") == 1, "one slot is busy while the stream runs")
        s.close()
        t0 = time.monotonic()
        m = {}

        def freed():
            m.clear()
            m.update(srv.metrics())
            return su.metric(m, "tessera_active_slots") == 0

        su.check(su.wait_for(freed, 10), f"the slot is free {time.monotonic() - t0:.1f} s after the disconnect")
        su.check(su.metric(m, "tessera_requests_cancelled_total") == 1, "the cancellation is counted")
        generated = su.metric(m, "tessera_generated_tokens_total")
        time.sleep(0.5)
        su.check(su.metric(srv.metrics(), "tessera_generated_tokens_total") == generated,
                 f"generation stopped ({generated:.0f} tokens generated, max_tokens was 512)")

        status, r = srv.post("/v1/chat/completions", {"messages": [{"role": "user", "content": "Hi"}],
                                                      "max_tokens": 8, "temperature": 0})
        su.check(status == 200 and r["usage"]["completion_tokens"] > 0, "the next request is served")

        s, got = open_stream(srv, LONG)
        srv.proc.send_signal(signal.SIGTERM)
        s.settimeout(30)
        # Read to the end of the chunked body (the connection may stay open
        # a little longer, kept alive).
        while not got.endswith(b"\r\n0\r\n\r\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
        s.close()
        su.check(b"shutting down" in got and got.endswith(b"data: [DONE]\n\n\r\n0\r\n\r\n"),
                 "SIGTERM mid-stream: the stream ends with an error event and [DONE]")
        srv.stop()
    except BaseException:
        srv.proc.kill()
        print(srv.stderr())
        raise


if __name__ == "__main__":
    main()
