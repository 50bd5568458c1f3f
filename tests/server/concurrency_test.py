#!/usr/bin/env python3
"""Continuous batching under load, with the openai client.

concurrency: 32 requests at once against --parallel 4: every one is
answered 200, and at temperature 0 each answer is the text its prompt gives
when it is the only request (batching must not mix sequences up); /metrics
counts every request; /health is ok afterwards.

queue-full: --parallel 1 --queue 1 and several long requests at once: the
ones past the slot and the queue get 503 with a JSON error, the accepted ones
complete.

kv-pressure: --parallel 4 over a KV pool of 8 blocks (16 rows each: room for
two of these requests at a time): four requests at once all complete with
the text each gives alone; prompts waited for memory (counted); afterwards
every slot is free and a new request is served (the caches free slots keep
give way to it).

preemption: two long completions over a KV pool that holds one of them: the
younger is preempted mid-answer (its memory given back), resumes by
recomputing its tokens when the older ends, and both answers are those given
alone."""
import argparse
import concurrent.futures
import json
import threading

import server_util as su

PROMPTS = ["What is the capital of France?", "Name three colors.", "Write a haiku about the sea.",
           "What is 2 + 2?"]
MAX_TOKENS = 16


def ask(client, alias, i: int, stream: bool):
    """(text, finish_reason, completion_tokens) of prompt i % 4."""
    messages = [{"role": "user", "content": PROMPTS[i % len(PROMPTS)]}]
    if not stream:
        r = client.chat.completions.create(model=alias, messages=messages, max_tokens=MAX_TOKENS, temperature=0)
        return r.choices[0].message.content, r.choices[0].finish_reason, r.usage.completion_tokens
    text, finish, usage = "", None, None
    for c in client.chat.completions.create(model=alias, messages=messages, max_tokens=MAX_TOKENS, temperature=0,
                                            stream=True, stream_options={"include_usage": True}):
        if c.choices:
            text += c.choices[0].delta.content or ""
            finish = c.choices[0].finish_reason or finish
        if c.usage:
            usage = c.usage.completion_tokens
    return text, finish, usage


def concurrency(server: str, model: str) -> None:
    openai = su.openai_or_skip()
    with su.Server(server, model, "--parallel", "4", "--queue", "32") as srv:
        client = openai.OpenAI(base_url=srv.base + "/v1", api_key="unused", max_retries=0, timeout=280)
        alone = [ask(client, srv.alias, i, False) for i in range(len(PROMPTS))]
        for i, (text, finish, n) in enumerate(alone):
            su.check(bool(text) and n <= MAX_TOKENS, f"alone: {PROMPTS[i]!r} -> {text!r} ({finish}, {n} tokens)")

        n = 32
        start = threading.Barrier(n)

        def one(i):
            start.wait()
            return ask(client, srv.alias, i, stream=i % 2 == 1)

        with concurrent.futures.ThreadPoolExecutor(n) as pool:
            results = list(pool.map(one, range(n)))
        wrong = [(i, r) for i, r in enumerate(results) if r != alone[i % len(PROMPTS)]]
        su.check(not wrong, f"{n} concurrent requests (half streamed) each gave its prompt's text, finish_reason "
                            f"and usage as when alone{'; differing: ' + repr(wrong[:3]) if wrong else ''}")

        m = {}

        def settled():
            m.clear()
            m.update(srv.metrics())
            return su.metric(m, "tessera_requests_total", endpoint="/v1/chat/completions", status="200") == n + 4

        su.check(su.wait_for(settled, 10), "/metrics counts all 36 chat requests as 200, nothing lost")
        su.check(sum(v for (name, labels), v in m.items() if name == "tessera_requests_total"
                     and dict(labels)["endpoint"] == "/v1/chat/completions") == n + 4, "and no other status")
        su.check(su.metric(m, "tessera_generated_tokens_total")
                 == sum(r[2] for r in results) + sum(r[2] for r in alone), "generated tokens add up")
        su.check(su.metric(m, "tessera_active_slots") == 0 and su.metric(m, "tessera_queue_depth") == 0,
                 f"afterwards no slot is busy and the queue is empty (active {su.metric(m, 'tessera_active_slots')}, "
                 f"queued {su.metric(m, 'tessera_queue_depth')})")
        status, text, _ = srv.request("GET", "/health")
        su.check(status == 200 and json.loads(text)["status"] == "ok", "/health is ok afterwards")


