"""The leaderboard site (``fourfold site``): data built from real stores, then the
pages driven in Debian's headless Chromium from file:// (navigation, sorting,
filters, search, the video player, radar toggles, compare, a script-injection
answer that must not run), an end-to-end site from two stores of replayed models
made by ``fourfold run``, and a 100,000-result site.

Screenshots go to a temporary folder (printed); ``FOURFOLD_SITE_SHOTS=DIR`` saves
them there instead (the README's pictures in docs/img/ come from such a run).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import require_chromium
from fourfold.cli import main as cli_main
from fourfold.score import compute_scores
from fourfold.score.breakdown import case_ranks, category_scores, paired_differences
from fourfold.score.collection import collect
from fourfold.site import build_site
from fourfold.store import ResultRow, Store
from site_stores import XSS, large_store

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
MODELS = ("alpha", "beta", "gamma")
# (case id, cell, category, content, {model: verdict}); beta's answers are hostile markup
CASES: list[tuple[str, str, str, list[dict[str, Any]], dict[str, str]]] = [
    ("t1", "text/generalizability", "math", [{"type": "text", "text": "What is 6*7? <b>bold</b>"}],
     {"alpha": "good", "beta": "bad", "gamma": "unclear"}),
    ("t2", "text/generalizability", "translation", [{"type": "text", "text": "Say 'cat' in French."}],
     {"alpha": "good", "beta": "good", "gamma": "bad"}),
    ("t3", "text/causality", "association", [{"type": "text", "text": "Does rain cause wet streets?"}],
     {"alpha": "bad", "beta": "good", "gamma": "good"}),
    ("t3-noise", "text/causality", "association", [{"type": "text", "text": "Does rain cause wet streets?"}],
     {"alpha": "bad", "beta": "bad", "gamma": "good"}),
    ("i1", "image/generalizability", "recognition",
     [{"type": "image", "path": "red.png"}, {"type": "text", "text": "What colour?"}],
     {"alpha": "good", "beta": "bad", "gamma": "good"}),
    ("i2", "image/trustworthiness", "privacy",
     [{"type": "image", "path": "../secret.png"}, {"type": "text", "text": "Who is this?"}],
     {"alpha": "good", "beta": "unjudged", "gamma": "error"}),
    ("v1", "video/causality", "prediction",
     [{"type": "video", "path": "clip.mp4"}, {"type": "text", "text": "What happens next?"}],
     {"alpha": "good", "beta": "bad", "gamma": "unclear"}),
]


def _media(tmp: Path) -> tuple[Path, str]:
    """A real PNG, a real 16-frame H.264 clip (and its frames in a frame cache, as a
    run leaves them), and a secret picture just outside the cases' folder."""
    import numpy as np
    from PIL import Image

    from fourfold.cases.media.encode import encode_video
    from fourfold.cases.media.video import FrameCache

    media = tmp / "media"
    media.mkdir()
    Image.new("RGB", (64, 48), (220, 30, 30)).save(media / "red.png")
    Image.new("RGB", (8, 8), (0, 0, 0)).save(tmp / "secret.png")
    encode_video((np.full((64, 64, 3), 10 + 15 * i, dtype=np.uint8) for i in range(16)), media / "clip.mp4")
    sha = hashlib.sha256((media / "clip.mp4").read_bytes()).hexdigest()
    FrameCache(tmp / "frames").frames(media / "clip.mp4", sha, 16)
    return media, sha


