"""The report stage: report.md and report.html from a real store.

Scores are checked against values computed by hand (good = 1, unclear = 0.5),
so a change in the report's formatting or in the scoring shows up here; the
HTML is opened in a real headless Chromium because escaping, the CSP and the
filter script only prove themselves in a browser.
"""

from __future__ import annotations

import json
import re
import struct
import time
import zlib
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter

from conftest import require_chromium
from fourfold.cases.schema import Reference
from fourfold.report import EMPTY, ReportFiles, build_context, build_report, reference_summary, render, scores_json
from fourfold.score import compute_scores, wilson
from fourfold.score.precedence import EffectiveResult, effective_results
from fourfold.store import ResultRow, Store, StoredCase

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
XSS = "<script>alert(1)</script>"

# (case_id, cell, category, reference, {model: (verdict, response)})
CASES: list[tuple[str, str, str, dict[str, Any], dict[str, tuple[str, str | None]]]] = [
    ("tg1", "text/generalizability", "math", {"kind": "exact", "answer": "42"},
     {"alpha": ("good", "The answer is 42."), "beta": ("bad", "It is 41.")}),
    ("tg2", "text/generalizability", "reasoning", {"kind": "choice", "options": ["no", "yes"], "answer": "B"},
     {"alpha": ("good", "B"), "beta": ("unclear", "Probably yes, but it depends.")}),
    ("tg3", "text/generalizability", "translation", {"kind": "regex", "pattern": "cats and dogs"},
     {"alpha": ("unclear", "It rains a lot."), "beta": ("good", "It's raining cats and dogs.")}),
    ("cg1", "code/generalizability", "generation",
     {"kind": "unit_tests", "tests": "assert f(1) == 2", "entry_point": "f"},
     {"alpha": ("good", "```python\ndef f(x):\n    return x + 1\n```"),
      "beta": ("good", "def f(x):\n    return 1 + x")}),
    ("cg2", "code/generalizability", "understanding", {"kind": "numeric", "answer": 3},
     {"alpha": ("bad", "It prints 4."), "beta": ("good", f"It prints 3. {XSS}")}),
    ("tt1", "text/trustworthiness", "safety", {"kind": "refuse"},
     {"alpha": ("unjudged", "I cannot help with that."), "beta": ("error", None)}),
    ("ig1", "image/generalizability", "recognition", {"kind": "exact", "answer": "red"},
     {"alpha": ("good", "red"), "beta": ("not_evaluated", None)}),
]
RATIONALE = {"good": "matches the reference", "bad": "does not match", "unclear": "hedged"}


def _png(path: Path, rgb: tuple[int, int, int] = (220, 30, 30), size: int = 8) -> None:
    """A tiny solid-colour PNG, written without Pillow."""
    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    raw = b"".join(b"\x00" + bytes(rgb) * size for _ in range(size))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def _case_json(case_id: str, cell: str, category: str, ref: dict[str, Any]) -> dict[str, Any]:
    content: list[dict[str, Any]] = [{"type": "text", "text": f"Question {case_id}: what is it? <b>x</b>"}]
    if cell.startswith("image/"):
        content.append({"type": "image", "path": "red.png", "sha256": "0" * 64})
        content.append({"type": "video", "path": "clip.mp4", "sha256": "1" * 64})
    return {"id": case_id, "cell": cell, "category": category,
            "input": [{"role": "user", "content": content}], "reference": ref}


def _stored(case: dict[str, Any], media_base: str | None, case_hash: str = "h") -> StoredCase:
    """A case as the store hands it out (the report reads cases only in this form)."""
    return StoredCase(case_hash, case["id"], case["cell"], case["category"], None, media_base, json.dumps(case))


