#!/usr/bin/env python3
"""tessera-server through curl: a streamed chat's raw server-sent events,
/health, /v1/models, and /metrics in the Prometheus text format with
counters that move by what the requests did."""
import json
import shutil
import subprocess

import server_util as su

CHAT = "/v1/chat/completions"


def curl(*argv: str) -> str:
    r = subprocess.run(["curl", "-sS", "--max-time", "120", *argv], capture_output=True, text=True)
    if r.returncode != 0:
        su.fail(f"curl {' '.join(argv)} exited {r.returncode}: {r.stderr}")
    return r.stdout


def main() -> None:
    a = su.args()
    model = su.model_or_skip()
    if not shutil.which("curl"):
        su.fail("curl is not installed (scripts/debian-packages.txt lists it)")
    with su.Server(a.server, model) as srv:
        health = json.loads(curl(srv.base + "/health"))
        su.check(health == {"status": "ok"}, f"/health is {health}")
        models = json.loads(curl(srv.base + "/v1/models"))
        su.check(models["object"] == "list" and [m["id"] for m in models["data"]] == [srv.alias],
                 f"/v1/models lists {srv.alias}")

        before = srv.metrics()
        body = json.dumps({"model": srv.alias, "messages": [{"role": "user", "content": "Name a fruit."}],
                           "max_tokens": 12, "temperature": 0, "stream": True})
        raw = curl("-N", "-H", "Content-Type: application/json", "-d", body, srv.base + CHAT)
        print("raw stream:\n" + raw)
        su.check(raw.endswith("data: [DONE]\n\n"), "the stream ends with 'data: [DONE]' and a blank line")
        events = [e for e in raw.split("\n\n") if e]
        su.check(all(e.startswith("data: ") and "\n" not in e for e in events),
                 f"{len(events)} events, each one 'data: ' line")
        chunks = [json.loads(e[len("data: "):]) for e in events[:-1]]
        su.check(all(c["object"] == "chat.completion.chunk" and c["model"] == srv.alias for c in chunks),
                 "every event is a chat.completion.chunk of this model")
        su.check(chunks[-1]["choices"][0]["finish_reason"] in ("stop", "length"),
                 f"the last chunk has finish_reason {chunks[-1]['choices'][0]['finish_reason']}")
        text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
        su.check(bool(text.strip()), f"the deltas make an answer: {text!r}")

        whole = json.loads(curl("-H", "Content-Type: application/json", "-d", json.dumps(
            {"prompt": "The sky is", "max_tokens": 8, "temperature": 0}), srv.base + "/v1/completions"))
        n_generated = whole["usage"]["completion_tokens"]
        su.check(whole["object"] == "text_completion" and n_generated > 0, "a completion through curl")
        curl(srv.base + "/no/such/route")

        # A request is counted once its last byte is written, which can be
        # just after the client has read it: read /metrics until it settles.
        after = {}

        def delta(name, **labels):
            return su.metric(after, name, **labels) - su.metric(before, name, **labels)

        def settled():
            after.clear()
            after.update(srv.metrics())
            return delta("tessera_requests_total", endpoint="other", status="404") == 1 and delta(
                "tessera_requests_total", endpoint="/v1/completions", status="200") == 1 and delta(
                "tessera_requests_total", endpoint=CHAT, status="200") == 1

        su.wait_for(settled, 10)

        su.check(delta("tessera_requests_total", endpoint=CHAT, status="200") == 1,
                 "requests_total{chat, 200} moved by 1")
        su.check(delta("tessera_requests_total", endpoint="/v1/completions", status="200") == 1,
                 "requests_total{completions, 200} moved by 1")
        su.check(delta("tessera_requests_total", endpoint="other", status="404") == 1,
                 "requests_total{other, 404} moved by 1 (unknown route)")
        su.check(delta("tessera_requests_total", endpoint="/metrics", status="200") >= 1,
                 "requests_total{/metrics, 200} counts the scrapes")
        su.check(delta("tessera_prompt_tokens_total") >= whole["usage"]["prompt_tokens"] + 1,
                 f"prompt tokens moved by {delta('tessera_prompt_tokens_total')}")
        su.check(delta("tessera_generated_tokens_total") >= n_generated + 1,
                 f"generated tokens moved by {delta('tessera_generated_tokens_total')}")
        su.check(delta("tessera_time_to_first_token_seconds_count") == 2,
                 "two more time-to-first-token observations")
        su.check(delta("tessera_inter_token_latency_seconds_count") >= n_generated - 1,
                 "inter-token latencies observed")
        for h in ("tessera_time_to_first_token_seconds", "tessera_inter_token_latency_seconds"):
            buckets = sorted(((float("inf") if dict(k[1])["le"] == "+Inf" else float(dict(k[1])["le"])), v)
                             for k, v in after.items() if k[0] == h + "_bucket")
            counts = [v for _, v in buckets]
            su.check(counts == sorted(counts) and counts[-1] == su.metric(after, h + "_count"),
                     f"{h}: cumulative buckets, +Inf equals _count ({counts[-1]:.0f})")
        su.check(su.metric(after, "tessera_active_slots") == 0 and su.metric(after, "tessera_queue_depth") == 0
                 and su.metric(after, "tessera_slots_total") == 4, "gauges: 0 active, 0 queued, 4 slots")
        su.check(("tessera_kv_tokens_in_use", ()) in after, "a KV gauge is exported")


if __name__ == "__main__":
    main()