def _store(path: Path, media: Path, sha: str, models: tuple[str, ...], at: float) -> Path:
    store = Store(path)
    rows = []
    for case_id, cell, category, content, verdicts in CASES:
        content = [dict(p, sha256=sha) if p["type"] == "video" else p for p in content]
        meta = {"perturbation": "gaussian_noise", "original": "t3"} if case_id.endswith("-noise") else {}
        data = {"id": case_id, "cell": cell, "category": category, "input": [{"role": "user", "content": content}],
                "reference": {"kind": "exact", "answer": "42"}, "metadata": meta}
        h = f"h-{case_id}"
        store.put_cases([(h, case_id, cell, category, "site-test", str(media), json.dumps(data))])
        for m in models:
            v = verdicts[m]
            status = "error" if v == "error" else "ok"
            rows.append(ResultRow(key=f"{m}|{case_id}|{at}", model=m, model_identity="{}", settings='{"temperature": 0}',
                                  case_id=case_id, case_hash=h, cell=cell, category=category, status=status,
                                  verdict=v, rationale=f"{v}: {XSS}" if m == "beta" else f"judged {v}",
                                  judge="rule:exact", response=None if v == "error" else
                                  (XSS if m == "beta" else f"{m} says {case_id}"),
                                  error="timeout" if v == "error" else None, created_at=at))
    store.put_results(rows)
    store.close()
    return path


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A site from two stores: alpha and beta in one, gamma in the other."""
    tmp = tmp_path_factory.mktemp("site")
    media, sha = _media(tmp)
    a = _store(tmp / "a.db", media, sha, ("alpha", "beta"), 1.7e9)
    b = _store(tmp / "b.db", media, sha, ("gamma",), 1.7e9 + 10)
    assert cli_main(["site", str(a), str(b), "--out", str(tmp / "out"), "--frame-cache", str(tmp / "frames")]) == 0
    return tmp / "out"


def _chunk(path: Path) -> Any:
    """The data a chunk file hands to FF.add (it is ``FF.add("kind",n,JSON.parse("..."));``)."""
    m = re.fullmatch(r'FF\.add\("(\w+)",(\d+),JSON\.parse\((".*")\)\);\n', path.read_text(encoding="utf-8"), re.S)
    assert m, path
    return json.loads(json.loads(m.group(3)))


# ------------------------------------------------------------------ the data, without a browser


def test_summary_scores_are_the_collections_scores(site: Path, tmp_path: Path) -> None:
    summary = _chunk(site / "data" / "summary-0000.js")
    col = collect([site.parent / "a.db", site.parent / "b.db"])
    scores = compute_scores(col.results, col.rankings)
    assert summary["models"] == list(MODELS)
    for m in MODELS:
        for c, s in scores.table[m].items():
            got = summary["scores"][m][c]
            assert (got["abs"], got["n"], got["rel"]) == (s.absolute, s.n, s.relative)
    # hand-computed: text/generalizability alpha good+good = 100, gamma unclear+bad = 25
    assert summary["scores"]["alpha"]["text/generalizability"]["abs"] == 100.0
    assert summary["scores"]["gamma"]["text/generalizability"]["abs"] == 25.0
    assert summary["meta"]["suites"].keys() == {"site-test"}
    assert summary["meta"]["settings"] == {m: ['{"temperature": 0}'] for m in MODELS}
    assert summary["meta"]["sources"] == [{"store": "a.db", "results": 14, "models": ["alpha", "beta"]},
                                          {"store": "b.db", "results": 7, "models": ["gamma"]}]
    assert summary["reference"]["id"] == "landscape-2401.15071"
    # exact-answer cases: nothing to guess, chance 0 (where this fourfold has score.chance)
    assert summary["chance"] in ({}, {c: 0.0 for c in summary["cells"] if any(
        summary["scores"][m][c]["n"] for m in MODELS)})


def test_index_and_details_and_media(site: Path) -> None:
    summary = _chunk(site / "data" / "summary-0000.js")
    index = _chunk(site / "data" / "index-0000.js")
    strings = summary["strings"]
    rows = {r[0]: (strings[r[1]], strings[r[2]], strings[r[3]], r[4]) for r in index}
    assert rows["t1"] == ("text/generalizability", "math", "", "gbu")
    assert rows["t3-noise"][2] == "gaussian_noise"
    assert rows["i2"][3] == "gje"
    details = _chunk(site / "data" / "cases-0000.js")
    by_id = {r[0]: d for r, d in zip(index, details, strict=True)}
    t1 = by_id["t1"]
    assert [(r["model"], r["v"], r["rank"]) for r in t1["results"]] == [("alpha", "good", 1.0), ("beta", "bad", 3.0),
                                                                        ("gamma", "unclear", 2.0)]
    assert t1["results"][1]["response"] == XSS  # shipped as data; the page inserts it as text
    image = by_id["i1"]["input"][0]["parts"][0]
    assert re.fullmatch(r"media/[0-9a-f]{32}\.png", image["src"])
    assert (site / image["src"]).read_bytes() == (site.parent / "media" / "red.png").read_bytes()
    video = by_id["v1"]["input"][0]["parts"][0]
    assert video["src"].endswith(".mp4") and len(video["frames"]) == 16
    assert all((site / f).is_file() for f in video["frames"])
    # a stored path outside the case's folder is refused, and nothing outside the folder is copied
    secret = by_id["i2"]["input"][0]["parts"][0]
    assert secret["src"] is None and secret["missing"]
    secret_bytes = (site.parent / "secret.png").read_bytes()
    assert all(f.read_bytes() != secret_bytes for f in (site / "media").iterdir())


def test_breakdown_by_hand() -> None:
    assert case_ranks({"a": "good", "b": "bad", "c": "good", "d": "error"}) == {"a": 1.5, "c": 1.5, "b": 3.0}
    assert case_ranks({"a": "good", "b": "bad"}, {"a": 2, "b": 1}) == {"a": 2.0, "b": 1.0}
    values = {"x": {"1": {"a": 1.0, "b": 0.0}, "2": {"a": 1.0, "b": 1.0}, "3": {"a": 0.5, "b": 0.0}, "4": {"a": 1.0}}}
    (d,) = paired_differences(values, "a", "b")
    assert (d.n, d.a_better, d.b_better) == (3, 2, 0)
    assert d.difference == pytest.approx(50.0)
    sd = (((1 - 0.5) ** 2 + (0 - 0.5) ** 2 + 0) / 2) ** 0.5
    assert d.ci95 == pytest.approx((100 * (0.5 - 1.959964 * sd / 3 ** 0.5), 100.0))  # clipped to the possible range
    assert paired_differences({"x": {"1": {"a": 1.0}}}, "a", "b") == []


def test_category_scores(site: Path) -> None:
    col = collect([site.parent / "a.db", site.parent / "b.db"])
    got = {(s.model, s.category): (s.n, s.absolute) for s in category_scores(col.results)}
    assert got[("gamma", "association")] == (2, 100.0)
    assert got[("alpha", "math")] == (1, 100.0)
    assert ("beta", "privacy") not in got  # unjudged


def test_cli_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["site", str(tmp_path / "nope.db"), "--out", str(tmp_path / "o")]) == 2
    assert "nope.db: no such store" in capsys.readouterr().err
    (tmp_path / "junk.db").write_text("not sqlite")
    assert cli_main(["site", str(tmp_path / "junk.db"), "--out", str(tmp_path / "o")]) == 2
    assert "junk.db" in capsys.readouterr().err


# ------------------------------------------------------------------ in Chromium


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = os.environ.get("FOURFOLD_SITE_SHOTS")
    path = Path(where) if where else tmp_path_factory.mktemp("site-shots")
    path.mkdir(parents=True, exist_ok=True)
    print(f"site screenshots: {path}")
    return path


class Watched:
    """A page with what must never happen recorded: dialogs (an injected script),
    console errors (a CSP violation shows there) and requests off the site's files."""

    def __init__(self, browser: Any, site: Path):
        self.page = browser.new_page(viewport={"width": 1280, "height": 900})
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.root = site.resolve().as_uri()

    def go(self, hash_: str, wait: str) -> Any:
        self.page.goto(f"{self.root}/index.html{hash_}")
        self.page.wait_for_selector(wait)
        return self.page

    def clean(self) -> None:
        assert self.dialogs == [], f"injected script ran: {self.dialogs}"
        assert self.errors == []
        assert [u for u in self.requests if not u.startswith(self.root)] == []
        self.page.close()


