#!/usr/bin/env python3
"""Bad requests get the right 4xx with an OpenAI-style JSON error that names
the field and the value, and the server goes on serving: malformed JSON,
wrong types, bad values, an unknown model, an oversized body, a prompt past
the context, unknown routes. Also a generation that fills the context ends
with finish_reason "length"."""
import json
import random
import socket

import server_util as su

CHAT = "/v1/chat/completions"
MSG = [{"role": "user", "content": "Hi"}]
N_CTX = 64
MAX_BODY = 65536


def expect_error(srv, method, path, body, status, param=None, code=None, mentions=()):
    got, text, headers = srv.request(method, path, body)
    try:
        import json
        err = json.loads(text)["error"]
    except (ValueError, KeyError, TypeError):
        su.fail(f"{method} {path} {str(body)[:60]!r}: {got} with a body that is no JSON error: {text[:200]!r}")
    what = f"{method} {path} {str(body)[:70]!r} -> {got} {err.get('code')}: {err.get('message')}"
    su.check(got == status and headers.get("Content-Type", "").startswith("application/json")
             and isinstance(err.get("message"), str) and isinstance(err.get("type"), str)
             and "param" in err and "code" in err
             and (param is None or err["param"] == param) and (code is None or err["code"] == code)
             and all(m in err["message"] for m in mentions), what)


