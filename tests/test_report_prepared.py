"""Case views made during a run (``report.prepared``, ``cli.ahead``): the report a run
writes with them is byte for byte the report ``fourfold report`` writes without them,
and a view is used only for exactly the results it was made from. Real SQLite store,
real result writer; the last test runs the CLI against the bench's latency server."""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path
from typing import Any

from conftest import fourfold
from fourfold.cases.schema import Case
from fourfold.cli.ahead import PER_IDLE, ViewFeed
from fourfold.report import build_report
from fourfold.report.prepared import PreparedCases
from fourfold.store import ResultRow, ResultWriter, Store
from test_report import CASES, RATIONALE, _case_json, _png

_STAMP = re.compile(r"generated \d{4}-\d\d-\d\d \d\d:\d\d:\d\d [A-Z+\-0-9]*")
TEXT_ONLY = [c for c in CASES if not c[1].startswith("image/")]


def _rows(models: tuple[str, ...], now: float) -> list[ResultRow]:
    rows = []
    for case_id, cell, category, _ref, per_model in CASES:
        for m in models:
            verdict, response = per_model.get(m, per_model["alpha"])
            status = {"error": "error", "not_evaluated": "not_evaluated"}.get(verdict, "ok")
            rows.append(ResultRow(
                key=f"{m}:{case_id}", model=m, model_identity="{}", settings="{}", case_id=case_id,
                case_hash=f"hash-{case_id}", cell=cell, category=category, status=status, verdict=verdict,
                rationale=RATIONALE.get(verdict, ""), judge="rule" if verdict in RATIONALE else "",
                response=response, error="timeout after 300 s" if verdict == "error" else None,
                served_model=f"{m}-served sk-{'x' * 24}", latency_s=0.5, created_at=now))
    return rows


def _store_with_views(tmp_path: Path, models: tuple[str, ...] = ("alpha", "beta"),
                      before: tuple[str, ...] = ()) -> tuple[Store, PreparedCases]:
    """The CASES stored as a run stores them: cases, then results through the writer,
    which hands each committed batch to the views (as ``fourfold run`` does).
    ``before``: models whose results were in the store before the run."""
    media = tmp_path / "media"
    media.mkdir()
    _png(media / "red.png")
    store = Store(tmp_path / "results.db")
    docs = {c[0]: _case_json(c[0], c[1], c[2], c[3]) for c in CASES}
    store.put_cases([(f"hash-{cid}", cid, d["cell"], d["category"], "test", str(media), json.dumps(d))
                     for cid, d in docs.items()])
    if before:
        store.put_results(_rows(before, time.time() - 60))
    cases = {(d["cell"], cid): Case.model_validate(d) for cid, d in docs.items()}
    prepared = PreparedCases(models, cases)
    writer = ResultWriter(store, on_stored=prepared.add)
    rows = _rows(models, time.time())
    for half in (rows[: len(rows) // 2], rows[len(rows) // 2:]):  # two commits, as a run makes several
        for row in half:
            writer.add(row)
        writer.flush()
    return store, prepared


def _reports(store: Store, prepared: PreparedCases, tmp_path: Path) -> tuple[dict[str, str], dict[str, str]]:
    with_views = build_report(store, tmp_path / "ahead", ahead=prepared)
    without = build_report(store, tmp_path / "plain")
    read = lambda files: {p.name: _STAMP.sub("", p.read_text()) for p in (files.markdown, files.html)}  # noqa: E731
    return read(with_views), read(without)


def test_views_made_ahead_give_the_same_report(tmp_path: Path) -> None:
    store, prepared = _store_with_views(tmp_path)
    ahead, plain = _reports(store, prepared, tmp_path)
    assert ahead == plain
    assert prepared.used == len(TEXT_ONLY) == len(prepared)  # the image case is the report's own
    assert "sk-xxxx" not in plain["report.html"]  # views hold what the store holds: redacted


def test_a_verdict_the_run_did_not_see_is_not_taken_from_a_view(tmp_path: Path) -> None:
    store, prepared = _store_with_views(tmp_path)
    store.put_judgement(cache_key="j1", result_key="alpha:tg3", judge="judge-model", judge_identity="{}",
                        template="default", verdict="good", rationale="the judge says so", raw=[], votes={})
    ahead, plain = _reports(store, prepared, tmp_path)
    assert ahead == plain and "the judge says so" in plain["report.md"]
    assert prepared.used == len(TEXT_ONLY) - 1


def test_another_model_s_result_in_the_store_is_not_in_a_view(tmp_path: Path) -> None:
    """A model the run did not send is listed too: no view of the run's has it."""
    store, prepared = _store_with_views(tmp_path, models=("alpha", "beta"), before=("gamma",))
    ahead, plain = _reports(store, prepared, tmp_path)
    assert ahead == plain and "gamma-served" in plain["report.html"]
    assert prepared.used == 0


def test_views_ahead_are_made_when_the_loop_is_idle_and_the_rest_at_the_end() -> None:
    """``cli.ahead``: a commit only queues its rows; a task makes views a few at a
    time while the event loop has nothing else to run; ``prepared`` makes what is
    left; past the inline limit, nothing is made."""
    cases = {(c[1], c[0]): Case.model_validate(_case_json(*c[:4])) for c in TEXT_ONLY}
    rows = [r for r in _rows(("alpha",), time.time()) if (r.cell, r.case_id) in cases] * 40

    async def commit_then_idle(ahead: ViewFeed) -> tuple[int, int]:
        ahead.add(rows)
        queued = len(ahead._waiting)
        await asyncio.sleep(0.1)  # nothing else on the loop: idle moments
        return queued, len(ahead._waiting)

    ahead = ViewFeed(["alpha"], cases, expected=len(cases), inline_limit=None)
    queued, left = asyncio.run(commit_then_idle(ahead))
    assert queued == len(rows) and left < len(rows) - PER_IDLE
    assert len(ahead.prepared) == len(cases) and not ahead._waiting
    over = ViewFeed(["alpha"], cases, expected=len(cases), inline_limit=len(cases) - 1)
    asyncio.run(commit_then_idle(over))
    assert over.prepared is None and not over._waiting


def test_a_run_s_own_report_is_the_report_of_its_store(latency_server: Any, qa_file: Any, tmp_path: Path) -> None:
    """`fourfold run` (views made while it ran) and `fourfold report` on the same store:
    the same bytes, apart from the time they were generated."""
    server = latency_server("--delay-ms", "5")
    data, db = qa_file(300), tmp_path / "r.db"
    fourfold("run", "--model", f"openai/latency-model@{server.base_url}", "--cases", str(data), "--cell",
             "text/generalizability", "--concurrency", "32", "--store", str(db), "--out", str(tmp_path / "run"),
             "--no-progress")
    fourfold("report", "--store", str(db), "--out", str(tmp_path / "report"))
    for name in ("report.md", "report.html"):
        ran, reported = ((tmp_path / d / name).read_text() for d in ("run", "report"))
        assert _STAMP.sub("", ran) == _STAMP.sub("", reported)
        assert ran.count("q-000") >= 300
