#!/usr/bin/env python3
"""llama.cpp's perplexity over tessera-perplexity's chunks, for a side-by-side.

    llamacpp_perplexity.py MODEL --tessera-json PPL.json [-t THREADS]

Runs in the llama-cpp-python environment of scripts/peer-llamacpp.sh
(~/.cache/tessera/peer/venv/bin/python). Takes the token ids tessera-perplexity
evaluated (its --json "tokens": n_chunks x n_ctx, BOS already in place) so
both engines score exactly the same chunks, checks that llama.cpp's own
tokenizer gives the same ids for the text, evaluates each chunk from an empty
cache with every position's logits, and scores the second half the way
llama-perplexity does. Prints both perplexities and their ratio.
"""
from __future__ import annotations

import argparse
import json
import math
import sys

import numpy as np
from llama_cpp import Llama


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--tessera-json", required=True)
    ap.add_argument("-t", "--threads", type=int, default=2)
    args = ap.parse_args()
    res = json.load(open(args.tessera_json))
    n_ctx, n_chunks = res["n_ctx"], res["n_chunks"]
    tokens = res["tokens"]
    llm = Llama(model_path=args.model, n_ctx=n_ctx, n_batch=n_ctx, n_threads=args.threads, logits_all=True,
                verbose=False)
    text = open(res["text"], "rb").read()
    add_bos = llm.metadata.get("tokenizer.ggml.add_bos_token", "false") == "true"
    mine = llm.tokenize(text, add_bos=add_bos)
    # With BOS, tessera put it at the start of every chunk: compare the rest.
    same = all(mine[c * n_ctx + add_bos : (c + 1) * n_ctx] == tokens[c * n_ctx + add_bos : (c + 1) * n_ctx]
               for c in range(n_chunks))
    print(f"llama.cpp tokenizer: {len(mine)} tokens (tessera: {res['n_tokens']}); same ids in every chunk: {same}")
    nll, count = 0.0, 0
    for c in range(n_chunks):
        chunk = tokens[c * n_ctx : (c + 1) * n_ctx]
        llm.reset()
        llm.eval(chunk)
        logits = np.asarray(llm.scores[:n_ctx], dtype=np.float64)
        for j in range(n_ctx // 2, n_ctx - 1):
            row = logits[j]
            m = row.max()
            nll += -(row[chunk[j + 1]] - m - math.log(np.exp(row - m).sum()))
            count += 1
    ppl = math.exp(nll / count)
    print(f"llama.cpp PPL = {ppl:.4f} over {count} scored tokens; tessera PPL = {res['ppl']:.4f}; "
          f"ratio tessera/llama.cpp = {res['ppl'] / ppl:.5f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
