"""Agreement statistics against published or hand-worked values.

Why: kappa and W are easy to get subtly wrong (rows vs columns, tie corrections,
undefined cases), and they decide whether human verdicts can be trusted. Each
function is checked on an example whose value is known independently of the code.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import friedmanchisquare
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss

from fourfold.score.agreement import (
    FleissStats,
    _kendalls_w_direct,
    fleiss_kappa,
    fleiss_kappa_by_cell,
    is_automatic,
    judge_vs_human,
    judge_vs_human_by_cell,
    kendalls_w,
    kendalls_w_by_cell,
    verdict_table,
)
from fourfold.store import StoredResult
from fourfold.store.records import HumanRanking, HumanVerdict

# Fleiss (1971) as worked on Wikipedia ("Fleiss' kappa", worked example): 10 subjects,
# 14 raters, 5 categories; P-bar = 0.378, P-bar-e = 0.213, kappa = 0.210.
WIKIPEDIA_FLEISS = [
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
]


def test_fleiss_kappa_worked_example() -> None:
    assert fleiss_kappa(WIKIPEDIA_FLEISS) == pytest.approx(0.210, abs=5e-4)
    assert fleiss_kappa(WIKIPEDIA_FLEISS) == pytest.approx(sm_fleiss(np.array(WIKIPEDIA_FLEISS)))


def test_fleiss_kappa_by_cell_on_verdicts() -> None:
    # text/generalizability, 3 raters per result:
    #   r1 g g g -> (3,0,0)  P = (9 - 3) / 6 = 1
    #   r2 g g b -> (2,0,1)  P = (4 + 1 - 3) / 6 = 1/3
    #   r3 b b b -> (0,0,3)  P = 1
    #   r4 u u g -> (1,2,0)  P = 1/3
    # P-bar = 2/3; p = (6, 2, 4) / 12 -> P-e = (36 + 4 + 16) / 144 = 7/18; kappa = (2/3 - 7/18) / (11/18) = 5/11.
    # r5 has two verdicts only: left out (Fleiss needs the same number of raters everywhere).
    votes = {"r1": "ggg", "r2": "ggb", "r3": "bbb", "r4": "uug", "r5": "gb"}
    name = {"g": "good", "u": "unclear", "b": "bad"}
    rows = [HumanVerdict(f"p{i}", k, name[v], "", 0.0, cell="text/generalizability")
            for k, vs in votes.items() for i, v in enumerate(vs)]
    rows.append(HumanVerdict("p0", "c1", "good", "", 0.0, cell="code/causality"))
    out = fleiss_kappa_by_cell(rows)
    assert out["text/generalizability"] == FleissStats(pytest.approx(5 / 11), n_items=4, n_raters=3, n_excluded=1)
    # one rating only: nothing to agree on
    assert out["code/causality"] == FleissStats(kappa=None, n_items=0, n_raters=0, n_excluded=1)
    assert verdict_table({"a": ["good", "bad", "bad"]}).tolist() == [[1.0, 0.0, 2.0]]
    # everyone always says "good": kappa is 0/0, reported as undefined rather than 0 or 1
    assert fleiss_kappa([[3, 0, 0], [3, 0, 0]]) is None
    assert fleiss_kappa(np.zeros((0, 3))) is None


def test_kendalls_w_textbook_example() -> None:
    # ProofWiki, "Kendall's Coefficient of Concordance/Examples/Arbitrary Example 1": four judges rank
    # three competitors X, Y, Z: A (1,3,2), B (1,2,3), C (2,3,1), D (3,1,2); sums 7, 9, 8; W = 1/16.
    ranks = [[1, 3, 2], [1, 2, 3], [2, 3, 1], [3, 1, 2]]
    assert kendalls_w(ranks) == pytest.approx(1 / 16)
    # Three raters, five items, worked by hand: sums 4, 6, 8, 13, 14 (mean 9), S = 25+9+1+16+25 = 76,
    # W = 12 S / (m^2 (n^3 - n)) = 912 / 1080 = 0.8444...
    ranks = [[1, 2, 3, 4, 5], [2, 1, 3, 5, 4], [1, 3, 2, 4, 5]]
    assert kendalls_w(ranks) == pytest.approx(912 / 1080)
    # the relation used: W = chi2_Friedman / (m (n - 1))
    chi2 = friedmanchisquare(*np.array(ranks).T).statistic
    assert kendalls_w(ranks) == pytest.approx(chi2 / (3 * 4))
    # perfect agreement and perfect disagreement
    assert kendalls_w([[1, 2, 3]] * 4) == pytest.approx(1.0)
    assert kendalls_w([[1, 2], [2, 1]]) == pytest.approx(0.0)
    # raw scores are ranked per rater first (smaller = better)
    assert kendalls_w([[10, 20, 30], [0.1, 0.2, 0.3]]) == pytest.approx(1.0)


def test_kendalls_w_with_ties_matches_the_tie_corrected_formula() -> None:
    # By hand: rater 1 ties items 1 and 2 -> ranks (1.5, 1.5, 3, 4); rater 2 (1, 2, 3, 4); rater 3 (2, 1, 4, 3).
    # sums 4.5, 4.5, 10, 11 (mean 7.5); S = 9 + 9 + 6.25 + 12.25 = 36.5; ties: rater 1 has one pair, t^3 - t = 6.
    # W = 12 * 36.5 / (3^2 (4^3 - 4) - 3 * 6) = 438 / 522.
    ranks = [[1, 1, 3, 4], [1, 2, 3, 4], [2, 1, 4, 3]]
    assert kendalls_w(ranks) == pytest.approx(438 / 522)
    assert _kendalls_w_direct(np.array([[1.5, 1.5, 3, 4], [1, 2, 3, 4], [2, 1, 4, 3]])) == pytest.approx(438 / 522)
    # two items (scipy's Friedman test needs three): the direct formula; ties everywhere: undefined
    assert kendalls_w([[1, 2], [1, 2], [2, 1]]) == pytest.approx(1 / 9)
    assert kendalls_w([[1, 1, 1], [2, 2, 2]]) is None
    assert kendalls_w([[1, 2, 3]]) is None  # one rater


def test_kendalls_w_by_cell_averages_cases() -> None:
    rows = [
        HumanRanking("a", "h1", "image/causality", {"x": 1, "y": 2, "z": 3}, 0.0),
        HumanRanking("b", "h1", "image/causality", {"x": 1, "y": 2, "z": 3}, 0.0),
        HumanRanking("a", "h2", "image/causality", {"x": 1, "y": 2}, 0.0),
        HumanRanking("b", "h2", "image/causality", {"x": 2, "y": 1}, 0.0),
        HumanRanking("a", "h3", "image/causality", {"x": 1, "y": 2}, 0.0),  # one rater
    ]
    out = kendalls_w_by_cell(rows)["image/causality"]
    assert out.n_cases == 2 and out.w == pytest.approx(0.5)  # (1 + 0) / 2
    assert out.per_case == {"h1": pytest.approx(1.0), "h2": pytest.approx(0.0)}


def test_cohens_kappa_and_confusion() -> None:
    # Wikipedia's Cohen's kappa example (two readers, 50 grant proposals: yes/yes 20, yes/no 5,
    # no/yes 10, no/no 15): p_o = 0.7, p_e = 0.5, kappa = 0.4. "yes" = good, "no" = bad here.
    pairs = [("good", "good")] * 20 + [("bad", "good")] * 5 + [("good", "bad")] * 10 + [("bad", "bad")] * 15
    out = judge_vs_human(pairs)
    assert out.n == 50 and out.accuracy == pytest.approx(0.7) and out.cohen_kappa == pytest.approx(0.4)
    assert out.confusion["good"] == {"good": 20, "unclear": 0, "bad": 5}  # rows: human, columns: judge
    assert out.confusion["bad"] == {"good": 10, "unclear": 0, "bad": 15}
    # 3x3 by hand, confusion[human][judge]: good (4,1,0), unclear (1,2,1), bad (0,1,5); n = 15, p_o = 11/15;
    # marginals (5,4,6) both ways -> p_e = 77/225; kappa = (165 - 77) / (225 - 77) = 88/148 = 22/37.
    table = {"good": (4, 1, 0), "unclear": (1, 2, 1), "bad": (0, 1, 5)}
    pairs = [(j, h) for h, row in table.items() for j, n in zip(("good", "unclear", "bad"), row, strict=True)
             for _ in range(n)]
    out = judge_vs_human(pairs)
    assert out.accuracy == pytest.approx(11 / 15) and out.cohen_kappa == pytest.approx(22 / 37)
    assert [[out.confusion[h][j] for j in ("good", "unclear", "bad")] for h in table] == [list(r) for r in
                                                                                              table.values()]
    # nothing to compare, or one category only: undefined
    assert judge_vs_human([]).to_json() == {"n": 0, "accuracy": None, "cohen_kappa": None,
                                            "confusion": {h: {"good": 0, "unclear": 0, "bad": 0} for h in table}}
    same = judge_vs_human([("good", "good")] * 3)
    assert same.accuracy == 1.0 and same.cohen_kappa is None


def test_judge_vs_human_by_cell_uses_only_automatic_verdicts() -> None:
    assert is_automatic("rule") and is_automatic("judge:gpt-4o") and not is_automatic("") and not is_automatic(None)
    def result(key: str, verdict: str, judge: str) -> StoredResult:
        return StoredResult(key=key, model="m", case_id=key, case_hash=key, cell="text/causality", verdict=verdict,
                            judge=judge)

    results = [
        result("k1", "good", "rule"),
        result("k2", "bad", "judge:m"),
        result("k3", "good", ""),  # nobody judged it
        result("k4", "unjudged", "judge:m"),
        result("k5", "good", "rule"),  # no human verdict
    ]
    effective = {"k1": ("good", {}), "k2": ("good", {}), "k3": ("bad", {}), "k4": ("bad", {})}
    out = judge_vs_human_by_cell(results, effective)["text/causality"]
    assert out.n == 2 and out.accuracy == pytest.approx(0.5)
    assert out.confusion["good"] == {"good": 1, "unclear": 0, "bad": 1}
