"""Every malformed reply from an OpenAI-compatible server costs one case, never
the run: each is stored as that case's ``error`` with a reason naming what was
wrong, and the run goes on and exits normally. Also the answer-size cap (a 50 MB
answer is cut, marked, and neither the run's memory nor the report grows with
it) and ``--retries`` (0 is one attempt).

All through the real CLI in its own process, against a real HTTP server on
loopback (tests/fixtures/malformed_reply_server.py) serving the broken bodies."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import fourfold, get_json, start_on_free_port

SERVER = Path(__file__).parent / "fixtures" / "malformed_reply_server.py"
sys.path.insert(0, str(SERVER.parent))
from malformed_reply_server import VARIANTS  # noqa: E402

#: variant -> what the stored error must say (the field, and what is wrong with it).
MALFORMED = {
    "content_int": "choices.0.message.content must be a string, a list of text parts or null, got integer",
    "content_dict": "choices.0.message.content must be a string, a list of text parts or null, got object",
    "content_list_of_ints": "choices.0.message.content part 0 must be a text part",
    "content_part_image": "choices.0.message.content part 0 must be a text part {\"type\": \"text\", \"text\": ...}, "
                          "got type 'image_url'",
    "content_part_text_int": "choices.0.message.content part 0.text must be a string (got integer)",
    "message_str": "choices.0.message must be a JSON object (got string)",
    "usage_str": "usage must be a JSON object (got string)",
    "usage_tokens_str": "usage.prompt_tokens must be an integer (got string)",
    "usage_tokens_negative": "usage.prompt_tokens must not be negative",
    "model_dict": "model must be a string (got object)",
    "refusal_int": "choices.0.message.refusal must be a string (got integer)",
    "finish_reason_int": "choices.0.finish_reason must be a string (got integer)",
    "choices_missing": "choices is missing",
    "choices_empty": "choices must not be empty",
    "choices_dict": "choices must be a JSON array (got object)",
    "not_json": "the body is not JSON",
    "json_array": "the body must be a JSON object (got array)",
    "json_cut": "the body is not JSON",
    "deep_nesting": "the body is not JSON (recursion limit exceeded",
    "empty_body": "the body is not JSON",
}
VALID = ("ok", "content_text_parts")
HUGE = ("huge_content", "huge_content_chunked")


class Server:
    def __init__(self, proc: subprocess.Popen, port: int):
        self.proc, self.port = proc, port
        self.base_url = f"http://127.0.0.1:{port}/v1"

    def stats(self) -> dict[str, int]:
        return get_json(f"http://127.0.0.1:{self.port}/stats")


@pytest.fixture
def server() -> Iterator[Server]:
    proc, port = start_on_free_port(lambda port: [sys.executable, str(SERVER), "--port", str(port)], "/health",
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield Server(proc, port)
    finally:
        proc.terminate()
        proc.wait(10)


def _cases(path: Path, variants: list[str]) -> Path:
    path.write_text("".join(json.dumps({
        "id": v, "cell": "text/generalizability", "category": "math",
        "input": f"variant: {v}. What is 2+2? End with 'Answer: <n>'.",
        "reference": {"kind": "numeric", "answer": 4}}) + "\n" for v in variants))
    return path


def _rows(db: Path) -> dict[str, dict]:
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    try:
        return {r["case_id"]: dict(r) for r in con.execute("SELECT * FROM results")}
    finally:
        con.close()


def _run_measured(args: list[str]) -> tuple[subprocess.CompletedProcess, int]:
    """``fourfold ARGS`` in its own process, and that process's peak RSS in bytes
    (measured by a parent of its own, so no other test's child counts)."""
    probe = ("import resource, subprocess, sys\n"
             "p = subprocess.run([sys.executable, '-m', 'fourfold.cli', *sys.argv[1:]])\n"
             "sys.stderr.write(f'\\nMAXRSS_KB={resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}\\n')\n"
             "sys.exit(p.returncode)\n")
    r = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, timeout=600)
    rss_kb = int(r.stderr.rsplit("MAXRSS_KB=", 1)[1].split()[0])
    return r, rss_kb * 1024


def test_every_variant_is_named_in_this_test():
    assert set(VARIANTS) == set(MALFORMED) | set(VALID), "a variant of the server that no test checks"