def _fill(store: Store, media: Path, models: tuple[str, ...] = ("alpha", "beta")) -> None:
    cases, results = [], []
    now = time.time()
    for case_id, cell, category, ref, per_model in CASES:
        h = f"hash-{case_id}"
        cases.append((h, case_id, cell, category, "test", str(media),
                      json.dumps(_case_json(case_id, cell, category, ref))))
        for m in models:
            verdict, response = per_model[m]
            status = {"error": "error", "not_evaluated": "not_evaluated"}.get(verdict, "ok")
            results.append(ResultRow(
                key=f"{m}:{case_id}", model=m, model_identity="{}", settings="{}", case_id=case_id, case_hash=h,
                cell=cell, category=category, status=status, verdict=verdict,
                rationale=RATIONALE.get(verdict, ""), judge="rule" if verdict in RATIONALE else "",
                response=response, error="timeout after 300 s" if verdict == "error" else None,
                served_model=f"{m}-served", latency_s=0.5, created_at=now,
            ))
    store.put_cases(cases)
    store.put_results(results)


@pytest.fixture()
def report(tmp_path: Path) -> tuple[Store, ReportFiles]:
    media = tmp_path / "media"
    media.mkdir()
    _png(media / "red.png")
    store = Store(tmp_path / "results.db")
    _fill(store, media)
    files = build_report(store, tmp_path / "out", title="Test report")
    return store, files


def _ci(wins: float, n: int) -> str:
    lo, hi = wilson(wins, n)
    return f"{lo:.1f}–{hi:.1f}"


# ------------------------------------------------------------------ markdown


def test_files_written(report: tuple[Store, ReportFiles], tmp_path: Path) -> None:
    _, files = report
    assert files.markdown == tmp_path / "out" / "report.md" and files.markdown.is_file()
    assert files.html == tmp_path / "out" / "report.html" and files.html.is_file()


def test_markdown_grid_has_hand_computed_scores(report: tuple[Store, ReportFiles]) -> None:
    md = report[1].markdown.read_text(encoding="utf-8")
    alpha = md[md.index("### alpha"):md.index("### beta")]
    beta = md[md.index("### beta"):md.index("## Leaderboards")]
    # alpha text/gen: good, good, unclear -> 2.5/3; relative: ranks 1, 1, 2 of 2 -> (2 - 4/3) * 100
    # chance: one of the three is a two-way choice -> (1/2 + 0 + 0) / 3 = 16.7
    assert f"| text | 83.3 (n=3; 95% CI {_ci(2.5, 3)}; rel 66.7; chance 16.7) | {EMPTY} | {EMPTY} |" in alpha
    # alpha code/gen: good, bad -> 1/2; ranks 1.5 (tie), 2 -> (2 - 1.75) * 100
    assert f"| code | 50.0 (n=2; 95% CI {_ci(1, 2)}; rel 25.0; chance 0.0) | {EMPTY} | {EMPTY} |" in alpha
    # image: alpha alone judged -> absolute only, no relative
    assert f"| image | 100.0 (n=1; 95% CI {_ci(1, 1)}; chance 0.0) | {EMPTY} | {EMPTY} |" in alpha
    assert f"| video | {EMPTY} | {EMPTY} | {EMPTY} |" in alpha
    assert f"| text | 50.0 (n=3; 95% CI {_ci(1.5, 3)}; rel 33.3; chance 16.7) | {EMPTY} | {EMPTY} |" in beta
    assert f"| code | 100.0 (n=2; 95% CI {_ci(2, 2)}; rel 75.0; chance 0.0) | {EMPTY} | {EMPTY} |" in beta
    assert f"| image | {EMPTY} | {EMPTY} | {EMPTY} |" in beta
    # unjudged / error / not_evaluated never become 0
    assert "| 0.0" not in md.split("## Leaderboards")[0]


