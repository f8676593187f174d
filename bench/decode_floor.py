#!/usr/bin/env python3
"""The embedded model's decode floor: what one ``llama_decode`` costs for n tokens.

Why the default run cannot reach 2 minutes on this machine with answers equal to
one-at-a-time greedy decoding: if a decode of n tokens cost little more than a
decode of one (a memory- or dispatch-bound model), batching sequences, or
verifying drafted tokens (prompt-lookup / self-speculative decoding), would
multiply tokens per second. This bench measures the cost curve on the shipped
SmolLM2-135M Q4_1 GGUF with the batch engine's own context settings, so the
marginal cost of one more token in a decode is a number, not a guess.

With ``--store DB`` it also replays the greedy answers stored there through
prompt-lookup drafting (the draft is the k tokens that followed the last
earlier occurrence of the current 1-3-token suffix in prompt + answer so far)
and reports tokens accepted per decode and tokens fed per answer token: a
draft pays off only if accepted tokens per decode grow faster than the decode's
cost does.

    python bench/decode_floor.py [--threads 2] [--store results.db]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

N_TOKENS = (1, 2, 4, 8, 16, 32)


def _put(batch: Any, n: int, token: int, pos: int, seq: int) -> int:
    batch.token[n], batch.pos[n], batch.n_seq_id[n] = token, pos, 1
    batch.seq_id[n][0] = seq
    batch.logits[n] = 1
    return n + 1


def decode_costs(threads: int, repeats: int = 8) -> dict[str, float]:
    """Best-of-``repeats`` ms per decode: one sequence fed n tokens, and b sequences fed one each."""
    import llama_cpp

    from fourfold.models.llamacpp import embedded_model_path

    llm = llama_cpp.Llama(model_path=str(embedded_model_path()), n_ctx=4096, n_threads=threads,
                          n_threads_batch=threads, verbose=False, seed=0)
    p = type(llm.context_params).from_buffer_copy(llm.context_params)
    p.n_ctx, p.n_seq_max, p.n_batch, p.n_ubatch = 4096 * 4, 4, 512, 512
    ctx = llama_cpp.llama_init_from_model(llm._model.model, p)
    batch, mem = llama_cpp.llama_batch_init(512, 0, 1), llama_cpp.llama_get_memory(ctx)
    for seq in range(4):  # a 200-token context in each sequence, like a short case's prompt
        n = 0
        for i in range(200):
            n = _put(batch, n, 100 + i, i, seq)
        batch.n_tokens = n
        llama_cpp.llama_decode(ctx, batch)

    def best(fill: Any, seqs: int) -> float:
        times = []
        for _ in range(repeats):
            batch.n_tokens = fill()
            t = time.perf_counter()
            llama_cpp.llama_decode(ctx, batch)
            times.append(time.perf_counter() - t)
            for s in range(seqs):
                llama_cpp.llama_memory_seq_rm(mem, s, 200, -1)
        return round(min(times) * 1000, 1)

    out: dict[str, float] = {}
    for k in N_TOKENS:
        out[f"1 sequence x {k} tokens"] = best(lambda k=k: _fill_one(batch, k), 1)
    for b in (2, 4):
        out[f"{b} sequences x 1 token"] = best(lambda b=b: _fill_many(batch, b), b)
    llama_cpp.llama_batch_free(batch)
    llama_cpp.llama_free(ctx)
    return out


def _fill_one(batch: Any, k: int) -> int:
    n = 0
    for i in range(k):
        n = _put(batch, n, 500 + i, 200 + i, 0)
    return n


def _fill_many(batch: Any, b: int) -> int:
    n = 0
    for s in range(b):
        n = _put(batch, n, 500, 200, s)
    return n


def _draft(history: list[int], k: int) -> list[int]:
    for n in (3, 2, 1):
        if len(history) <= n:
            continue
        key = history[-n:]
        for j in range(len(history) - n - 1, -1, -1):
            if history[j:j + n] == key:
                return history[j + n:j + n + k]
    return []


def lookup_replay(db: Path, ks: tuple[int, ...] = (2, 4, 8)) -> list[dict[str, float]]:
    """Prompt-lookup drafting replayed on the stored answers (greedy: a draft token is
    accepted exactly when it equals the answer's next token)."""
    import llama_cpp

    from fourfold.models.llamacpp import embedded_model_path

    vocab = llama_cpp.Llama(model_path=str(embedded_model_path()), vocab_only=True, verbose=False)
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    rows = con.execute("SELECT c.data, r.response FROM results r JOIN cases c ON c.case_hash = r.case_hash "
                       "WHERE r.status = 'ok' AND COALESCE(r.response, '') != ''").fetchall()
    pairs = [(vocab.tokenize(json.dumps(json.loads(d).get("input"))[:8000].encode(), add_bos=True),
              vocab.tokenize(a.encode(), add_bos=False)) for d, a in rows]
    report = []
    for k in ks:
        steps = fed = tokens = 0
        for prompt, answer in pairs:
            i = 0
            while i < len(answer):
                d = _draft(prompt + answer[:i], k)
                acc = 0
                while acc < len(d) and i + acc < len(answer) and d[acc] == answer[i + acc]:
                    acc += 1
                steps, fed, i = steps + 1, fed + 1 + len(d), i + acc + 1
            tokens += len(answer)
        report.append({"k": k, "answers": len(pairs), "tokens": tokens, "tokens_per_decode": round(tokens / steps, 2),
                       "fed_per_token": round(fed / tokens, 2)})
    return report


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--store", type=Path, help="a store with the embedded model's answers, to replay drafting on")
    args = ap.parse_args()
    costs = decode_costs(args.threads)
    one = costs["1 sequence x 1 tokens"]
    for name, ms in costs.items():
        print(f"{name:>24}: {ms:6.1f} ms")
    marginal = (costs["1 sequence x 32 tokens"] - costs["1 sequence x 16 tokens"]) / 16
    print(f"one token alone {one} ms; each further token in the same decode {marginal:.1f} ms")
    if args.store:
        for row in lookup_replay(args.store):
            print(json.dumps(row))
    return 0


if __name__ == "__main__":
    sys.exit(main())
