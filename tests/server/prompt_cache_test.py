#!/usr/bin/env python3
"""The prompt cache: a chat's second turn (its prompt starts with the whole
first turn) reuses the KV rows the first left in its slot, a second
conversation with the same system prompt takes them from another slot
(shared copy-on-write), and at temperature 0 every answer is the text a
server that computes every prompt whole (--no-prompt-cache) gives.
/metrics counts the reused tokens; with --no-prompt-cache it counts none."""
import http.client
import json

import server_util as su

SYSTEM = ("You are a helpful assistant for a geography class. Answer in one short sentence, "
          "name the country and the city, and do not add anything else.")
TURNS = [
    [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "What is the capital of France?"}],
    None,  # the first turn, its answer, then the second question
    [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "What is the capital of Italy?"}],
]


def chat(srv, messages):
    status, body = srv.post("/v1/chat/completions",
                            {"messages": messages, "max_tokens": 16, "temperature": 0})
    su.check(status == 200, f"chat -> {status}: {str(body)[:200]}")
    return body["choices"][0]["message"]["content"], body["usage"]["prompt_tokens"]


def conversation(srv):
    """The three answers, and the prompt tokens of each request."""
    first, n1 = chat(srv, TURNS[0])
    second_msgs = TURNS[0] + [{"role": "assistant", "content": first},
                              {"role": "user", "content": "And of Germany?"}]
    second, n2 = chat(srv, second_msgs)
    third, n3 = chat(srv, TURNS[2])
    return [first, second, third], [n1, n2, n3]


def main() -> None:
    a = su.args()
    model = su.model_or_skip()
    with su.Server(a.server, model, "--parallel", "2", "--no-prompt-cache") as srv:
        want, _ = conversation(srv)
        su.check(su.metric(srv.metrics(), "tessera_prompt_tokens_cached_total") == 0,
                 "--no-prompt-cache reuses nothing")
    with su.Server(a.server, model, "--parallel", "2") as srv:
        got, prompt_tokens = conversation(srv)
        for i, (g, w) in enumerate(zip(got, want)):
            su.check(g == w, f"answer {i} with the cache is the answer without: {g!r} == {w!r}")
        cached = su.metric(srv.metrics(), "tessera_prompt_tokens_cached_total")
        # Turn 2 reuses turn 1's prompt (and the answer's tokens the template
        # renders the same way); the third conversation shares the system
        # prompt, which alone is longer than the 16 tokens sharing needs.
        su.check(cached >= prompt_tokens[0] + 16,
                 f"{cached:.0f} prompt tokens reused (first prompt {prompt_tokens[0]} tokens)")
        su.check(su.metric(srv.metrics(), "tessera_kv_blocks_in_use") > 0, "free slots keep their caches")

        # While slot A streams a long answer to a question with the system
        # prompt, another question with it must take slot B and share A's
        # blocks of the system prompt (A's own cache is busy).
        c = http.client.HTTPConnection(srv.host, srv.port, timeout=120)
        c.request("POST", "/v1/chat/completions", headers={"Content-Type": "application/json"},
                  body=json.dumps({"messages": [{"role": "system", "content": SYSTEM},
                                               {"role": "user", "content": "Write a long story about a lighthouse."}],
                                  "max_tokens": 200, "temperature": 0, "stream": True}))
        r = c.getresponse()
        while b'"content":"' not in r.readline().replace(b'"content":""', b""):
            pass  # until the first token arrives: slot A is generating
        before = su.metric(srv.metrics(), "tessera_prompt_tokens_cached_total")
        third, _ = chat(srv, TURNS[2])
        su.check(third == want[2], f"the answer beside a running request is the same: {third!r}")
        shared = su.metric(srv.metrics(), "tessera_kv_blocks_shared")
        su.check(shared >= 1, f"{shared:.0f} KV blocks shared between the two slots")
        su.check(su.metric(srv.metrics(), "tessera_prompt_tokens_cached_total") - before >= 16,
                 "the system prompt's tokens were reused from the busy slot")
        r.read()
        c.close()


if __name__ == "__main__":
    main()