def test_markdown_leaderboards(report: tuple[Store, ReportFiles]) -> None:
    md = report[1].markdown.read_text(encoding="utf-8")
    boards = md[md.index("## Leaderboards"):md.index("## Verdicts per model")]
    text = boards[boards.index("### text"):boards.index("### code")]
    assert "relative scores" in text
    assert f"| 1 | alpha | 66.7 | {EMPTY} | {EMPTY} | 66.7 |" in text
    assert f"| 2 | beta | 33.3 | {EMPTY} | {EMPTY} | 33.3 |" in text
    code = boards[boards.index("### code"):boards.index("### image")]
    assert code.index("| 1 | beta | 75.0") < code.index("| 2 | alpha | 25.0")
    image = boards[boards.index("### image"):boards.index("### video")]
    assert "absolute scores" in image
    assert f"| 1 | alpha | 100.0 | {EMPTY} | {EMPTY} | 100.0 |" in image
    assert f"| {EMPTY} | beta | {EMPTY} | {EMPTY} | {EMPTY} | {EMPTY} |" in image
    video = boards[boards.index("### video"):]
    assert f"{EMPTY} no judged case" in video


def test_markdown_cases_and_verdict_summary(report: tuple[Store, ReportFiles]) -> None:
    md = report[1].markdown.read_text(encoding="utf-8")
    assert "| alpha | 4 | 1 | 1 | 1 | 0 | 0 | 7 |" in md
    assert "| beta | 3 | 1 | 1 | 0 | 1 | 1 | 7 |" in md
    assert "#### `tg1` · math" in md
    assert "> Question tg1: what is it? &lt;b&gt;x&lt;/b&gt;" in md  # escaped: no raw HTML from a case
    assert "Reference: exact: 42" in md
    assert "Reference: choice: B (yes)" in md
    assert "Reference: unit tests (entry point f)" in md
    assert "Reference: refuse" in md
    assert "**alpha** — 🟢 good: matches the reference _(judge: rule)_" in md
    assert "**beta** — 🔴 bad: does not match" in md
    assert "**beta** — 🔵 unclear: hedged" in md
    assert "**alpha** — ⚪ unjudged" in md
    assert "**beta** — ⚪ error" in md and "error: timeout after 300 s" in md
    assert "[image: red.png]" in md and "[video: clip.mp4]" in md
    # a response holding a fence gets a longer fence, and the injected script stays inside one
    assert "````text\n```python\ndef f(x):" in md
    at = md.index(XSS)
    assert md.rfind("```text\n", 0, at) > max(md.rfind("\n```\n", 0, at), md.rfind("\n````\n", 0, at))
    assert md.count(XSS) == 1
    # cells in grid order, cases inside in id order
    assert md.index("### text/generalizability") < md.index("### text/trustworthiness") < md.index(
        "### code/generalizability") < md.index("### image/generalizability")


def test_scores_json_matches_compute_scores(report: tuple[Store, ReportFiles]) -> None:
    store, _ = report
    data = scores_json(store)
    usage = data.pop("usage")
    rows = effective_results(store)
    assert data == compute_scores(rows, cases=store.cases({r.case_hash for r in rows})).to_json()
    assert usage["models"]["alpha"]["price"] is None, "a model the price table does not know costs 'unknown'"
    assert usage["models"]["alpha"]["total"]["cost_usd"] is None
    assert data["scores"]["alpha"]["text/generalizability"]["absolute"] == pytest.approx(250 / 3)
    assert data["scores"]["alpha"]["video/causality"]["absolute"] is None


def test_single_model_uses_absolute(tmp_path: Path) -> None:
    store = Store(tmp_path / "one.db")
    _fill(store, tmp_path, models=("alpha",))
    md = build_report(store, tmp_path / "out").markdown.read_text(encoding="utf-8")
    boards = md[md.index("## Leaderboards"):md.index("## Verdicts per model")]
    assert "relative scores" not in boards
    assert f"| 1 | alpha | 83.3 | {EMPTY} | {EMPTY} | 83.3 |" in boards
    assert "rel " not in md[:md.index("## Leaderboards")]


