"""The report past its inline limit (issue 12): scores and tables from one streamed pass
must equal the list path's to the last digit, and the report then points to the site
instead of listing every case.

The store is real and small, but has what changes a score: judge-model verdicts and
rankings, people's verdicts and rankings, four models of which some did not answer
some cases, errors, unjudged answers, reruns (an older result superseded), a case whose
content changed between models (two hashes, one case id), choice cases of 2 to 5
options (chance levels), perturbed variants (robustness) and a case whose JSON is damaged.
"""

from __future__ import annotations

import json
import random
import re
import sqlite3
from pathlib import Path

import pytest
from scipy.stats import rankdata

from conftest import fourfold, require_chromium
from fourfold.cases.taxonomy import CATEGORIES, CELLS
from fourfold.report import scores_json
from fourfold.score import compute_scores
from fourfold.score.precedence import effective_rankings, effective_results
from fourfold.score.provenance import verdict_provenance
from fourfold.score.robustness import robustness_costs
from fourfold.score.streaming import ranks, stream_summary
from fourfold.score.usage import load_prices, usage_by_model
from fourfold.store import ResultRow, Store, human

MODELS = ("A", "B", "C", "D")
N_CASES = 144


def _case(i: int) -> tuple[str, str, str, str, str | None, str | None, str]:
    cell = CELLS[i % len(CELLS)]
    category = CATEGORIES[cell][0]
    case_id = f"c{i:03d}"
    meta = {"perturbation": ["typos", "reorder"][i % 2], "original": f"c{i - 1:03d}"} if i % 6 == 5 else {}
    ref = ({"kind": "choice", "options": [f"o{k}" for k in range(2 + i % 4)], "answer": "A"} if i % 3
           else {"kind": "rubric", "criteria": "explains"})
    data = {"id": case_id, "cell": cell, "category": category, "metadata": meta, "reference": ref,
            "input": [{"role": "user", "content": [{"type": "text", "text": f"Question {i}?"}]}]}
    return (f"h{i:03d}", case_id, cell, category, "t", None, json.dumps(data))


def _row(model: str, case: tuple, verdict: str, t: float, rng: random.Random, key: str = "") -> ResultRow:
    h, case_id, cell, category = case[:4]
    failed = verdict == "error"
    return ResultRow(key=key or f"{model}|{h}", model=model, model_identity="{}", settings="{}", case_id=case_id,
                     case_hash=h, cell=cell, category=category, status="error" if failed else "ok", verdict=verdict,
                     rationale="" if failed else f"rule: {verdict}", judge="" if failed else "rule:x",
                     response=None if failed else f"answer {model}", error="boom" if failed else None,
                     prompt_tokens=None if failed or rng.random() < 0.2 else rng.randrange(5, 50),
                     completion_tokens=None if failed else rng.randrange(1, 9), created_at=t)


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = random.Random(7)
    path = tmp_path_factory.mktemp("stream") / "results.db"
    store = Store(path)
    cases = [_case(i) for i in range(N_CASES)]
    store.put_cases(cases)
    rows = []
    for i, case in enumerate(cases):
        for k, m in enumerate(MODELS):
            if (i + k) % 7 == 0:
                continue  # this model never answered this case
            verdict = rng.choice(["good", "good", "bad", "unclear", "unjudged", "error"])
            rows.append(_row(m, case, rng.choice(["good", "bad"]), 1000.0 + i, rng, key=f"old|{m}|{i}"))  # rerun
            rows.append(_row(m, case, verdict, 2000.0 + i, rng))
    # case c004 changed between runs: D answered another version of it (another hash, the same id)
    edited = (*_case(4)[:6], _case(4)[6].replace("Question 4?", "Question 4, edited?"))
    edited = ("h004-edited", *edited[1:])
    store.put_cases([edited])
    rows = [r for r in rows if not (r.model == "D" and r.case_id == "c004")]
    rows.append(_row("D", edited, "good", 3000.0, rng))
    damaged = ("h-damaged", "c-damaged", CELLS[0], CATEGORIES[CELLS[0]][0], "t", None, '{"reference": {"kind": "cho')
    store.put_cases([damaged])  # a case whose stored JSON no longer parses: chance 0, no perturbation
    rows += [_row(m, damaged, "good", 2500.0, rng) for m in MODELS]
    store.put_results(rows)
    latest = [r for r in rows if not r.key.startswith("old|") and r.status == "ok"]
    for r in latest[::5]:
        store.put_judgement(cache_key=f"j|{r.key}", result_key=r.key, judge="judge/j", judge_identity="{}",
                            template="v1", verdict=rng.choice(["good", "bad", "unclear"]), rationale="judged",
                            raw=["{}"], votes={})
    errored = next(r for r in rows if r.status == "error" and not r.key.startswith("old|"))
    store.put_judgement(cache_key="j|err", result_key=errored.key, judge="judge/j", judge_identity="{}",
                        template="v1", verdict="good", rationale="on an error: ignored", raw=[], votes={})
    for case in cases[::3]:
        store.put_ranking(cache_key=f"r|{case[0]}", case_hash=case[0], case_id=case[1], cell=case[2], judge="judge/j",
                          template="rank1", ranks={m: float(rng.randrange(1, 4)) for m in MODELS}, raw=[])
    human.add_annotator(store, "alice")
    human.add_annotator(store, "bob")
    for r in latest[1::4]:
        for who in ("alice", "bob"):
            human.save_verdict(store, who, r.key, rng.choice(["good", "bad"]), require_assignment=False)
    for case in cases[2::9]:
        human.save_ranking(store, "alice", case[0], list(MODELS[::-1]), require_assignment=False)
    store.close()
    return path