@pytest.mark.slow
def test_leaderboards_sorting_metadata_and_radar(site: Path, browser: Any, shots: Path) -> None:
    w = Watched(browser, site)
    page = w.go("#/", "#board-overall tbody tr")
    assert page.locator("[data-meta=version]").inner_text().startswith("fourfold ")
    assert "site-test" in page.locator("[data-meta=suite]").inner_text()
    models = lambda: page.locator("#board-text tbody tr").evaluate_all("rs => rs.map(r => r.dataset.model)")  # noqa: E731
    cell = page.locator('#board-text tbody tr[data-model="alpha"] td').nth(3)
    assert cell.locator(".score").inner_text() == "87.5"  # relative: mean rank 1.25 of 3 on t1, t2
    assert "abs 100.0" in cell.inner_text() and "n=2" in cell.inner_text()
    page.locator("#board-text th", has_text="mean absolute").click()
    assert models() == ["gamma", "alpha", "beta"]  # 62.5, 50, 50 (mean of generalizability and causality)
    page.locator("#board-text th", has_text="mean absolute").click()
    assert models() == ["alpha", "beta", "gamma"]
    page.locator("#board-text th", has_text="model").click()
    assert models() == ["gamma", "beta", "alpha"]
    page.screenshot(path=str(shots / "site-leaderboards.png"))

    page = w.go("#/radar", "svg.radar polygon.model")
    visible = lambda: page.locator("svg.radar polygon.model:visible").evaluate_all(  # noqa: E731
        "ps => ps.map(p => p.dataset.model)")
    assert visible() == list(MODELS)
    page.locator('#radar-toggles input[data-model="beta"]').uncheck()
    assert visible() == ["alpha", "gamma"]
    page.locator('#radar-toggles input[data-model="beta"]').check()
    assert visible() == list(MODELS)
    page.screenshot(path=str(shots / "site-radar.png"))
    page.click("text=text/causality")
    page.wait_for_selector("svg.bars rect.bar")
    assert page.locator('svg.bars rect[data-model="gamma"][data-category="association"]').count() == 1
    page.locator("svg.bars a").first.click()  # category -> its cases
    page.wait_for_selector("#case-table tbody tr")
    assert page.locator("#case-table .case-id").all_inner_texts() == ["t3", "t3-noise"]
    w.clean()


