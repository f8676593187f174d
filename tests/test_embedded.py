"""The embedded model, for real: in process through `fourfold run`, and behind
llama-cpp-python's OpenAI-compatible server through the openai backend."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

import pytest

from conftest import fourfold, free_port, wait_http
from fourfold.models import embedded_model_path

pytestmark = pytest.mark.slow


def _rows(db):
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    return [dict(r) for r in con.execute("SELECT * FROM results")]


def test_embedded_model_end_to_end(tmp_path):
    out = tmp_path / "out"
    args = ["run", "--cells", "text/generalizability,code/generalizability,text/trustworthiness", "--limit", "2",
            "--max-tokens", "48", "--out", str(out), "--no-progress"]
    r = fourfold(*args)
    rows = _rows(out / "results.db")
    assert len(rows) == 6
    assert all(row["status"] == "ok" and row["response"].strip() for row in rows)
    assert all(row["verdict"] in ("good", "bad", "unclear") for row in rows)
    assert all(row["model"] == "smollm2" and row["completion_tokens"] > 0 for row in rows)
    ident = json.loads(rows[0]["model_identity"])
    assert ident["backend"] == "llamacpp" and len(ident["sha256"]) == 64
    html = (out / "report.html").read_text()
    md = (out / "report.md").read_text()
    for row in rows:
        assert row["case_id"] in md and row["case_id"] in html
    assert "smollm2" in r.stderr  # the summary table
    # resume: nothing is generated again
    again = fourfold(*args)
    assert "6 case(s) already in the store, not sent again" in again.stderr
    assert len(_rows(out / "results.db")) == 6
    scores = json.loads(fourfold("report", "--json", "--store", str(out / "results.db")).stdout)
    cell = scores["scores"]["smollm2"]["text/generalizability"]
    assert cell["n"] == 2 and cell["absolute"] is not None
    assert scores["scores"]["smollm2"]["image/generalizability"]["absolute"] is None


@pytest.fixture
def llama_server(tmp_path):
    port = free_port()
    log = open(tmp_path / "llama-server.log", "wb")  # a pipe nobody reads would fill up and stall the server
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(embedded_model_path()), "--host", "127.0.0.1",
         "--port", str(port), "--n_threads", "2", "--n_ctx", "2048", "--model_alias", "smollm2-served",
         "--interrupt_requests", "False"],
        stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_http(f"http://127.0.0.1:{port}/v1/models", timeout=120, proc=proc)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        proc.terminate()
        proc.wait(20)
        log.close()


def test_openai_backend_against_llama_cpp_server(llama_server, tmp_path):
    out = tmp_path / "out"
    fourfold("run", "--model", f"openai/smollm2-served@{llama_server}", "--cells", "text/causality,code/causality",
             "--limit", "2", "--concurrency", "2", "--max-tokens", "48", "--out", str(out), "--no-progress",
             env={"OPENAI_API_KEY": "sk-local-not-needed-123456"})
    rows = _rows(out / "results.db")
    assert len(rows) == 4
    assert all(row["status"] == "ok" and row["response"].strip() for row in rows), rows
    assert {row["served_model"] for row in rows} == {"smollm2-served"}
    assert all(row["verdict"] in ("good", "bad", "unclear") for row in rows)
