"""Scale (issue 12): cases streamed from their files, a scheduler that holds a
bounded number of them, the store's stats and compaction (the large-report cut-off
is tested in test_report_streaming.py).

Memory flatness itself is measured by bench/scale.py (peak RSS is no unit test);
here the scheduler's bound is counted exactly: every case it has read is either
in its current batch, in flight, or answered."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import fourfold
from fourfold.cases import CaseFileError, LoadedCase
from fourfold.cases.stream import open_cases
from fourfold.models.openai import OpenAIBackend
from fourfold.run import RunConfig, Runner
from fourfold.store import Store

CELL = "text/generalizability"


class _Counted:
    """Cases iterated lazily, counting how far the scheduler has read."""

    def __init__(self, source: Any):
        self.source = source
        self.read = 0
        self.cell_counts = source.cell_counts

    def __len__(self) -> int:
        return len(self.source)

    def __iter__(self) -> Iterator[LoadedCase]:
        for lc in self.source:
            self.read += 1
            yield lc


def test_the_scheduler_reads_at_most_a_batch_ahead_of_the_answers(latency_server: Any, qa_file: Any,
                                                                   tmp_path: Path) -> None:
    n, concurrency = 600, 4
    server = latency_server("--delay-ms", "2")
    cases = _Counted(open_cases([str(qa_file(n))], cell=CELL, keep=0))  # streamed, as past KEEP_IN_MEMORY
    backend = OpenAIBackend(f"openai/m@{server.base_url}", "m", server.base_url)
    answered = 0
    ahead: list[int] = []
    real_answer = backend.answer

    async def answer(*a: Any, **kw: Any) -> Any:
        nonlocal answered
        ahead.append(cases.read - answered)
        try:
            return await real_answer(*a, **kw)
        finally:
            answered += 1

    backend.answer = answer  # type: ignore[method-assign]
    store = Store(tmp_path / "r.db")
    summary = asyncio.run(Runner(store, RunConfig(progress=False, concurrency=concurrency)).run(cases, [backend]))
    assert summary.models[0].sent == n and store.count() == n and cases.read == n
    batch = max(16, 2 * concurrency)
    # read but not answered: the batch being handed out and the calls in flight, never more
    assert max(ahead) <= batch + concurrency, max(ahead)
    assert len(store.cases()) == n, "every case stored once, as it was reached"


def test_open_cases_reports_every_bad_record_before_anything_is_read_twice(tmp_path: Path) -> None:
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.write_text('{"id": "x1", "input": "q", "target": "1"}\n{"id": "x2", "input": "", "target": "1"}\n'
                 '{"id": "x1", "input": "q", "target": "2"}\n')
    b.write_text('{"id": "x2", "input": "q", "target": "1"}\nnot json\n')
    with pytest.raises(CaseFileError) as e:
        open_cases([str(a), str(b)], cell=CELL)
    text = str(e.value)
    assert f"{a}:2: input: must be a non-empty string" in text
    assert f"{b}:2: invalid JSON" in text
    # duplicates are only looked for once every record parses
    a.write_text('{"id": "x1", "input": "q", "target": "1"}\n{"id": "x1", "input": "q", "target": "2"}\n')
    b.write_text('{"id": "x1", "input": "q", "target": "1"}\n')
    with pytest.raises(CaseFileError) as e:
        open_cases([str(a), str(b)], cell=CELL)
    assert str(e.value).splitlines() == [f"{a}:2: id: duplicate id 'x1' (first on line 1)",
                                         f"{b}:1: id: duplicate id 'x1' (also {a}:1)"]


def test_open_cases_counts_cells_and_limits_as_load_cases(tmp_path: Path) -> None:
    f = tmp_path / "c.jsonl"
    f.write_text("".join(json.dumps({"id": f"c{i}", "input": "q", "target": str(i)}) + "\n" for i in range(30)))
    src = open_cases([str(f)], cell=CELL, limit=7)
    assert len(src) == 7 and src.cell_counts == {CELL: 7} and src.kinds == {"exact"}
    assert src.kept is not None, "a small selection is served from memory"
    streamed = open_cases([str(f)], cell=CELL, limit=7, keep=5)
    assert streamed.kept is None, "past `keep` the cases are read again lazily"
    for s in (src, streamed, streamed):  # each iteration of a stream reads the file again
        assert [(lc.case.id, lc.line) for lc in s] == [(f"c{i}", i + 1) for i in range(7)]
    assert len(open_cases([str(f)], cell=CELL, cells=["code/causality"])) == 0


def test_run_cli_streams_and_resumes(latency_server: Any, qa_file: Any, tmp_path: Path) -> None:
    server = latency_server("--delay-ms", "1")
    data, db = qa_file(300), tmp_path / "r.db"
    args = ("run", "--model", f"openai/m@{server.base_url}", "--cases", str(data), "--cell", CELL,
            "--store", str(db), "--no-report", "--no-progress", "--concurrency", "16")
    fourfold(*args)
    again = fourfold(*args)
    assert server.stats()["requests_total"] == 300
    assert "300 case(s) already in the store" in " ".join(again.stderr.split())


def _filled_store(path: Path, n: int) -> Store:
    from fourfold.store import ResultRow

    store = Store(path)
    store.put_results([ResultRow(key=f"k{i}", model=f"m{i % 2}", model_identity="{}", settings="{}", case_id=f"c{i}",
                                 case_hash=f"h{i}", cell=CELL, category="other", status="ok" if i % 3 else "error",
                                 verdict="good", response="x" * 500) for i in range(n)])
    store.put_cases((f"h{i}", f"c{i}", CELL, "other", "s", None, "{}") for i in range(n))
    return store


def test_store_stats_and_compact_keep_every_row(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    store = _filled_store(db, 3000)
    store.db.execute("DELETE FROM cases WHERE case_hash >= 'h1'")  # frees pages, as replaced results do
    store.close()
    stats = json.loads(fourfold("store", "stats", "--store", str(db), "--json", "--bytes").stdout)
    assert stats["rows"]["results"] == 3000 and stats["rows"]["cases"] == 1
    assert stats["models"] == {"m0": 1500, "m1": 1500} and stats["statuses"] == {"error": 1000, "ok": 2000}
    assert stats["freelist_count"] > 0 and "results_model_case" in stats["indexes"]
    assert stats["table_bytes"]["results"] > 1_500_000, "3,000 answers of 500 characters"
    assert "rows: " in fourfold("store", "stats", "--store", str(db)).stdout
    dump = sorted(_dump(db))
    r = fourfold("store", "compact", "--store", str(db))
    assert "3,000 results kept" in r.stderr
    after = json.loads(fourfold("store", "stats", "--store", str(db), "--json").stdout)
    assert sorted(_dump(db)) == dump, "every row of every table kept"
    assert after["freelist_count"] == 0 and after["file_bytes"] < stats["file_bytes"] + stats["wal_bytes"]
    assert not list(tmp_path.glob(".r.db.compact-*")), "no copy left behind"


def _dump(db: Path) -> list[str]:
    import sqlite3

    con = sqlite3.connect(db)
    try:
        return list(con.iterdump())
    finally:
        con.close()


def test_compact_is_refused_while_a_writer_holds_the_store(tmp_path: Path) -> None:
    from fourfold.store import StoreError
    from fourfold.store.maintenance import StoreBusy, compact, lock_path

    db = tmp_path / "r.db"
    store = _filled_store(db, 10)  # a run, a judge pass or the web UI: a writing Store
    before = _dump(db)
    r = fourfold("store", "compact", "--store", str(db), check=False)
    assert r.returncode == 2 and "in use by another fourfold process" in r.stderr
    assert _dump(db) == before
    store.close()
    compact(db)  # free once the writer is gone
    import fcntl

    with open(lock_path(db), "ab") as held:  # while compacting, a new writer is refused, not silently lost
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        with pytest.raises(StoreError, match="being compacted"):
            Store(db)
        with pytest.raises(StoreBusy):
            compact(db)
    Store(db).close()


def test_two_models_stream_the_same_cases_and_store_each_case_once(latency_server: Any, qa_file: Any,
                                                                     tmp_path: Path) -> None:
    server = latency_server("--delay-ms", "1")
    cases = open_cases([str(qa_file(200))], cell=CELL)
    backends = [OpenAIBackend(f"openai/{m}@{server.base_url}", m, server.base_url) for m in ("a", "b")]
    store = Store(tmp_path / "r.db")
    summary = asyncio.run(Runner(store, RunConfig(progress=False, concurrency=8)).run(cases, backends))
    assert [m.sent for m in summary.models] == [200, 200] and store.count() == 400
    assert len(store.cases()) == 200
    assert {r.verdict for r in store.latest_results()} == {"good"}
    again = asyncio.run(Runner(store, RunConfig(progress=False)).run(cases, backends[:1]))
    assert again.models[0].skipped == 200 and again.models[0].sent == 0
    with pytest.raises(TypeError, match="iterate again"):
        asyncio.run(Runner(store, RunConfig(progress=False)).run(iter(list(cases)), backends[:1]))