def queue_full(server: str, model: str) -> None:
    with su.Server(server, model, "--parallel", "1", "--queue", "1") as srv:
        n = 6
        start = threading.Barrier(n)

        def one(i):
            start.wait()
            return srv.post("/v1/completions", {"prompt": "Once upon a time", "max_tokens": 128, "temperature": 0})

        with concurrent.futures.ThreadPoolExecutor(n) as pool:
            results = list(pool.map(one, range(n)))
        ok = [r for s, r in results if s == 200]
        full = [r for s, r in results if s == 503]
        su.check(len(ok) + len(full) == n, f"every request got 200 or 503: {[s for s, _ in results]}")
        su.check(len(full) >= 1 and all(r["error"]["code"] == "queue_full" and "--queue" in r["error"]["message"]
                                        for r in full),
                 f"{len(full)} got 503 with a JSON error (code queue_full): {full[0]['error']['message']!r}")
        su.check(len(ok) >= 2 and all(r["usage"]["completion_tokens"] > 0 and r["choices"][0]["text"] for r in ok),
                 f"{len(ok)} accepted requests (the slot and the queued one at least) completed")
        status, r = srv.post("/v1/completions", {"prompt": "Hello", "max_tokens": 4})
        su.check(status == 200, "once they are done a new request is served")


def kv_pressure(server: str, model: str) -> None:
    openai = su.openai_or_skip()
    with su.Server(server, model, "--parallel", "4", "--kv-blocks", "8") as srv:
        client = openai.OpenAI(base_url=srv.base + "/v1", api_key="unused", max_retries=0, timeout=280)
        alone = [ask(client, srv.alias, i, False) for i in range(len(PROMPTS))]
        m = srv.metrics()
        su.check(su.metric(m, "tessera_kv_blocks_total") == 8 and su.metric(m, "tessera_kv_pool_full_total") == 0,
                 "/metrics: a pool of 8 blocks, never full while requests came one at a time")
        start = threading.Barrier(len(PROMPTS))

        def one(i):
            start.wait()
            return ask(client, srv.alias, i, stream=i % 2 == 1)

        with concurrent.futures.ThreadPoolExecutor(len(PROMPTS)) as pool:
            results = list(pool.map(one, range(len(PROMPTS))))
        su.check(results == alone, "four requests at once over 8 blocks each gave the text it gives alone")
        m = srv.metrics()
        su.check(su.metric(m, "tessera_kv_pool_full_total") > 0,
                 f"prompts waited for KV memory ({su.metric(m, 'tessera_kv_pool_full_total'):.0f} full steps)")
        su.check(su.metric(m, "tessera_active_slots") == 0, "afterwards every slot is free")
        # Free slots keep their caches (the prompt cache) until memory is
        # needed: a new request still gets the blocks it needs.
        again = ask(client, srv.alias, 2, False)
        su.check(again == alone[2], f"a request after them is served as alone: {again[0]!r}")


def preemption(server: str, model: str) -> None:
    """Two long completions over a pool that holds one: the younger gives its
    KV memory back mid-answer, resumes when the older ends, and both texts
    are what each gives alone. Then three over a pool that holds one and a
    half, where a resumed request can be preempted again, even while it
    recomputes its tokens."""
    preempt_case(server, model, ["Once upon a time", "The history of the Roman Empire"], 6)
    preempt_case(server, model, ["Once upon a time", "The history of the Roman Empire",
                                 "In a small village by the sea"], 8)


def preempt_case(server: str, model: str, prompts: list, blocks: int) -> None:
    with su.Server(server, model, "--parallel", str(len(prompts)), "--kv-blocks", str(blocks)) as srv:

        def complete(p):
            status, r = srv.post("/v1/completions", {"prompt": p, "max_tokens": 60, "temperature": 0})
            su.check(status == 200, f"{p!r}: status {status}: {r}")
            return r["choices"][0]["text"], r["choices"][0]["finish_reason"], r["usage"]["completion_tokens"]

        alone = [complete(p) for p in prompts]
        su.check(all(n == 60 for _, _, n in alone), f"alone each runs to 60 tokens: {alone}")
        start = threading.Barrier(len(prompts))

        def one(i):
            start.wait()
            return complete(prompts[i])

        with concurrent.futures.ThreadPoolExecutor(len(prompts)) as pool:
            together = list(pool.map(one, range(len(prompts))))
        m = srv.metrics()
        su.check(su.metric(m, "tessera_preemptions_total") > 0,
                 f"a request gave its memory back ({su.metric(m, 'tessera_preemptions_total'):.0f} preemptions)")
        su.check(together == alone, f"both answers are those given alone: {together} vs {alone}")
        su.check(su.metric(m, "tessera_active_slots") == 0 and su.metric(m, "tessera_queue_depth") == 0,
                 "afterwards no slot is busy and nothing waits")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--server", required=True)
    p.add_argument("case", choices=["concurrency", "queue-full", "kv-pressure", "preemption"])
    a = p.parse_args()
    model = su.model_or_skip()
    {"concurrency": concurrency, "queue-full": queue_full, "kv-pressure": kv_pressure,
     "preemption": preemption}[a.case](a.server, model)


if __name__ == "__main__":
    main()