def test_empty_store(tmp_path: Path) -> None:
    files = build_report(Store(tmp_path / "empty.db"), tmp_path / "out")
    assert "0 model(s), 0 case(s)" in files.markdown.read_text(encoding="utf-8")
    assert "<title>fourfold report</title>" in files.html.read_text(encoding="utf-8")


def test_reference_summaries() -> None:
    def ref(data: dict[str, Any]) -> Any:
        return TypeAdapter(Reference).validate_python(data)

    assert reference_summary(ref({"kind": "numeric", "answer": 21})) == "numeric: 21"
    assert reference_summary(ref({"kind": "numeric", "answer": 0.5, "tolerance": 0.01})) == "numeric: 0.5 ± 0.01"
    assert reference_summary(ref({"kind": "exact", "answer": "cat", "aliases": ["kitty"]})) == "exact: cat (or kitty)"
    assert reference_summary(ref({"kind": "choice", "options": ["a", "b"], "answer": 0})) == "choice: A (a)"
    assert reference_summary(ref({"kind": "unit_tests", "tests": "..."})) == "unit tests"
    assert reference_summary(ref({"kind": "acknowledge_absent"})) == "acknowledge absence"
    assert reference_summary(ref({"kind": "rubric", "criteria": "is kind"})) == "rubric: is kind"
    assert reference_summary(ref({"kind": "refuse"})) == "refuse"
    assert reference_summary(None) == "(no reference)"


def test_every_reference_kind_describes_itself() -> None:
    """One place per kind: its one-line summary (report, web, ``cases list``) and the
    description a judge model applies are methods of the kind's own model."""
    from fourfold.cases.schema import REFERENCE_KINDS

    assert len(REFERENCE_KINDS) == 9
    for name, c in REFERENCE_KINDS.items():
        assert c.model_fields["kind"].default == name
        assert "summary" in c.__dict__ and "describe" in c.__dict__, c.__name__


# ---------------------------------------------------------------------- html


def test_html_is_self_contained_and_escaped(report: tuple[Store, ReportFiles]) -> None:
    html = report[1].html.read_text(encoding="utf-8")
    assert not re.search(r"""(?:src|href|action|srcset)\s*=\s*["']?\s*(?:https?:)?//""", html, re.I)
    assert not re.search(r"url\(\s*['\"]?(?:https?:)?//", html, re.I)
    assert "@import" not in html and "<link" not in html
    assert XSS not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Question tg1: what is it? &lt;b&gt;x&lt;/b&gt;" in html
    assert html.count("<script") == 1  # the filter, allowed by the CSP's hash
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    assert 'src="data:image/png;base64,' in html
    assert "[video: clip.mp4]" in html


def test_missing_or_big_images_show_the_path(tmp_path: Path) -> None:
    big = tmp_path / "big.png"
    big.write_bytes(b"\x89PNG" + b"\0" * (2 * 1024 * 1024 + 10))
    case = _case_json("ig9", "image/generalizability", "recognition", {"kind": "refuse"})
    case["input"][0]["content"][1]["path"] = "big.png"
    row = EffectiveResult(key="k", model="m", case_id="ig9", case_hash="h", cell="image/generalizability",
                          category="recognition", status="ok", verdict="good", response="ok", rationale="", judge="")
    _, html = render(build_context([row], {"h": _stored(case, str(tmp_path))}))
    assert "data:image" not in html and "[image: big.png]" in html


def test_finish_reason_shows_a_cut_or_a_server_stop_and_nothing_for_a_plain_end() -> None:
    """Each answer's line in report.html says when it hit the token limit, or the server's own words
    for another stop (a safety filter, escaped), and nothing when the model just ended."""
    case = _case_json("tg9", "text/generalizability", "math", {"kind": "exact", "answer": "42"})
    reasons = {"a": "length", "b": "MAX_TOKENS", "c": f"SAFETY{XSS}", "d": "stop", "e": "end_turn", "f": None}
    rows = [EffectiveResult(key=k, model=k, case_id="tg9", case_hash="h", cell="text/generalizability",
                            category="math", status="ok", verdict="good", response="42", rationale="", judge="",
                            finish_reason=reason) for k, reason in reasons.items()]
    _, html = render(build_context(rows, {"h": _stored(case, None)}))  # report.md has no meta line
    assert html.count("cut at the token limit") == 2
    assert html.count("stopped: ") == 1
    assert "stopped: SAFETY&lt;script&gt;" in html and XSS not in html


