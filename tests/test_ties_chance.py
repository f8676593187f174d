"""``--ties mean|min`` against the study's two published rows, and chance levels beside the scores.

The study's text/generalizability row (GPT-4 83.33, Gemini Pro 59.09, Mixtral 33.33,
Llama-2 29.55 over 44 cases) is (4 - r) / 3 x 100 with rank sums 66, 98, 132 and 137:
433 in all, below the 440 that mean ranks always give, so some ties took the better
rank. Its code/generalizability row (88.24, 56.86, 33.33, 21.57 over 17 cases) has rank
sums 23 + 39 + 51 + 57 = 170 = 17 x 10: mean ranks. Below, rankings and verdicts that
give exactly those sums are built and scored both ways.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import fourfold
from fourfold.score import compute_scores, relative_scores
from fourfold.score.precedence import EffectiveResult
from fourfold.store import ResultRow, Store

MODELS = ("GPT-4", "Gemini Pro", "Mixtral", "Llama-2")
TEXT_GEN = {"GPT-4": 83.33, "Gemini Pro": 59.09, "Mixtral": 33.33, "Llama-2": 29.55}
CODE_GEN = {"GPT-4": 88.24, "Gemini Pro": 56.86, "Mixtral": 33.33, "Llama-2": 21.57}


def _text_generalizability_rankings() -> dict[str, dict[str, float]]:
    """44 cases ranked by people, 7 with Mixtral and Llama-2 tied for third: with ties
    taking the better rank the sums are 66, 98, 132, 137."""
    g, gem, mix, lla = MODELS
    rows: list[dict[str, float]] = (
        [{g: 1, gem: 2, mix: 3, lla: 3}] * 7            # a tie for third: Llama-2 takes 3, not 3.5
        + [{lla: 1, gem: 2, mix: 3, g: 4}] * 6          # GPT-4 and Llama-2 swapped
        + [{gem: 1, g: 2, mix: 3, lla: 4}] * 4          # GPT-4 and Gemini swapped
        + [{g: 1, lla: 2, mix: 3, gem: 4}] * 7          # Gemini and Llama-2 swapped
        + [{g: 1, gem: 2, mix: 3, lla: 4}] * 20)        # the usual order
    assert len(rows) == 44
    return {f"t{i:02}": r for i, r in enumerate(rows)}


def _code_generalizability_verdicts() -> dict[str, dict[str, str]]:
    """17 cases of verdicts whose mean ranks sum to 23, 39, 51, 57."""
    patterns = ([("good", "good", "good", "good")] * 4 + [("good", "unclear", "unclear", "unclear")]
                + [("good", "unclear", "unclear", "bad")] * 4 + [("good", "unclear", "bad", "bad")] * 8)
    return {m: {f"c{i:02}": p[j] for i, p in enumerate(patterns)} for j, m in enumerate(MODELS)}


def test_text_generalizability_is_reproduced_with_min_ties_only() -> None:
    rankings = _text_generalizability_rankings()
    verdicts = {m: dict.fromkeys(rankings, "good") for m in MODELS}  # the rankings decide every case
    rel, n, basis = relative_scores(verdicts, rankings, ties="min")
    assert (n, basis) == (44, "rankings")
    assert {m: round(s, 2) for m, s in rel.items()} == TEXT_GEN
    assert sum((4 - 3 * s / 100) * 44 for s in rel.values()) == pytest.approx(433)
    mean, _, _ = relative_scores(verdicts, rankings)  # mean ranks: 440 in all, not the published row
    assert sum((4 - 3 * s / 100) * 44 for s in mean.values()) == pytest.approx(440)
    assert round(mean["Llama-2"], 2) != TEXT_GEN["Llama-2"] and round(mean["Mixtral"], 2) != TEXT_GEN["Mixtral"]


def test_code_generalizability_is_reproduced_with_mean_ties_only() -> None:
    verdicts = _code_generalizability_verdicts()
    rel, n, basis = relative_scores(verdicts)
    assert (n, basis) == (17, "verdicts")
    assert {m: round(s, 2) for m, s in rel.items()} == CODE_GEN
    low, _, _ = relative_scores(verdicts, ties="min")
    assert {m: round(s, 2) for m, s in low.items()} != CODE_GEN
    assert round(low["GPT-4"], 2) == round((4 - 17 / 17) / 3 * 100, 2)  # min ranks sum to 17 for GPT-4


def test_unknown_ties_is_refused() -> None:
    with pytest.raises(ValueError, match="ties must be one of mean, min"):
        relative_scores({"A": {"x": "good"}, "B": {"x": "bad"}}, ties="max")  # type: ignore[arg-type]


def _store(path: Path) -> Path:
    """Two models on text/causality: two 2-way choice cases, one 4-way choice, one open case;
    A and B tie on the open case."""
    s = Store(path)
    refs = {"c1": {"kind": "choice", "options": ["yes", "no"], "answer": "A"},
            "c2": {"kind": "choice", "options": ["yes", "no"], "answer": "B"},
            "c3": {"kind": "choice", "options": ["a", "b", "c", "d"], "answer": 0},
            "c4": {"kind": "rubric", "criteria": "explains the cause"}}
    s.put_cases([(f"h-{c}", c, "text/causality", "cause", "t", str(path.parent), json.dumps(
        {"id": c, "cell": "text/causality", "category": "cause", "reference": ref,
         "input": [{"role": "user", "content": [{"type": "text", "text": f"q {c}"}]}]})) for c, ref in refs.items()])
    verdicts = {"A": {"c1": "good", "c2": "good", "c3": "bad", "c4": "good"},
                "B": {"c1": "bad", "c2": "good", "c3": "bad", "c4": "good"}}
    s.put_results([ResultRow(key=f"{m}|{c}", model=m, model_identity="{}", settings="{}", case_id=c,
                             case_hash=f"h-{c}", cell="text/causality", category="cause", status="ok", verdict=v,
                             response="x", judge="rule:test", created_at=1.0)
                   for m, vs in verdicts.items() for c, v in vs.items()])
    s.close()
    return path


def test_chance_level_and_ties_in_the_report_and_its_json(tmp_path: Path) -> None:
    path = _store(tmp_path / "r.db")
    expected = 100 * (0.5 + 0.5 + 0.25 + 0) / 4  # 31.25
    data = json.loads(fourfold("report", "--store", str(path), "--json").stdout)
    assert data["ties"] == "mean" and data["chance"] == {"text/causality": expected}
    assert data["scores"]["A"]["text/causality"]["chance"] == expected
    assert data["scores"]["A"]["text/generalizability"]["chance"] is None  # nothing judged there
    mean_rel = data["scores"]["B"]["text/causality"]["relative"]
    low = json.loads(fourfold("report", "--store", str(path), "--json", "--ties", "min").stdout)
    assert low["ties"] == "min"
    # B ties A on 3 of 4 cases: 1.5 each with mean ranks, 1 with min ranks; 2 on c1 either way
    assert mean_rel == pytest.approx((2 - (3 * 1.5 + 2) / 4) * 100)
    assert low["scores"]["B"]["text/causality"]["relative"] == pytest.approx((2 - (3 * 1 + 2) / 4) * 100)
    out = tmp_path / "out"
    fourfold("report", "--store", str(path), "--out", str(out), "--ties", "min")
    md = (out / "report.md").read_text()
    assert "chance 31.2)" in md and "tied responses all take the best of their ranks (--ties min)" in md
    assert "chance 31.2</div>" in (out / "report.html").read_text()
    bad = fourfold("report", "--store", str(path), "--json", "--ties", "max", check=False)
    assert bad.returncode == 2 and "invalid choice: 'max'" in bad.stderr


def test_chance_is_per_model_over_the_cases_it_was_judged_on() -> None:
    rows = [EffectiveResult(key="a", model="A", case_id="c1", case_hash="", cell="text/causality", verdict="good"),
            EffectiveResult(key="b", model="B", case_id="c1", case_hash="", cell="text/causality", verdict="error")]
    s = compute_scores(rows, cases={})
    assert s.chance == {"text/causality": 0.0} and s.table["A"]["text/causality"].chance == 0.0
    assert s.table["B"]["text/causality"].chance is None  # B has no judged case there
    assert compute_scores(rows).chance == {}  # no cases given: no chance levels
