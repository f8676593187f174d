"""The embedded model under timeouts, for real: a call that times out must stop
generating before the next one starts, on the same ``Llama``, through the real
runner. Two generations at once on one model abort the process (ggml asserts),
which is how a 36-minute run once died with nothing written.

The only test code is a wrapper around the real ``Llama`` that counts how many
generations are inside llama.cpp at once and how many tokens each produced; every
answer comes from the model."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path
from typing import Any

import pytest

from fourfold.cases import load_file
from fourfold.models import GenerationSettings, embedded_model_path
from fourfold.models.llamacpp import LlamaCppBackend
from fourfold.run import RunConfig, Runner
from fourfold.store import Store

pytestmark = pytest.mark.slow

MAX_TOKENS = 2000


class _Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.active = 0
        self.max_active = 0
        self.streams: list[dict[str, Any]] = []  # one per generation: chunks seen, finish reason


class _CountingLlama:
    """The real ``Llama``, with each streamed generation counted from its first
    token to the moment its stream is closed."""

    def __init__(self, llm: Any, stats: _Stats):
        self._llm, self._stats = llm, stats

    def __getattr__(self, name: str) -> Any:
        return getattr(self._llm, name)

    def create_chat_completion(self, **kw: Any) -> Any:
        inner = self._llm.create_chat_completion(**kw)
        stats = self._stats
        record: dict[str, Any] = {"chunks": 0, "finish": None}

        def gen() -> Any:
            with stats.lock:
                stats.active += 1
                stats.max_active = max(stats.max_active, stats.active)
                stats.streams.append(record)
            try:
                for chunk in inner:
                    record["chunks"] += 1
                    record["finish"] = chunk["choices"][0].get("finish_reason") or record["finish"]
                    yield chunk
            finally:
                inner.close()
                with stats.lock:
                    stats.active -= 1
        return gen()


class _CountingBackend(LlamaCppBackend):
    """The real backend; its model is wrapped for counting, and kept open between
    the two runs below (the runner closes backends at the end of a run)."""

    def __init__(self, stats: _Stats):
        super().__init__("smollm2", embedded_model_path(), batch=1)  # the one-at-a-time path (greedy calls batch)
        self.stats = stats

    def _load(self) -> Any:
        if self._llm is None:
            super()._load()
            self._llm = _CountingLlama(self._llm, self.stats)
        return self._llm

    async def aclose(self) -> None:
        pass

    async def really_close(self) -> None:
        await super().aclose()


def _cases(path: Path, rows: list[dict]) -> list:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return load_file(path)


def test_timeouts_never_overlap_generations_and_the_model_still_answers(tmp_path: Path):
    long_cases = _cases(tmp_path / "long.jsonl", [
        {"id": f"long{i}", "cell": "text/generalizability", "category": "math",
         # one prompt: its greedy answer is 121 tokens (about 1.3 s); "Count from 2 to 1002" is
         # answered in 31 (0.3-0.4 s), which finished inside the 0.3 s timeout once in a while
         "input": "Count from 0 to 1000, one number per line, with no other text.",
         "reference": {"kind": "numeric", "answer": 1000}} for i in range(3)])
    easy = _cases(tmp_path / "easy.jsonl", [
        {"id": "easy", "cell": "text/generalizability", "category": "math", "input": "What is 2+2?",
         "reference": {"kind": "numeric", "answer": 4}}])
    stats = _Stats()
    backend = _CountingBackend(stats)
    store = Store(tmp_path / "r.db")

    async def go() -> None:
        try:
            tight = RunConfig(progress=False, timeout_s=0.3, retries=2, backoff_base_s=0.01,
                              settings=GenerationSettings(max_tokens=MAX_TOKENS))
            await Runner(store, tight).run(long_cases, [backend])
            n_timed_out = len(stats.streams)
            normal = RunConfig(progress=False, timeout_s=600, retries=0, settings=GenerationSettings(max_tokens=48))
            await Runner(store, normal).run(easy, [backend])
            assert len(stats.streams) == n_timed_out + 1
        finally:
            await backend.really_close()

    asyncio.run(go())

    rows = {r.case_id: r for r in store.latest_results()}
    for i in range(3):
        row = rows[f"long{i}"]
        assert row.status == "error" and row.attempts == 3, row
        assert row.error == "failed after 3 attempts: timed out after 0.3 s"
    assert stats.max_active == 1, "two generations ran on one Llama at once"
    timed_out = stats.streams[:-1]
    assert timed_out, "no generation was started for the timed-out calls"
    for s in timed_out:  # each stopped early, without finishing: cancelled between tokens
        assert s["finish"] is None and s["chunks"] < MAX_TOKENS / 4, s
    assert stats.streams[-1]["finish"] in ("stop", "length")
    easy_row = rows["easy"]
    assert easy_row.status == "ok" and easy_row.verdict == "good", easy_row
    assert "4" in easy_row.response