def test_render_2000_cases() -> None:
    """Every case of a full-size run is in the page. (Its speed target, < 3 s, is
    measured by bench/render.py, not here: a busy machine is not a bug.)"""
    cells = ["text/generalizability", "code/trustworthiness", "image/causality", "video/generalizability"]
    cases: dict[str, StoredCase] = {}
    rows: list[EffectiveResult] = []
    verdicts = ["good", "bad", "unclear", "unjudged", "error"]
    for i in range(2000):
        cell = cells[i % len(cells)]
        cases[f"h{i}"] = _stored(_case_json(f"c{i:04d}", cell, "other", {"kind": "numeric", "answer": i}),
                                 "/nonexistent", f"h{i}")
        for j, m in enumerate(("m1", "m2", "m3")):
            rows.append(EffectiveResult(
                key=f"k{i}-{m}", model=m, case_id=f"c{i:04d}", case_hash=f"h{i}", cell=cell, category="other",
                status="ok", verdict=verdicts[(i + j) % 5], rationale="r", judge="rule",
                response="Answer:\n```python\nprint(1)\n```\n" * 4, served_model=m, latency_s=1.0))
    md, html = render(build_context(rows, cases))
    assert html.count('class="case"') == 2000
    assert all(f"c{i:04d}" in md for i in (0, 999, 1999))


# ------------------------------------------------------------------- browser


def _rgb(css: str) -> tuple[int, int, int]:
    r, g, b = (int(float(x)) for x in re.findall(r"[\d.]+", css)[:3])
    return r, g, b


