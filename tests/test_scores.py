"""Scores from real rows through the real functions, against numbers worked out
by hand (in the comments), never against the formula restated in the test."""

from __future__ import annotations

import pytest

from fourfold.score import compute_scores, relative_scores, wilson
from fourfold.score.precedence import EffectiveResult


def _row(model: str, case_id: str, cell: str, verdict: str, source: str = "rule") -> EffectiveResult:
    return EffectiveResult(key=f"{model}-{case_id}", model=model, case_id=case_id, case_hash="", cell=cell,
                           verdict=verdict, verdict_source=source)


def _rows(verdicts: dict[str, list[str]], cell: str = "code/generalizability") -> list[EffectiveResult]:
    return [_row(m, f"c{i}", cell, v) for m, vs in verdicts.items() for i, v in enumerate(vs)]


def test_relative_score_formula_with_ties():
    # case 0: A good, B good, C bad -> A,B share rank 1.5, C rank 3
    # case 1: A unclear, B bad, C good -> C 1, A 2, B 3
    # (n - mean rank) / (n - 1) * 100 with n = 3: A (3 - 1.75) / 2 = 62.5, B (3 - 2.25) / 2 = 37.5, C (3 - 2) / 2 = 50
    rel, n_cases, basis = relative_scores({"A": {"0": "good", "1": "unclear"}, "B": {"0": "good", "1": "bad"},
                                           "C": {"0": "bad", "1": "good"}})
    assert basis == "verdicts"
    assert n_cases == 2
    assert rel == {"A": pytest.approx(62.5), "B": pytest.approx(37.5), "C": pytest.approx(50.0)}


def test_best_is_100_worst_is_0():
    rel, _, _ = relative_scores({"A": {"x": "good"}, "B": {"x": "unclear"}, "C": {"x": "bad"}})
    assert rel == {"A": 100.0, "B": 50.0, "C": 0.0}


def test_report_grid_step_4_models_17_cases():
    # With 4 models and 17 cases, a score is (4 - S/17)/3*100 for an integer (or half-integer) rank sum S,
    # so every score is a multiple of 100/51 (the report's code generalizability: 88.24 = 45*100/51).
    import random

    rnd = random.Random(3)
    for _ in range(20):
        verdicts = {m: {str(i): rnd.choice(["good", "bad"]) for i in range(17)} for m in "ABCD"}
        rel, _, _ = relative_scores(verdicts)
        for s in rel.values():
            k = s / (100 / 51) * 2  # ties can give half-ranks: multiples of 50/51
            assert abs(k - round(k)) < 1e-9


def test_report_code_generalizability_88_24_from_rows():
    # The report's 88.24 for 4 models and 17 cases, made from verdicts: A is alone in being good on
    # 11 cases (rank 1) and unclear behind a good B on 6 (rank 2): rank sum 23, (4 - 23/17) / 3 = 45/51.
    # B: ranks 3 (tied bad with C, D) x 11 + 1 x 6 = 39 -> 29/51; C and D: 3 x 11 + 3.5 x 6 = 54 -> 14/51.
    verdicts = {"A": ["good"] * 11 + ["unclear"] * 6, "B": ["bad"] * 11 + ["good"] * 6,
                "C": ["bad"] * 17, "D": ["bad"] * 17}
    table = compute_scores(_rows(verdicts)).table
    rel = {m: table[m]["code/generalizability"].relative for m in "ABCD"}
    assert {m: round(v, 2) for m, v in rel.items()} == {"A": 88.24, "B": 56.86, "C": 27.45, "D": 27.45}
    assert table["A"]["code/generalizability"].relative_n_cases == 17
    assert table["A"]["code/generalizability"].relative_n_models == 4
    # absolute: A (11 + 0.5 x 6) / 17 = 82.35, B 6 / 17 = 35.29, C 0
    assert round(table["A"]["code/generalizability"].absolute, 2) == 82.35
    assert round(table["B"]["code/generalizability"].absolute, 2) == 35.29
    assert table["C"]["code/generalizability"].absolute == 0.0


def test_absolute_and_empty_cells():
    s = compute_scores(_rows({"A": ["good", "unclear", "bad", "unjudged", "not_evaluated"]}))
    cs = s.table["A"]["code/generalizability"]
    assert cs.n == 3 and cs.absolute == pytest.approx(50.0)
    assert cs.counts["unjudged"] == 1 and cs.counts["not_evaluated"] == 1
    # Wilson at p = 1.5/3, n = 3 (the half count is kept): 50 -+ 37.47
    assert cs.ci95 == (pytest.approx(12.53, abs=0.01), pytest.approx(87.47, abs=0.01))
    empty = s.table["A"]["image/causality"]
    assert empty.absolute is None and empty.ci95 is None and empty.n == 0
    assert cs.relative is None, "one model has no relative score"


def test_relative_only_over_shared_cases():
    rows = _rows({"A": ["good", "good"], "B": ["bad", "not_evaluated"]})
    s = compute_scores(rows)
    assert s.table["A"]["code/generalizability"].relative == 100.0
    assert s.table["B"]["code/generalizability"].relative == 0.0
    assert s.table["A"]["code/generalizability"].relative_n_cases == 1