@pytest.fixture(scope="module")
def rerun_free_path(store_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same store without the superseded results: ``iter_latest_chunks`` then takes its fast path."""
    path = tmp_path_factory.mktemp("unique") / "results.db"
    src, dst = sqlite3.connect(store_path), sqlite3.connect(path)
    src.backup(dst)
    src.close()
    dst.execute("DELETE FROM results WHERE key LIKE 'old|%'")
    dst.commit()
    dst.close()
    return path


@pytest.mark.parametrize(("ties", "reruns"), [("mean", True), ("min", True), ("mean", False)])
def test_streamed_scores_equal_the_list_path_to_the_last_digit(store_path: Path, rerun_free_path: Path, ties: str,
                                                               reruns: bool) -> None:
    store = Store(store_path if reruns else rerun_free_path, readonly=True)
    assert (store.count() > store.count_latest()) == reruns
    prices = load_prices()
    rankings = effective_rankings(store)
    rows = effective_results(store)
    cases = store.cases({r.case_hash for r in rows})
    listed = compute_scores(rows, rankings, ties=ties, cases=cases)  # type: ignore[arg-type]
    streamed = stream_summary(store, rankings, prices, ties)  # type: ignore[arg-type]
    # json.dumps: every float to its last digit, and every dict in the same order
    assert json.dumps(streamed.scores.to_json()) == json.dumps(listed.to_json())
    assert {s.relative_basis for cells in listed.table.values() for s in cells.values()} >= {"mixed", "verdicts"}
    assert any(s.sources.get("human") and s.sources.get("judge") for cells in listed.table.values()
               for s in cells.values()), "the store must exercise every verdict source"
    assert streamed.usage == usage_by_model(rows, prices)
    assert streamed.provenance == verdict_provenance(rows, listed) and any(p.n_pairs for p in streamed.provenance)
    assert streamed.robustness == robustness_costs(rows, cases) and streamed.robustness
    assert streamed.n_results == len(rows)
    assert streamed.n_cases == len({(r.cell, r.case_id) for r in rows})
    store.close()


def test_report_json_past_the_limit_is_byte_identical(store_path: Path) -> None:
    listed = fourfold("report", "--store", str(store_path), "--json").stdout
    streamed = fourfold("report", "--store", str(store_path), "--json", "--inline-limit", "0").stdout
    assert streamed == listed
    store = Store(store_path, readonly=True)
    assert json.loads(json.dumps(scores_json(store, inline_limit=0))) == json.loads(listed)
    store.close()


def _head(text: str, marker: str) -> str:
    """Everything before the case listing, without the generation time and the source line's varying parts."""
    return "\n".join(line for line in text[:text.index(marker)].splitlines() if "generated" not in line)


def test_past_the_limit_the_report_points_to_the_site(store_path: Path, tmp_path: Path) -> None:
    full, cut = tmp_path / "full", tmp_path / "cut"
    fourfold("report", "--store", str(store_path), "--out", str(full))
    n = len(effective_results(Store(store_path, readonly=True)))
    fourfold("report", "--store", str(store_path), "--out", str(cut), "--inline-limit", "20")
    md, html = (cut / "report.md").read_text(), (cut / "report.html").read_text()
    assert f"{n} results: more than the 20 a report lists case by case" in md
    assert f"`fourfold site {store_path} --out {cut / 'site'}`" in md
    assert "#### " not in md and "#### " in (full / "report.md").read_text()
    assert 'id="cutoff"' in html and 'class="case"' not in html and 'id="f-cell"' not in html
    assert 'class="case"' in (full / "report.html").read_text()
    # every score and table is the full report's
    assert _head(md, "## Cases") == _head((full / "report.md").read_text(), "## Cases")
    full_head = _head((full / "report.html").read_text(), '<section id="cases">')
    # the heatmap's cells link to the cut-off note, not to case listings that are not there
    assert _head(html, '<section id="cases">') == re.sub(r'href="#cell-[^"]*"', 'href="#cutoff"', full_head)
    targets = set(re.findall(r'href="#([^"]+)"', html))
    assert "cutoff" in targets and targets <= set(re.findall(r'id="([^"]+)"', html)), "an in-page link goes nowhere"
    assert "## Robustness" in md and "## Where the verdicts came from" in md

    (cut / "site").mkdir()
    (cut / "site" / "index.html").write_text("<!doctype html>")
    fourfold("report", "--store", str(store_path), "--out", str(cut), "--inline-limit", "20")
    assert "already written beside this report: `site/index.html`" in (cut / "report.md").read_text()
    assert '<a href="site/index.html">open the site</a>' in (cut / "report.html").read_text()

    at = tmp_path / "at"
    fourfold("report", "--store", str(store_path), "--out", str(at), "--inline-limit", str(n))
    assert "a report lists case by case" not in (at / "report.md").read_text()
    bad = fourfold("report", "--store", str(store_path), "--inline-limit", "-1", check=False)
    assert bad.returncode != 0 and "--inline-limit" in bad.stderr


def test_ranks_are_scipy_rankdata() -> None:
    rng = random.Random(3)
    for _ in range(3000):
        values = tuple(rng.choice([-1.0, -0.5, 0.0, 1.0, 2.0, 2.5]) for _ in range(rng.randrange(1, 11)))
        for method in ("average", "min"):
            assert ranks(values, method) == tuple(float(x) for x in rankdata(values, method=method))


@pytest.mark.parametrize("reruns", [True, False])
def test_latest_chunks_hold_whole_cases_and_the_latest_results(store_path: Path, rerun_free_path: Path,
                                                               reruns: bool) -> None:
    store = Store(store_path if reruns else rerun_free_path, readonly=True)
    chunks = list(store.iter_latest_chunks(size=7))
    assert len(chunks) > 5
    seen: dict[str, int] = {}
    for i, chunk in enumerate(chunks):
        for r in chunk:
            assert seen.setdefault(r.case_id, i) == i, "a case id split over two chunks"
    streamed = sorted((r.key, r.verdict) for chunk in chunks for r in chunk)
    assert streamed == sorted((r.key, r.verdict) for r in store.latest_results())
    store.close()


def test_the_report_index_is_added_to_an_existing_store(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    Store(path).close()
    db = sqlite3.connect(path)
    db.execute("DROP INDEX results_case_model")  # a store from before the index
    db.close()
    Store(path).close()  # opened for writing (a run): the index is created
    db = sqlite3.connect(path)
    names = {n for (n,) in db.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    plan = " ".join(str(r) for r in db.execute("EXPLAIN QUERY PLAN SELECT key FROM results "
                                                "ORDER BY case_id, model, created_at"))
    db.close()
    assert "results_case_model" in names and "results_case_model" in plan


@pytest.mark.slow
def test_cut_off_report_in_headless_chromium(store_path: Path, tmp_path: Path) -> None:
    """The cut-off report opens with no script error (the case filter finds no filter and
    stops; the CSP allows nothing else), shows the scores, and links to the site."""
    chromium = require_chromium()
    from playwright import sync_api

    out = tmp_path / "out"
    (out / "site").mkdir(parents=True)
    (out / "site" / "index.html").write_text("<!doctype html><title>site</title>")
    fourfold("report", "--store", str(store_path), "--out", str(out), "--inline-limit", "20")
    errors: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto((out / "report.html").as_uri())
            page.wait_for_load_state("load")
            assert errors == []
            assert "a report lists case by case" in page.locator("#cutoff").inner_text()
            assert page.locator(".grid-card .hm-score").count() == len(MODELS) * len(CELLS)
            assert page.locator("article.case").count() == 0
            page.locator("#cutoff a").click()
            page.wait_for_load_state("load")
            assert page.title() == "site"
        finally:
            browser.close()