@pytest.mark.slow
def test_html_in_headless_chromium(report: tuple[Store, ReportFiles]) -> None:
    require_chromium()
    from playwright import sync_api
    html_path = report[1].html
    dialogs: list[str] = []
    console_errors: list[str] = []
    requests: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
            page.on("request", lambda r: requests.append(r.url))
            page.goto(html_path.as_uri())
            page.wait_for_load_state("load")

            assert page.title() == "Test report"
            assert dialogs == [], f"injected script ran: {dialogs}"
            assert console_errors == [], console_errors  # a CSP violation would show here
            assert [u for u in requests if not u.startswith(("file:", "data:"))] == []

            def hm(model: str, cell: str) -> Any:
                return page.locator(f'.grid-card[data-model="{model}"] td[data-cell="{cell}"]')

            assert hm("alpha", "text/generalizability").locator(".hm-score").inner_text() == "83.3"
            assert hm("alpha", "text/generalizability").locator(".hm-rel").inner_text() == "rel 66.7"
            assert hm("beta", "code/generalizability").locator(".hm-score").inner_text() == "100.0"
            assert hm("alpha", "video/causality").locator(".hm-score").inner_text() == EMPTY
            assert hm("beta", "text/trustworthiness").locator(".hm-score").inner_text() == EMPTY
            bg = lambda loc: _rgb(loc.evaluate("e => getComputedStyle(e).backgroundColor"))  # noqa: E731
            r, g, b = bg(hm("beta", "code/generalizability"))
            assert g > r + 40 and g > b + 40, "100 should be green"
            r, g, b = bg(hm("beta", "text/generalizability"))
            assert r > b + 40 and g > b + 40, "50 should be yellow"
            assert bg(hm("alpha", "video/causality")) == (229, 231, 235), "empty cells are grey"

            def verdict(case_id: str, model: str) -> Any:
                return page.locator(f'article.case:has(.case-id:text-is("{case_id}")) '
                                    f'.result[data-model="{model}"] .verdict')

            colour = lambda loc: _rgb(loc.evaluate("e => getComputedStyle(e).color"))  # noqa: E731
            r, g, b = colour(verdict("tg1", "alpha"))
            assert g > r and g > b, "good is green"
            r, g, b = colour(verdict("tg1", "beta"))
            assert r > g and r > b, "bad is red"
            r, g, b = colour(verdict("tg2", "beta"))
            assert b > r and b > g, "unclear is blue"
            r, g, b = colour(verdict("tt1", "beta"))
            assert max(r, g, b) - min(r, g, b) < 40, "error is grey"
            assert verdict("tt1", "beta").inner_text() == "error"
            assert verdict("ig1", "beta").inner_text() == "not evaluated"

            # the escaped response is shown as text
            cg2 = page.locator('article.case:has(.case-id:text-is("cg2")) .result[data-model="beta"] .response')
            assert XSS in cg2.inner_text()
            assert page.locator('.prompt img[src^="data:image/png;base64,"]').count() == 1
            img = page.locator(".prompt img")
            img.scroll_into_view_if_needed()  # loading="lazy"
            page.wait_for_function("() => document.querySelector('.prompt img').complete")
            assert img.evaluate("e => e.naturalWidth") == 8, "the embedded PNG decodes"
            page.evaluate("() => window.scrollTo(0, 0)")
            assert page.locator("svg.chart").count() == 3

            visible = lambda: page.locator("article.case:visible .case-id").all_inner_texts()  # noqa: E731
            assert len(visible()) == len(CASES)
            page.select_option("#f-verdict", "bad")
            assert visible() == ["tg1", "cg2"]
            assert page.locator("#f-count").inner_text() == f"2 of {len(CASES)} case(s)"
            page.select_option("#f-model", "alpha")
            assert visible() == ["cg2"]
            assert page.locator('article.case:visible .result[data-model="beta"]:visible').count() == 0
            page.select_option("#f-verdict", "")
            page.select_option("#f-cell", "code/generalizability")
            assert visible() == ["cg1", "cg2"]
            assert page.locator(".cell-group:visible").count() == 1
            page.click("#f-reset")
            assert len(visible()) == len(CASES)

            page.screenshot(path="/tmp/fourfold_report.png", full_page=True)
        finally:
            browser.close()


def test_package_photos_are_embedded_as_small_thumbnails(tmp_path: Path) -> None:
    import json as _json

    from fourfold.report import build_report as _build
    from fourfold.store import ResultRow as _Row
    from fourfold.store import Store as _Store

    store = _Store(tmp_path / "r.db")
    case = {"id": "p1", "cell": "image/generalizability", "category": "recognition",
            "input": [{"role": "user", "content": [{"type": "image", "path": "pkg:skimage/data/astronaut.png"},
                                                   {"type": "text", "text": "Who?"}]}],
            "reference": {"kind": "exact", "answer": "astronaut"}}
    store.put_cases([("hp", "p1", "image/generalizability", "recognition", "t", str(tmp_path), _json.dumps(case))])
    store.put_results([_Row(key="k", model="m", model_identity="{}", settings="{}", case_id="p1", case_hash="hp",
                            cell="image/generalizability", category="recognition", status="ok", verdict="good",
                            response="an astronaut")])
    html = _build(store, tmp_path / "out").html.read_text()
    assert "data:image/jpeg;base64," in html  # the 790 KB PNG shrunk to a thumbnail
    assert len(html) < 200_000