def test_wilson_matches_reference_values():
    # Reference: statsmodels proportion_confint(8, 10, method="wilson") = (0.4902, 0.9433)
    lo, hi = wilson(8, 10)
    assert lo == pytest.approx(49.02, abs=0.01) and hi == pytest.approx(94.33, abs=0.01)
    # closed forms at the ends: 0/n -> [0, z^2/(n+z^2)], n/n -> [n/(n+z^2), 1]; z^2 = 3.8415, n = 5
    assert wilson(0, 5) == (pytest.approx(0.0, abs=1e-9), pytest.approx(43.45, abs=0.01))
    assert wilson(5, 5) == (pytest.approx(56.55, abs=0.01), pytest.approx(100.0))
    assert wilson(0, 0) == (0.0, 100.0), "no cases: the whole range, in percent like every other interval"


def test_wilson_agrees_with_statsmodels():
    from statsmodels.stats.proportion import proportion_confint

    for k, n in [(0, 1), (1, 2), (3, 7), (8, 10), (45, 51), (120, 121), (2.5, 4)]:
        lo, hi = proportion_confint(k, n, method="wilson")
        assert wilson(k, n) == (pytest.approx(lo * 100, abs=1e-9), pytest.approx(hi * 100, abs=1e-9)), (k, n)


def test_rankings_override_verdict_ranks_when_complete():
    verdicts = {"A": {"x": "good", "y": "good"}, "B": {"x": "good", "y": "good"}}
    # verdicts tie everywhere; a ranking that prefers B on x breaks the tie there only
    rel, n, basis = relative_scores(verdicts, {"x": {"A": 2, "B": 1}})
    assert n == 2 and basis == "mixed"
    # B: ranks 1 (x, ranked) and 1.5 (y, tied verdicts) -> (2 - 1.25) / 1 = 75; A: 2 and 1.5 -> 25
    assert rel == {"A": pytest.approx(25.0), "B": pytest.approx(75.0)}
    rel2, _, basis2 = relative_scores(verdicts, {"x": {"A": 1, "B": 2}, "y": {"A": 1.5, "B": 1.5}})
    assert basis2 == "rankings" and rel2 == {"A": 75.0, "B": 25.0}
    # a ranking missing one of the compared models is not used
    _, _, basis3 = relative_scores(verdicts, {"x": {"A": 1}})
    assert basis3 == "verdicts"


def test_sources_counted_per_cell():
    rows = [_row("A", "1", "text/causality", "good", "human"), _row("A", "2", "text/causality", "bad", "rule"),
            _row("A", "3", "text/causality", "unjudged", "none")]
    cs = compute_scores(rows).table["A"]["text/causality"]
    assert cs.sources == {"human": 1, "rule": 1}


def test_provenance_counts_sources_and_agreement_with_people():
    from fourfold.score.provenance import verdict_provenance

    def row(case_id: str, verdict: str, rule: str, judge: str | None, human: str) -> EffectiveResult:
        return EffectiveResult(key=case_id, model="A", case_id=case_id, case_hash=case_id, cell="text/causality",
                               verdict=verdict, verdict_source="human", rule_verdict=rule, judge_verdict=judge,
                               human_verdict=human)

    rows = [row("1", "good", "good", None, "good"), row("2", "good", "bad", None, "good"),
            row("3", "bad", "unclear", "bad", "bad")]  # the judge model's verdict is the automatic one here
    (p,) = verdict_provenance(rows, compute_scores(rows))
    assert (p.model, p.cell, p.rule, p.judge, p.human, p.n_pairs) == ("A", "text/causality", 0, 0, 3, 3)
    # pairs (auto, human): (good, good), (bad, good), (bad, bad): p_o = 2/3; marginals human (2 good, 1 bad),
    # auto (1 good, 2 bad): p_e = (2 * 1 + 1 * 2) / 9 = 4/9; kappa = (2/3 - 4/9) / (5/9) = 0.4
    assert p.accuracy == pytest.approx(2 / 3) and p.kappa == pytest.approx(0.4)


def test_robustness_cost_pairs_variants_with_their_originals():
    import json

    from fourfold.score.robustness import robustness_costs
    from fourfold.store import StoredCase

    def stored(case_id: str, **meta: str) -> StoredCase:
        data = {"id": case_id, "cell": "image/generalizability", "category": "other", "input": "what is it?",
                "reference": {"kind": "exact", "answer": "cat"}, "metadata": meta}
        return StoredCase(case_id, case_id, data["cell"], "other", None, None, json.dumps(data))

    cases = {"o1": stored("o1"), "o1:noise": stored("o1:noise", perturbation="noise", original="o1"),
             "o2": stored("o2"), "o2:noise": stored("o2:noise", perturbation="noise", original="o2")}
    verdicts = {"o1": "good", "o1:noise": "bad", "o2": "unclear", "o2:noise": "unclear"}
    rows = [EffectiveResult(key=c, model="A", case_id=c, case_hash=c, cell="image/generalizability", verdict=v)
            for c, v in verdicts.items()]
    (cost,) = robustness_costs(rows, cases)
    # originals: good 1 + unclear 0.5 -> 75; variants: bad 0 + unclear 0.5 -> 25
    assert (cost.model, cost.perturbation, cost.n) == ("A", "noise", 2)
    assert (cost.original, cost.perturbed, cost.delta) == (75.0, 25.0, -50.0)