def main() -> None:
    a = su.args()
    model = su.model_or_skip()
    with su.Server(a.server, model, "--ctx", str(N_CTX), "--max-body", str(MAX_BODY)) as srv:
        expect_error(srv, "POST", CHAT, "{\"messages\": [", 400, code="invalid_json", mentions=["not valid JSON"])
        expect_error(srv, "POST", CHAT, "", 400, code="invalid_json")
        expect_error(srv, "POST", CHAT, [1, 2], 400, mentions=["[1,2]", "JSON object"])
        expect_error(srv, "POST", CHAT, {"messages": MSG, "max_tokens": "8"}, 400, param="max_tokens",
                     mentions=['"8"', "a string"])
        expect_error(srv, "POST", CHAT, {"messages": MSG, "max_tokens": 0}, 400, param="max_tokens")
        expect_error(srv, "POST", CHAT, {"messages": MSG, "max_tokens": -5}, 400, param="max_tokens",
                     mentions=["-5"])
        expect_error(srv, "POST", CHAT, {"messages": MSG, "max_tokens": 2.5}, 400, param="max_tokens")
        expect_error(srv, "POST", CHAT, {"messages": MSG, "max_tokens": 1e30}, 400, param="max_tokens")
        expect_error(srv, "POST", CHAT, {"messages": MSG, "max_tokens": 2**70}, 400, param="max_tokens")
        # 20,000 nested arrays (40 kB): refused before parsing, not a stack overflow.
        expect_error(srv, "POST", CHAT, '{"messages": [' + "[" * 20000 + "]" * 20000 + "]}", 400,
                     code="invalid_json", mentions=["levels deep"])
        expect_error(srv, "POST", CHAT, {"messages": MSG, "max_completion_tokens": -1}, 400,
                     param="max_completion_tokens")
        expect_error(srv, "POST", CHAT, {"messages": "hi"}, 400, param="messages", mentions=['"hi"'])
        expect_error(srv, "POST", CHAT, {"messages": []}, 400, param="messages")
        expect_error(srv, "POST", CHAT, {}, 400, param="messages", code="missing_required_parameter")
        expect_error(srv, "POST", CHAT, {"messages": [{"content": "x"}]}, 400, param="messages[0].role")
        expect_error(srv, "POST", CHAT, {"messages": [{"role": "wizard", "content": "x"}]}, 400,
                     param="messages[0].role", mentions=['"wizard"'])
        expect_error(srv, "POST", CHAT, {"messages": [{"role": "user", "content": 5}]}, 400,
                     param="messages[0].content")
        expect_error(srv, "POST", CHAT, {"messages": [{"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": "x"}}]}]}, 400, param="messages[0].content[0].type")
        expect_error(srv, "POST", CHAT, {"messages": MSG, "temperature": -1}, 400, param="temperature",
                     mentions=["-1"])
        expect_error(srv, "POST", CHAT, {"messages": MSG, "temperature": "hot"}, 400, param="temperature")
        expect_error(srv, "POST", CHAT, {"messages": MSG, "top_p": 1.5}, 400, param="top_p")
        expect_error(srv, "POST", CHAT, {"messages": MSG, "seed": "x"}, 400, param="seed")
        expect_error(srv, "POST", CHAT, {"messages": MSG, "stream": "yes"}, 400, param="stream")
        expect_error(srv, "POST", CHAT, {"messages": MSG, "stop": 5}, 400, param="stop")
        expect_error(srv, "POST", CHAT, {"messages": MSG, "stop": ["a", "b", "c", "d", "e"]}, 400, param="stop")
        expect_error(srv, "POST", CHAT, {"messages": MSG, "n": 2}, 400, param="n")
        expect_error(srv, "POST", CHAT, {"messages": MSG, "frequency_penalty": 0.5}, 400,
                     param="frequency_penalty", code="unsupported_value")
        expect_error(srv, "POST", CHAT, {"messages": MSG, "stream_options": {"include_usage": 1}}, 400,
                     param="stream_options.include_usage")
        expect_error(srv, "POST", CHAT, {"model": "gpt-4o", "messages": MSG}, 404, param="model",
                     code="model_not_found", mentions=["gpt-4o", srv.alias])
        expect_error(srv, "POST", CHAT, {"model": 7, "messages": MSG}, 400, param="model")
        expect_error(srv, "POST", "/v1/completions", {"prompt": 3}, 400, param="prompt")
        expect_error(srv, "POST", "/v1/completions", {"prompt": ["a", "b"]}, 400, param="prompt")
        expect_error(srv, "POST", "/v1/completions", {"prompt": [1, 10**9]}, 400, param="prompt",
                     mentions=[str(10**9)])
        expect_error(srv, "POST", "/v1/completions", {"prompt": "hello " * 200}, 400, param="prompt",
                     code="context_length_exceeded", mentions=[f"n_ctx {N_CTX}"])
        expect_error(srv, "POST", CHAT, {"messages": [{"role": "user", "content": "x" * (MAX_BODY + 10)}]}, 413,
                     code="request_too_large", mentions=[str(MAX_BODY)])
        expect_error(srv, "GET", "/v1/nothing", None, 404, code="unknown_url", mentions=["/v1/nothing"])
        expect_error(srv, "POST", "/v1/chat", {"messages": MSG}, 404, code="unknown_url")
        expect_error(srv, "GET", CHAT, None, 404, code="unknown_url")
        expect_error(srv, "GET", "/v1/models/gpt-4o", None, 404, code="model_not_found")

        # Mutated requests (fixed seed): every field replaced by values of
        # other types, and truncated bodies. Each gets 200 or a JSON 4xx; none
        # takes the server down.
        rng = random.Random(1234)
        base = {"model": srv.alias, "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 2,
                "temperature": 0, "top_p": 1, "seed": 1, "stop": ["x"], "stream": False}
        odd = [None, True, -1, 0, 2**63, -2**63 - 1, 1e308, -0.0, "", "x" * 300, [], [None], {}, {"a": [1]},
               "\u0000", "\ud800", [[[]]], "8"]
        statuses = set()
        for k in range(200):
            body = dict(base)
            for key in rng.sample(sorted(base), rng.randint(1, 3)):
                body[key] = rng.choice(odd)
            text = json.dumps(body)
            if k % 5 == 0:
                text = text[: rng.randint(0, len(text) - 1)]
            status, reply, _ = srv.request("POST", rng.choice([CHAT, "/v1/completions"]), text)
            statuses.add(status)
            if status != 200 and "error" not in json.loads(reply):
                su.fail(f"{text!r} -> {status} without a JSON error: {reply[:200]!r}")
        su.check(statuses <= {200, 400, 404}, f"200 mutated requests answered with {sorted(statuses)}, each as JSON")

        # Bytes that are not an HTTP request at all: the connection is answered or closed, nothing more.
        with socket.create_connection((srv.host, srv.port), timeout=10) as s:
            s.sendall(b"\x00\xff garbage \r\n\r\n")
            s.recv(4096)
        su.check(True, "garbage bytes on a connection did not take the server down")

        status, r = srv.post("/v1/completions", {"prompt": "1, 2, 3, 4, 5, 6,", "max_tokens": 1000,
                                                 "temperature": 0})
        u = r.get("usage", {})
        su.check(status == 200 and r["choices"][0]["finish_reason"] == "length"
                 and u["total_tokens"] == N_CTX + 1,
                 f"a generation that fills n_ctx {N_CTX} ends with 'length' after {u.get('completion_tokens')} "
                 "tokens (the last one sampled from the full context)")
        status, r = srv.post(CHAT, {"model": srv.alias, "messages": MSG, "max_tokens": 8.0, "temperature": 0})
        su.check(status == 200 and r["choices"][0]["message"]["content"] and r["usage"]["completion_tokens"] <= 8,
                 "a valid request is still served (max_tokens 8.0 is the integer 8)")
        status, text, _ = srv.request("GET", "/health")
        su.check(status == 200, "/health is still ok")
        m = srv.metrics()
        su.check(su.metric(m, "tessera_requests_total", endpoint=CHAT, status="400") >= 20
                 and su.metric(m, "tessera_requests_total", endpoint=CHAT, status="413") == 1,
                 "the 400s and the 413 are counted by endpoint and status")


if __name__ == "__main__":
    main()