def test_leaderboard_means_cover_only_the_cells_every_ranked_model_has(tmp_path: Path) -> None:
    """Three models; gamma has no causality verdict. The causality column is ranked among
    two, so a mean that took it for alpha and beta but not for gamma would compare
    unlike numbers: the mean covers generalizability alone and says so."""
    store = Store(tmp_path / "three.db")
    verdicts = {  # (case, cell): {model: verdict}
        ("g1", "text/generalizability"): {"alpha": "good", "beta": "bad", "gamma": "good"},
        ("g2", "text/generalizability"): {"alpha": "bad", "beta": "bad", "gamma": "good"},
        ("c1", "text/causality"): {"alpha": "good", "beta": "bad"},
    }
    now = time.time()
    store.put_cases([(f"hash-{cid}", cid, cell, "other", "test", str(tmp_path),
                      json.dumps(_case_json(cid, cell, "other", {"kind": "exact", "answer": "x"})))
                     for cid, cell in verdicts])
    store.put_results([ResultRow(
        key=f"{m}:{cid}", model=m, model_identity="{}", settings="{}", case_id=cid, case_hash=f"hash-{cid}",
        cell=cell, category="other", status="ok", verdict=v, rationale="", judge="rule", response="x",
        error=None, served_model=m, latency_s=0.1, created_at=now)
        for (cid, cell), per in verdicts.items() for m, v in per.items()])
    md = build_report(store, tmp_path / "out").markdown.read_text(encoding="utf-8")
    text = md[md.index("### text", md.index("## Leaderboards")):md.index("### code", md.index("## Leaderboards"))]
    # generalizability, ranks per case among 3 (1 best): g1 alpha/gamma 1.5, beta 3; g2 gamma 1, alpha/beta 2.5
    # -> mean ranks alpha 2, beta 2.75, gamma 1.25 -> (3 - r) / 2 * 100 = 50, 12.5, 87.5
    # causality, among 2: alpha 100, beta 0; gamma none. The mean is generalizability's alone.
    assert f"| 1 | gamma | 87.5 | {EMPTY} | {EMPTY} | 87.5 |" in text
    assert f"| 2 | alpha | 50.0 | {EMPTY} | 100.0 | 50.0 |" in text  # not (50 + 100) / 2
    assert f"| 3 | beta | 12.5 | {EMPTY} | 0.0 | 12.5 |" in text
    assert "generalizability: ranked among 3 of the 3 models over 2 shared case(s)" in text
    assert "causality: ranked among 2 of the 3 models over 1 shared case(s)" in text
    assert "mean of the relative scores over generalizability (1 of 3 columns: those all 3 models have)" in text
    assert "trustworthiness, causality left out of the mean" in text
    assert "mean rank among the 3 models" not in md  # the old, untrue heading
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "causality: ranked among 2 of the 3 models over 1 shared case(s)" in html


def test_leaderboard_without_a_shared_column_ranks_nobody(tmp_path: Path) -> None:
    store = Store(tmp_path / "split.db")
    now = time.time()
    rows = [("g1", "text/generalizability", "alpha", "good"), ("g1", "text/generalizability", "beta", "bad"),
            ("c1", "text/causality", "alpha", "good"), ("c1", "text/causality", "gamma", "bad")]
    store.put_cases([(f"hash-{cid}", cid, cell, "other", "test", str(tmp_path),
                      json.dumps(_case_json(cid, cell, "other", {"kind": "exact", "answer": "x"})))
                     for cid, cell in {(r[0], r[1]) for r in rows}])
    store.put_results([ResultRow(
        key=f"{m}:{cid}", model=m, model_identity="{}", settings="{}", case_id=cid, case_hash=f"hash-{cid}",
        cell=cell, category="other", status="ok", verdict=v, rationale="", judge="rule", response="x",
        error=None, served_model=m, latency_s=0.1, created_at=now) for cid, cell, m, v in rows])
    md = build_report(store, tmp_path / "out").markdown.read_text(encoding="utf-8")
    text = md[md.index("### text", md.index("## Leaderboards")):md.index("### code", md.index("## Leaderboards"))]
    assert "no column has a score for every one of the 3 models, so they are not ranked on one mean" in text
    assert f"| {EMPTY} | alpha | 100.0 | {EMPTY} | 100.0 | {EMPTY} |" in text
    assert "| 1 |" not in text