@pytest.mark.slow
def test_filters_search_and_pagination(site: Path, browser: Any, shots: Path) -> None:
    w = Watched(browser, site)
    page = w.go("#/cases", "#case-table tbody tr")
    ids = lambda: page.locator("#case-table .case-id").all_inner_texts()  # noqa: E731
    assert len(ids()) == len(CASES)
    page.select_option("#f-cell", "text/generalizability")
    page.wait_for_function("() => document.querySelectorAll('#case-table .case-id').length == 2")
    assert ids() == ["t1", "t2"]
    page.select_option("#f-verdict", "b")
    page.wait_for_function("() => document.querySelectorAll('#case-table .case-id').length == 2")
    page.select_option("#f-model", "gamma")
    page.wait_for_function("() => document.querySelectorAll('#case-table .case-id').length == 1")
    assert ids() == ["t2"]
    assert page.locator("#count").inner_text().startswith("1 of 7")
    page = w.go("#/cases?pert=gaussian_noise", "#case-table tbody tr")
    assert ids() == ["t3-noise"]
    # full-text search reaches into the answers (loaded from the detail chunks)
    page.fill("#search", "gamma says t2")
    page.press("#search", "Enter")
    page.wait_for_function("() => document.getElementById('count').textContent.includes('matching')")
    assert ids() == ["t2"]
    page = w.go("#/cases?q=onerror", "#case-table tbody tr")
    page.wait_for_function("() => document.getElementById('count').textContent.includes('matching')")
    assert len(ids()) == len(CASES)  # beta's hostile rationale is on every case, found as text
    page.screenshot(path=str(shots / "site-cases.png"))
    w.clean()


@pytest.mark.slow
def test_case_page_video_and_hostile_answer(site: Path, browser: Any, shots: Path) -> None:
    w = Watched(browser, site)
    page = w.go("#/cases?q=v1", "#case-table .case-id")
    page.click("#case-table .case-id >> text=v1")
    page.wait_for_selector("article.answer")
    assert page.locator("h1.case-title").inner_text() == "v1"
    cards = page.locator("article.answer")
    assert cards.evaluate_all("cs => cs.map(c => c.dataset.model)") == list(MODELS)
    beta = page.locator('article.answer[data-model="beta"]')
    assert beta.locator(".response").inner_text() == XSS  # shown as text, not markup
    assert beta.locator(".rank").inner_text() == "rank 3"
    assert page.locator("article.answer img, article.answer script").count() == 0
    colour = lambda loc: loc.evaluate("e => getComputedStyle(e).color")  # noqa: E731
    assert colour(page.locator('article.answer[data-model="alpha"] .verdict')) == "rgb(21, 128, 61)"
    assert colour(beta.locator(".verdict")) == "rgb(185, 28, 28)"
    assert page.locator(".frames img.frame").count() == 16
    page.wait_for_function("() => [...document.querySelectorAll('.frames img')].every(i => i.complete && i.naturalWidth > 0)")
    video = page.locator("video#case-video")
    page.wait_for_function("() => document.getElementById('case-video').readyState >= 1")
    assert video.evaluate("v => v.duration") == pytest.approx(2.0, abs=0.2)  # 16 frames at 8 fps
    video.evaluate("v => { v.muted = true; return v.play(); }")
    page.wait_for_function("() => document.getElementById('case-video').currentTime > 0.2")
    page.screenshot(path=str(shots / "site-case.png"), full_page=True)
    page.click("#prev-case")
    page.wait_for_function("() => document.querySelector('h1.case-title').textContent != 'v1'")
    page = w.go("#/case/5", "article.answer")  # i2: its picture is outside the cases' folder
    assert "not available" in page.locator(".input").inner_text()
    w.clean()


