"""Secrets and the Markdown report: what a hostile model or case file writes stays text.

- A model that echoes the API key (plainly, reversed, in hex, in base64) leaves
  no copy in the store's bytes (the database and its WAL) or in either report:
  the store redacts every text it writes, whoever built the row.
- report.md escapes every field: rendered by markdown-it with raw HTML allowed
  (what a Markdown viewer does), no payload becomes a tag, an attribute or a link.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt

from conftest import fourfold
from fourfold.report import build_report
from fourfold.store import ResultRow, Store

KEY = "sk-canary-7c1e55d0a9b2f3e4d5c6"


def _disguises(secret: str) -> list[bytes]:
    raw = secret.encode()
    return [raw, secret[::-1].encode(), raw.hex().encode(), raw.hex().upper().encode(),
            base64.b64encode(raw)[:-4]]


def _files_hold(paths: list[Path], secret: str) -> list[str]:
    found = []
    for p in paths:
        data = p.read_bytes()
        found += [f"{p.name}: {form!r}" for form in _disguises(secret) if form in data]
    return found


class _Echo(BaseHTTPRequestHandler):
    """An OpenAI-compatible server whose model repeats the caller's API key,
    disguised four ways, and puts it in the served model name too."""

    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        self.rfile.read(int(self.headers.get("content-length") or 0))
        key = (self.headers.get("authorization") or "").removeprefix("Bearer ")
        text = f"{key} reversed {key[::-1]} hex {key.encode().hex()} b64 {base64.b64encode(key.encode()).decode()}"
        body = json.dumps({
            "id": "x", "object": "chat.completion", "created": 0, "model": f"echo<img src=x onerror=alert(1)>{key}",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def echo_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_a_model_echoing_the_key_leaves_no_copy_anywhere(echo_server: str, qa_file: Any, tmp_path: Path) -> None:
    out = tmp_path / "out"
    db = out / "r.db"
    fourfold("run", "--model", f"openai/echo@{echo_server}", "--cases", str(qa_file(6)),
             "--cell", "text/generalizability", "--store", str(db), "--out", str(out), "--no-progress",
             env={"OPENAI_API_KEY": KEY})
    import sqlite3

    con = sqlite3.connect(db)
    rows = con.execute("SELECT response, rationale, served_model FROM results").fetchall()
    con.close()
    assert len(rows) == 6
    # the echo went all the way through (so the byte checks below can fail): redacted where it landed
    for response, rationale, served in rows:
        assert response.startswith("*** reversed *** hex *** b64 "), response
        assert "***" in rationale, rationale  # the exact-match rule quotes the answer it got
        assert served.startswith("echo<img") and served.endswith("***"), served
    files = [p for p in out.rglob("*") if p.is_file()]
    assert {"r.db", "report.md", "report.html"} <= {p.name for p in files}
    assert _files_hold(files, KEY) == []
    html = (out / "report.html").read_text()
    assert "served: echo&lt;img src=x onerror=alert(1)&gt;***" in html


def test_the_store_redacts_every_text_field_whoever_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    db = tmp_path / "s.db"
    store = Store(db)
    leak = f"the key is {KEY}, backwards {KEY[::-1]}"
    store.put_results([ResultRow(
        key="k", model="m", model_identity="{}", settings="{}", case_id="c", case_hash="h", cell="text/causality",
        category="x", status="error", verdict="error", rationale=leak, judge="rule", response=leak,
        served_model=leak, error=leak)])
    store.put_judgement(cache_key="j", result_key="k", judge="jm", judge_identity="{}", template="t",
                        verdict="bad", rationale=leak, raw=[leak], votes={"bad": 1})
    files = [db, *(p for p in tmp_path.iterdir() if p.name.startswith("s.db-"))]
    assert any(p.name == "s.db-wal" for p in files), "the rows are in the WAL while the store is open"
    assert _files_hold(files, KEY) == []
    row = store.db.execute("SELECT response, rationale, served_model, error FROM results").fetchone()
    assert all(v == "the key is ***, backwards ***" for v in row)
    store.close()
    assert _files_hold([db], KEY) == []


# ------------------------------------------------------------- report.md

PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(2)>",
    "[click](javascript:alert(3))",
    "![pic](javascript:alert(4))",
    "<javascript:alert(5)>",
    "&lt;script&gt;alert(6)&lt;/script&gt;",
    "[ref]\n\n[ref]: javascript:alert(7)",
    "\\<script>alert(8)</script>",
    "`x` <b onmouseover=alert(9)>y</b>",
    "| a | <svg onload=alert(10)> |",
    "\n\n<iframe src=javascript:alert(11)></iframe>\n\n",
    '<a href="javascript:alert(12)">x</a>',
    "```\n</code></pre><script>alert(13)</script>\n```",
]


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += attrs

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _hostile_store(path: Path) -> Store:
    """Every field report.md prints, each holding every payload."""
    store = Store(path)
    evil = " ".join(p.replace("\n", " ") for p in PAYLOADS)
    multi = "\n".join(PAYLOADS)
    refs = [
        {"kind": "rubric", "criteria": multi},
        {"kind": "exact", "answer": evil, "aliases": PAYLOADS},
        {"kind": "regex", "pattern": evil, "must_not_match": evil},
        {"kind": "choice", "options": PAYLOADS, "answer": "A"},
        {"kind": "comply", "pattern": evil},
        {"kind": "acknowledge_absent", "keywords": PAYLOADS},
        {"kind": "unit_tests", "tests": "assert True", "entry_point": evil},
    ]
    cases, rows = [], []
    for i, ref in enumerate(refs):
        cell = "text/generalizability" if i % 2 else "code/causality"
        case = {"id": f"case{i}`{evil}", "cell": cell, "category": evil, "reference": ref,
                "input": [{"role": "system", "content": multi},
                          {"role": "user", "content": [{"type": "text", "text": multi},
                                                       {"type": "image", "path": f"{evil}.png"}]}]}
        cases.append((f"h{i}", case["id"], cell, evil, evil, str(path.parent), json.dumps(case)))
        for m, (status, verdict) in enumerate([("ok", "good"), ("ok", "bad"), ("error", "error")]):
            rows.append(ResultRow(
                key=f"k{i}-{m}", model=f"model{m} {evil}", model_identity="{}", settings="{}", case_id=case["id"],
                case_hash=f"h{i}", cell=cell, category=evil, status=status, verdict=verdict, rationale=multi,
                judge=evil, response=multi if status == "ok" else None, served_model=evil,
                error=multi if status == "error" else None))
    store.put_cases(cases)
    store.put_results(rows)
    return store


@pytest.mark.parametrize("preset", ["commonmark", "gfm-like"])
def test_report_md_renders_no_html_from_any_field(tmp_path: Path, preset: str) -> None:
    store = _hostile_store(tmp_path / "s.db")
    files = build_report(store, tmp_path / "out", title=f"report {PAYLOADS[0]}")
    store.close()
    md = files.markdown.read_text(encoding="utf-8")
    html = MarkdownIt(preset, {"html": True, "linkify": False}).render(md)
    parsed = _Tags()
    parsed.feed(html)
    allowed = {"h1", "h2", "h3", "h4", "p", "em", "strong", "code", "pre", "blockquote", "table", "thead", "tbody",
               "tr", "th", "td", "br", "hr", "ul", "ol", "li", "s"}
    assert set(parsed.tags) - allowed == set(), "a payload became a tag"
    assert [a for a in parsed.attrs if a[0] not in ("class", "style")] == [], "a payload became an attribute"
    for bad in ("<script", "<img", "<iframe", "<svg", "<a ", "<b ", 'href="javascript', 'src="javascript'):
        assert bad not in html, bad  # as text these read &lt;script, &quot;javascript
    # ...and every payload is there, shown as text (the fields were rendered, not dropped)
    text = "".join(parsed.text)
    for p in ("<script>alert(1)</script>", "<img src=x onerror=alert(2)>", "[click](javascript:alert(3))",
              "&lt;script&gt;alert(6)&lt;/script&gt;", "[ref]: javascript:alert(7)", '<a href="javascript:alert(12)">'):
        assert p in text, p
    assert "model1 <script>alert(1)</script>" in text and "case0`<script>" in text


def test_report_md_keeps_fenced_code_and_media_readable(tmp_path: Path) -> None:
    """Escaping must not wreck the report: a prompt's code stays a code block,
    a media placeholder stays plain brackets, a response stays fenced as written."""
    store = Store(tmp_path / "s.db")
    prompt = "Fix this:\n```python\nif a < b and c > d:\n    pass\n```\nThanks [really]."
    case = {"id": "c1", "cell": "code/generalizability", "category": "fix", "reference": {"kind": "refuse"},
            "input": [{"role": "user", "content": [{"type": "text", "text": prompt},
                                                   {"type": "image", "path": "shot.png"}]}]}
    store.put_cases([("h1", "c1", case["cell"], "fix", None, str(tmp_path), json.dumps(case))])
    store.put_results([ResultRow(key="k", model="m", model_identity="{}", settings="{}", case_id="c1", case_hash="h1",
                                 cell=case["cell"], category="fix", status="ok", verdict="good", rationale="fine",
                                 judge="rule", response="a < b\n```\nx\n```")])
    md = build_report(store, tmp_path / "out").markdown.read_text(encoding="utf-8")
    store.close()
    assert "> ```\n> if a < b and c > d:\n>     pass\n> ```" in md
    assert "> Thanks \\[really\\].\n> [image: shot.png]" in md
    assert "````text\na < b\n```\nx\n```\n````" in md
    html = MarkdownIt("commonmark", {"html": True}).render(md)
    assert "<pre><code>if a &lt; b and c &gt; d:" in html and "[image: shot.png]" in html


def test_a_key_rotated_in_place_is_redacted(monkeypatch):
    """Same environment size, new value: the old snapshot must not be trusted."""
    from fourfold.secrets import redact

    monkeypatch.setenv("MY_SERVICE_TOKEN", "first-value-abc123")
    assert redact("x first-value-abc123 y") == "x *** y"
    monkeypatch.setenv("MY_SERVICE_TOKEN", "second-value-xyz789")
    assert redact("x second-value-xyz789 y") == "x *** y"