def test_malformed_replies_are_errors_for_their_case_and_the_run_goes_on(server: Server, tmp_path: Path):
    variants = [*VALID, *MALFORMED, *HUGE]
    out = tmp_path / "out"
    db = out / "results.db"
    r, peak = _run_measured(["run", "--model", f"openai/canned@{server.base_url}",
                             "--cases", str(_cases(tmp_path / "c.jsonl", variants)), "--store", str(db),
                             "--out", str(out), "--no-progress", "--concurrency", "4"])
    assert r.returncode == 0, r.stderr[-3000:]
    assert "Traceback" not in r.stderr
    rows = _rows(db)
    assert set(rows) == set(variants), "every case is stored"
    for v in VALID:
        row = rows[v]
        assert (row["status"], row["verdict"], row["response"]) == ("ok", "good", "Answer: 4"), row
        assert row["served_model"] == "canned-model" and row["prompt_tokens"] == 5
    for v, reason in MALFORMED.items():
        row = rows[v]
        assert row["status"] == "error" and row["verdict"] == "error", (v, row["status"])
        assert reason in row["error"], (v, row["error"])
        assert row["error"].startswith("malformed reply from server: "), (v, row["error"])
        assert row["attempts"] == 1, f"{v}: a malformed reply is not retried within the run"
    stats = server.stats()
    assert all(stats[v] == 1 for v in MALFORMED), stats

    # a 50 MB answer: stored cut at the default cap, marked, and nothing else grew with it
    for v in HUGE:
        row = rows[v]
        assert row["status"] == "ok", (v, row["error"])
        text = row["response"]
        assert text.startswith("Answer: 4\nblah blah")
        body, mark = text[:100_000], text[100_000:]
        assert "truncated by fourfold" not in body
        assert mark == "\n[... truncated by fourfold: the reply was over 1,048,576 bytes; read no further]", mark
    assert db.stat().st_size < 4_000_000
    assert (out / "report.html").stat().st_size < 4_000_000
    assert (out / "report.md").stat().st_size < 4_000_000
    assert peak < 400 * 2**20, f"peak RSS {peak / 2**20:.0f} MB: the answer was held whole somewhere"


def test_max_answer_chars_cuts_and_marks(server: Server, tmp_path: Path):
    out = tmp_path / "out"
    fourfold("run", "--model", f"openai/canned@{server.base_url}", "--max-answer-chars", "20",
             "--cases", str(_cases(tmp_path / "c.jsonl", ["ok", "huge_content"])), "--store", str(out / "r.db"),
             "--out", str(out), "--no-progress")
    rows = _rows(out / "r.db")
    assert rows["ok"]["response"] == "Answer: 4", "an answer under the cap is stored as it is"
    assert rows["huge_content"]["response"] == ("Answer: 4\nblah blah \n[... truncated by fourfold: "
                                                "the reply was over 1,048,576 bytes; read no further]")
    # under the byte cap, the mark says how long the answer was
    text = "Answer: 4 " + "x" * 40
    replay = tmp_path / "replay.jsonl"
    replay.write_text(json.dumps({"id": "ok", "response": text}) + "\n")
    fourfold("run", "--model", f"replay/{replay}", "--max-answer-chars", "12",
             "--cases", str(_cases(tmp_path / "c2.jsonl", ["ok"])), "--store", str(out / "r2.db"),
             "--out", str(out / "2"), "--no-progress")
    row = _rows(out / "r2.db")["ok"]
    assert row["response"] == "Answer: 4 xx\n[... truncated by fourfold: 50 characters in all]"
    assert row["verdict"] == "good", "the judge sees the answer without the mark"
    bad = fourfold("run", "--max-answer-chars", "0", check=False)
    assert bad.returncode == 2 and "--max-answer-chars must be at least 1" in bad.stderr


@pytest.mark.parametrize(("retries", "requests"), [(0, 1), (2, 3)])
def test_retries_counts_retries_after_one_attempt(server: Server, tmp_path: Path, retries: int, requests: int):
    out = tmp_path / "out"
    fourfold("run", "--model", f"openai/canned@{server.base_url}", "--retries", str(retries),
             "--cases", str(_cases(tmp_path / "c.jsonl", ["http_500"])), "--store", str(out / "r.db"),
             "--out", str(out), "--no-progress")
    assert server.stats()["http_500"] == requests
    row = _rows(out / "r.db")["http_500"]
    assert row["status"] == "error" and row["attempts"] == requests
    what = "1 attempt" if requests == 1 else f"{requests} attempts"
    assert row["error"] == f"failed after {what}: HTTP 500: canned http_500"


def test_negative_retries_is_a_usage_error():
    r = fourfold("run", "--retries", "-1", check=False)
    assert r.returncode == 2 and "--retries must be 0 or more" in r.stderr