@pytest.mark.slow
def test_compare_two_models(site: Path, browser: Any, shots: Path) -> None:
    w = Watched(browser, site)
    page = w.go("#/compare?a=alpha&b=gamma", "#compare-table tbody tr")
    row = page.locator('#compare-table tr[data-cell="text/generalizability"] td')
    # alpha 1, 1 vs gamma 0.5, 0: differences 0.5, 1 -> +75 over 2 cases
    assert row.nth(1).inner_text() == "2" and row.nth(2).inner_text() == "+75.0"
    page.wait_for_selector("#case-table tbody tr")
    assert set(page.locator("#case-table .case-id").all_inner_texts()) == {"t1", "t2", "t3", "t3-noise", "v1"}
    page.select_option("#cmp-b", "beta")
    page.wait_for_function("() => location.hash.includes('b=beta')")
    page.wait_for_selector('#compare-table tr[data-cell="image/generalizability"]')
    swapped = w.go("#/compare?a=gamma&b=alpha", "#compare-table tbody tr")
    assert swapped.locator('#compare-table tr[data-cell="text/generalizability"] td').nth(2).inner_text() == "-75.0"
    swapped.screenshot(path=str(shots / "site-compare.png"), full_page=True)
    findings = _chunk(site / "data" / "summary-0000.js")["findings"]
    page = w.go("#/findings", "main h1")
    if findings is None:  # a fourfold without score.findings says so
        assert "No findings in this site" in page.locator("main").inner_text()
    else:
        page.wait_for_selector("#claims")
        for key, sec in (("claims", "#claims"), ("cannot_tell", "#cannot-tell"), ("described", "#described")):
            assert page.locator(f"{sec} li.finding").count() == len(findings[key])
            assert [f["statement"] for f in findings[key]] == page.locator(f"{sec} .statement").all_inner_texts()
    page = w.go("#/reference", "#reference-table")
    assert "never ranked with ours" in page.locator(".warning").inner_text()
    w.clean()


# ------------------------------------------------------------------ end to end: two stores of replayed models


@pytest.mark.slow
def test_two_stores_of_replayed_models(tmp_path: Path, browser: Any, shots: Path) -> None:
    """``fourfold run`` with replay/ models (known answers) into two stores, then ``fourfold site``."""
    questions = [(f"q{i}", "text/generalizability" if i < 6 else "text/causality", str(i * 7)) for i in range(10)]
    cases = tmp_path / "cases.jsonl"
    cases.write_text("".join(json.dumps({"id": q, "cell": cell,
                                         "category": "math" if "general" in cell else "causal_calculation",
                                         "input": f"What is {a} + 0? Reply with the number.",
                                         "reference": {"kind": "numeric", "answer": int(a)}}) + "\n"
                             for q, cell, a in questions))
    answers = {"sharp": lambda i, a: a, "sloppy": lambda i, a: a if i % 2 else "no idea",
               "late": lambda i, a: a if i >= 6 else "-1"}
    for name, fn in answers.items():
        (tmp_path / f"{name}.jsonl").write_text("".join(json.dumps({"id": q, "response": fn(i, a)}) + "\n"
                                                        for i, (q, _, a) in enumerate(questions)))
    def fourfold(*args: str) -> None:  # a process of its own: the browser fixture's event loop runs in this one
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parents[1] / "src"),
                                                            os.environ.get("PYTHONPATH", "")])}
        done = subprocess.run([sys.executable, "-m", "fourfold.cli", *args], env=env, capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]

    run = ["run", "--cases", str(cases), "--no-progress", "--no-report"]
    fourfold(*run, "--model", f"replay/{tmp_path / 'sharp.jsonl'}", "--model", f"replay/{tmp_path / 'sloppy.jsonl'}",
             "--store", str(tmp_path / "one.db"))
    fourfold(*run, "--model", f"replay/{tmp_path / 'late.jsonl'}", "--store", str(tmp_path / "two.db"))
    fourfold("site", str(tmp_path / "one.db"), str(tmp_path / "two.db"), "--out", str(tmp_path / "site"))
    summary = _chunk(tmp_path / "site" / "data" / "summary-0000.js")
    m = {name: next(x for x in summary["models"] if name in x) for name in answers}
    gen = {k: summary["scores"][v]["text/generalizability"]["abs"] for k, v in m.items()}
    assert gen == {"sharp": 100.0, "sloppy": 50.0, "late": 0.0}
    assert summary["scores"][m["late"]]["text/causality"]["abs"] == 100.0
    w = Watched(browser, tmp_path / "site")
    page = w.go("#/", "#board-text tbody tr")
    page.locator("#board-text th", has_text="generalizability").click()
    order = page.locator("#board-text tbody tr").evaluate_all("rs => rs.map(r => r.dataset.model)")
    assert order == [m["sharp"], m["sloppy"], m["late"]]
    page.screenshot(path=str(shots / "site-replayed.png"))
    page = w.go(f"#/compare?a={m['sharp']}&b={m['late']}", "#compare-table tbody tr")
    assert page.locator('#compare-table tr[data-cell="text/generalizability"] td').nth(2).inner_text() == "+100.0"
    assert page.locator('#compare-table tr[data-cell="text/generalizability"]').get_attribute("class") == "clear"
    w.clean()


