#!/usr/bin/env python3
"""tessera-server through the official openai client: chat (whole and
streamed, which must agree at temperature 0), completions, stop strings,
seeded sampling, the model list, and errors the client raises."""
import server_util as su


def chat(client, alias, stream=False, **kw):
    return client.chat.completions.create(
        model=alias, messages=[{"role": "user", "content": "What is the capital of France?"}],
        stream=stream, **kw)


def main() -> None:
    a = su.args()
    model = su.model_or_skip()
    openai = su.openai_or_skip()
    with su.Server(a.server, model, "--parallel", "2") as srv:
        client = openai.OpenAI(base_url=srv.base + "/v1", api_key="unused", max_retries=0, timeout=120)

        models = client.models.list()
        su.check([m.id for m in models.data] == [srv.alias], f"models.list() is [{srv.alias}]")

        r = chat(client, srv.alias, max_tokens=32, temperature=0, seed=7)
        text = r.choices[0].message.content
        su.check(r.object == "chat.completion" and r.id.startswith("chatcmpl-") and r.model == srv.alias,
                 f"chat completion object, id {r.id}, model {r.model}")
        su.check(bool(text and text.strip()), f"a non-empty answer: {text!r}")
        su.check("Paris" in text, "the capital of France is Paris (SmolLM2 at temperature 0)")
        su.check(r.choices[0].finish_reason in ("stop", "length"), f"finish_reason {r.choices[0].finish_reason}")
        u = r.usage
        su.check(u.prompt_tokens > 0 and 0 < u.completion_tokens <= 32
                 and u.total_tokens == u.prompt_tokens + u.completion_tokens,
                 f"usage consistent: {u.prompt_tokens} + {u.completion_tokens} = {u.total_tokens}, <= 32 generated")

        chunks = list(chat(client, srv.alias, stream=True, max_tokens=32, temperature=0, seed=7,
                           stream_options={"include_usage": True}))
        su.check(all(c.object == "chat.completion.chunk" for c in chunks) and len({c.id for c in chunks}) == 1,
                 f"{len(chunks)} chunks, all chat.completion.chunk with one id")
        su.check(chunks[0].choices[0].delta.role == "assistant", "the first chunk carries the assistant role")
        streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        su.check(streamed == text, f"the streamed chunks reassemble to the same text: {streamed!r}")
        with_choice = [c for c in chunks if c.choices]
        su.check(with_choice[-1].choices[0].finish_reason == r.choices[0].finish_reason
                 and all(c.choices[0].finish_reason is None for c in with_choice[:-1]),
                 "only the last chunk has the finish_reason, the same as the whole response's")
        su.check(chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == u.completion_tokens
                 and chunks[-1].usage.prompt_tokens == u.prompt_tokens,
                 "include_usage: a last chunk with the same usage")

        c = client.completions.create(model=srv.alias, prompt="The capital of France is", max_tokens=8,
                                      temperature=0)
        su.check(c.object == "text_completion" and c.id.startswith("cmpl-"), "text_completion object")
        su.check(bool(c.choices[0].text.strip()) and 0 < c.usage.completion_tokens <= 8,
                 f"completion {c.choices[0].text!r}, {c.usage.completion_tokens} tokens <= 8")
        su.check("Paris" in c.choices[0].text, "the completion names Paris too")
        cs = list(client.completions.create(model=srv.alias, prompt="The capital of France is", max_tokens=8,
                                            temperature=0, stream=True))
        su.check("".join(x.choices[0].text for x in cs) == c.choices[0].text
                 and cs[-1].choices[0].finish_reason == c.choices[0].finish_reason,
                 "streamed completion agrees with the whole one")

        s = chat(client, srv.alias, max_tokens=32, temperature=0, stop=["Paris"])
        su.check(s.choices[0].finish_reason == "stop" and "Paris" not in s.choices[0].message.content
                 and s.choices[0].message.content == text[: text.index("Paris")],
                 f"stop string 'Paris' ends the answer before it: {s.choices[0].message.content!r}")
        ss = list(chat(client, srv.alias, stream=True, max_tokens=32, temperature=0, stop="Paris"))
        su.check("".join(x.choices[0].delta.content or "" for x in ss if x.choices)
                 == s.choices[0].message.content, "a streamed answer never shows the stop string")

        t1 = chat(client, srv.alias, max_tokens=16, temperature=0.9, seed=1234).choices[0].message.content
        t2 = chat(client, srv.alias, max_tokens=16, temperature=0.9, seed=1234).choices[0].message.content
        su.check(t1 == t2, f"the same seed samples the same text: {t1!r}")

        try:
            chat(client, "gpt-4o", max_tokens=8)
            su.fail("an unknown model was served")
        except openai.NotFoundError as e:
            su.check(e.status_code == 404 and "gpt-4o" in str(e), "an unknown model raises NotFoundError naming it")
        try:
            chat(client, srv.alias, max_tokens=-1)
            su.fail("max_tokens -1 was accepted")
        except openai.BadRequestError as e:
            su.check(e.status_code == 400 and "max_tokens" in str(e), "max_tokens -1 raises BadRequestError")


if __name__ == "__main__":
    main()
