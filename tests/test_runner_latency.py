"""The runner against the bench's fixed-latency server: resume after kill -9,
faults, secrets. Real server, real store, the CLI in its own process."""

from __future__ import annotations

import signal
import sqlite3
import time
from pathlib import Path

from conftest import fourfold, fourfold_popen


def _count(db: Path, status: str | None = None) -> int:
    if not db.exists():
        return 0
    con = sqlite3.connect(db)
    try:
        q = "SELECT COUNT(*) FROM results" + (" WHERE status=?" if status else "")
        return con.execute(q, (status,) if status else ()).fetchone()[0]
    except sqlite3.OperationalError:
        return 0
    finally:
        con.close()


def test_resume_after_sigkill_sends_each_case_once(latency_server, qa_file, tmp_path):
    n, concurrency, delay_ms = 600, 16, 200
    server = latency_server("--delay-ms", str(delay_ms))
    data = qa_file(n)
    db = tmp_path / "r.db"
    args = ["run", "--model", f"openai/latency-model@{server.base_url}", "--cases", str(data),
            "--cell", "text/generalizability", "--concurrency", str(concurrency), "--store", str(db),
            "--out", str(tmp_path / "out"), "--no-progress"]
    proc = fourfold_popen(*args)
    deadline = time.monotonic() + 60
    while _count(db) < 150 and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    sent_first = server.settled_total()  # every request the killed run sent, none still on its way
    stored = _count(db)
    assert 150 <= stored < n, "the kill must land mid-run"
    # Counts, not clock time: the server saw at most --concurrency requests at once, and what a kill -9 loses
    # is what was in flight plus what finished since the last flush (flushes are 50 ms apart on an idle
    # machine; 100 ms of completions is 8 here). The bound is five times that sum: a busy shared machine delays the flush, not
    # the promise that results are written while the run goes (losing 150 or more would be a broken writer).
    assert server.stats()["max_inflight"] <= concurrency
    per_flush = concurrency * 100 / delay_ms
    assert sent_first - stored <= 5 * (concurrency + per_flush), (sent_first, stored)

    second = fourfold(*args)
    assert "Traceback" not in second.stderr
    sent_second = server.stats()["requests_total"]
    assert sent_second - sent_first == n - stored, "finished cases must not be sent again"
    assert _count(db, "ok") == n

    fourfold(*args)
    assert server.stats()["requests_total"] == sent_second, "a third run sends nothing"


def test_faults_every_case_completes(latency_server, qa_file, tmp_path):
    n = 300
    server = latency_server("--delay-ms", "20", "--fail-rate", "0.2")
    db = tmp_path / "r.db"
    r = fourfold("run", "--model", f"openai/latency-model@{server.base_url}", "--cases", str(qa_file(n)),
                 "--cell", "text/generalizability", "--concurrency", "32", "--store", str(db),
                 "--out", str(tmp_path / "out"), "--no-progress")
    stats = server.stats()
    assert stats["injected_429"] + stats["injected_500"] > 20, "the fault injection must have fired"
    con = sqlite3.connect(db)
    rows = con.execute("SELECT status, verdict, attempts FROM results").fetchall()
    assert len(rows) == n
    assert all(s == "ok" and v == "good" for s, v, _ in rows), "every prompt arrives intact and is judged right"
    assert max(a for *_, a in rows) > 1, "some cases needed retries"
    assert "failed after retries" not in r.stderr


def test_max_inflight_rejections_are_retried(latency_server, qa_file, tmp_path):
    server = latency_server("--delay-ms", "50", "--max-inflight", "4")
    db = tmp_path / "r.db"
    fourfold("run", "--model", f"openai/latency-model@{server.base_url}", "--cases", str(qa_file(60)),
             "--cell", "text/generalizability", "--concurrency", "12", "--store", str(db),
             "--out", str(tmp_path / "out"), "--no-progress")
    assert server.stats()["rejected_overload"] > 0
    assert _count(db, "ok") == 60


def test_api_key_never_reaches_store_or_report(latency_server, qa_file, tmp_path):
    secret = "sk-fourfold-test-4f9a8b7c6d5e"
    server = latency_server("--delay-ms", "5")
    out = tmp_path / "out"
    fourfold("run", "--model", f"openai/latency-model@{server.base_url}", "--cases", str(qa_file(20)),
             "--cell", "text/generalizability", "--store", str(out / "r.db"), "--out", str(out), "--no-progress",
             env={"OPENAI_API_KEY": secret})
    files = [p for p in out.rglob("*") if p.is_file()]
    assert any(p.name == "report.html" for p in files)
    for p in files:
        assert secret.encode() not in p.read_bytes(), p