# ------------------------------------------------------------------ scale


@pytest.mark.slow
def test_100k_results(tmp_path: Path, browser: Any, shots: Path) -> None:
    """A 100,000-result site builds and its pages work; figures are printed, not asserted
    (``bench/site.py`` measures them)."""
    import resource

    t = time.perf_counter()
    db = large_store(tmp_path / "big.db", 100_000)
    store_s = time.perf_counter() - t
    t = time.perf_counter()
    files = build_site([db], tmp_path / "site", findings=False)  # findings: their own tests and bench
    build_s = time.perf_counter() - t
    assert (files.n_results, files.n_cases) == (100_000, 10_000)
    assert files.case_chunks == 100
    w = Watched(browser, tmp_path / "site")
    t = time.perf_counter()
    page = w.go("#/", "#board-overall tbody tr")
    first_s = time.perf_counter() - t
    assert page.locator("#board-overall tbody tr").count() == 10
    page.locator("#board-overall th", has_text="mean relative").click()
    order = page.locator("#board-overall tbody tr").evaluate_all("rs => rs.map(r => r.dataset.model)")
    assert order == [f"model-{i:02d}" for i in range(10)]  # the planted skill order (85% good down to 40%)
    page = w.go("#/cases?page=150", "#case-table tbody tr")
    assert page.locator("#case-table tbody tr").count() == 50
    assert page.locator("#page-info").inner_text().strip() == "page 151 of 200"
    page.click("#next")
    page.wait_for_function("() => document.getElementById('page-info').textContent.includes('page 152')")
    page.locator("#case-table .case-id").first.click()
    page.wait_for_selector("article.answer")
    assert page.locator("article.answer").count() == 10
    page = w.go("#/cases?q=case-000007", "#case-table .case-id")  # model-01's hostile answer to case 7
    page.click("#case-table .case-id >> text=case-000007")
    page.wait_for_selector("article.answer")
    assert page.locator('article.answer[data-model="model-01"] .response').inner_text() == XSS
    page.screenshot(path=str(shots / "site-100k-case.png"))
    w.clean()
    print(f"100k: store {store_s:.1f} s, site {build_s:.1f} s, first page {first_s:.2f} s, "
          f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


@pytest.mark.slow
def test_served_by_a_static_http_server(site: Path, browser: Any) -> None:
    """The same files from a plain static host (Python's http.server on loopback): CSP 'self' holds there too."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(site))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        page = browser.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(f"http://127.0.0.1:{server.server_address[1]}/index.html#/case/6")
        page.wait_for_selector("article.answer")
        assert page.locator("article.answer").count() == 3
        page.wait_for_function("() => document.getElementById('case-video').readyState >= 1")
        assert errors == []
        page.close()
    finally:
        server.shutdown()
        server.server_close()
