"""The embedded model decoding several greedy calls in one batch, for real: the
answers equal one-at-a-time decoding, a call that times out leaves the batch
while the others finish, and no two ``llama_decode`` ever run at once (batched
or not). ``llama_decode`` is wrapped to count calls in flight; every answer
comes from the model. (tests/test_embedded.py checks the pinned answers through
``fourfold run``, which batches by default.)"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import llama_cpp
import pytest

from fourfold.models import ChatMessage, ChatPart, GenerationSettings, embedded_model_path
from fourfold.models.llamacpp import LlamaCppBackend

pytestmark = pytest.mark.slow

PROMPTS = ["What is 2+2?", "Name three primary colours.", "Write one sentence about the sea.",
           "What is the capital of France?", "Say hello in Spanish."]
GREEDY = GenerationSettings(max_tokens=24)


def _backend(batch: int) -> LlamaCppBackend:
    # one thread: two spin-waiting threads crawl when other work shares the 2 cores (the answers are the same)
    return LlamaCppBackend("smollm2", embedded_model_path(), n_threads=1, batch=batch)


def _ask(text: str) -> list[ChatMessage]:
    return [ChatMessage(role="user", parts=(ChatPart(type="text", text=text),))]


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """``llama_decode`` counted: how many run at once, at most, and in all."""
    seen = {"now": 0, "max": 0, "all": 0}
    lock = threading.Lock()
    real = llama_cpp.llama_cpp.llama_decode

    def counting(ctx: Any, batch: Any) -> int:
        with lock:
            seen["now"] += 1
            seen["all"] += 1
            seen["max"] = max(seen["max"], seen["now"])
        try:
            return real(ctx, batch)
        finally:
            with lock:
                seen["now"] -= 1
    monkeypatch.setattr(llama_cpp, "llama_decode", counting)  # as the batch engine calls it
    monkeypatch.setattr(llama_cpp.llama_cpp, "llama_decode", counting)  # as Llama (one at a time) calls it
    return seen


def _answers(backend: LlamaCppBackend, prompts: list[str]) -> list[str]:
    async def go() -> list[str]:
        try:
            gens = await asyncio.gather(*(backend.generate(_ask(p), GREEDY) for p in prompts))
        finally:
            await backend.aclose()
        assert all(g.finish_reason in ("stop", "length") and g.completion_tokens for g in gens), gens
        return [g.text for g in gens]
    return asyncio.run(go())


def test_batched_answers_equal_one_at_a_time(decodes: dict[str, int]):
    alone = _answers(_backend(batch=1), PROMPTS)
    n_alone = decodes["all"]
    together = _answers(_backend(batch=4), PROMPTS)
    assert together == alone
    assert decodes["all"] - n_alone < n_alone / 2, "the calls were not decoded together"
    assert decodes["max"] == 1


def test_a_timed_out_call_leaves_the_batch_and_the_others_finish(decodes: dict[str, int]):
    backend = _backend(batch=4)
    endless = GenerationSettings(max_tokens=3000)
    sampled = GenerationSettings(max_tokens=16, temperature=0.7)  # one at a time, under the same lock

    async def go() -> tuple[list[Any], str]:
        try:
            long = asyncio.wait_for(backend.generate(_ask("Count from 1 to 5000, one number per line."), endless), 1.0)
            results = await asyncio.gather(long, *(backend.generate(_ask(p), GREEDY) for p in PROMPTS[:3]),
                                           backend.generate(_ask(PROMPTS[3]), sampled), return_exceptions=True)
            after = await backend.generate(_ask(PROMPTS[0]), GREEDY)  # the model still answers
            return results, after.text
        finally:
            await backend.aclose()

    results, after = asyncio.run(go())
    assert decodes["all"] < 500, "the timed-out call went on decoding"  # 3000 tokens, had it not stopped
    assert isinstance(results[0], TimeoutError)
    assert all(isinstance(r, str) or hasattr(r, "text") for r in results[1:]), results
    reference = _answers(_backend(batch=1), PROMPTS[:3])
    assert [r.text for r in results[1:4]] == reference
    assert results[4].text
    assert after == reference[0]
    assert decodes["max"] == 1, "two llama_decode ran at once"
