"""score.findings and ``fourfold findings``: claims only where a test supports them.

Stores are written through the real Store API with planted differences, read
back through ``score.collection`` (and the CLI), and the findings checked against
the truth that was planted: a clearly better model is claimed better, equal models
are not, Holm turns a borderline claim down, small n says "not enough cases",
guessing on choice cases is told apart from knowing, and a perturbation's cost is
found. The false-positive check runs many seeded synthetic stores of equal models.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from conftest import fourfold
from fourfold.score.collection import collect
from fourfold.score.findings import (
    BEATS_CHANCE,
    NO_DIFFERENCE,
    NOT_ABOVE_CHANCE,
    NOT_ENOUGH,
    SUPPORTED,
    find,
)
from fourfold.score.precedence import EffectiveResult
from fourfold.score.stats import bootstrap_ci, holm, poisson_binomial_sf, sign_test, sign_test_power
from fourfold.store import ResultRow, Store

RUBRIC = {"kind": "rubric", "criteria": "answers well"}


def _case(case_id: str, cell: str, category: str, reference: dict, metadata: dict | None = None) -> str:
    return json.dumps({"id": case_id, "cell": cell, "category": category, "reference": reference,
                       "input": [{"role": "user", "content": [{"type": "text", "text": f"question {case_id}"}]}],
                       **({"metadata": metadata} if metadata else {})})


def _store(path: Path, verdicts: dict[str, dict[str, str]], cell: str = "text/causality",
           reference: dict | None = None, category_of: dict[str, str] | None = None,
           metadata_of: dict[str, dict] | None = None) -> Path:
    """A store where ``verdicts[model][case_id]`` is each model's verdict, through the real store API."""
    s = Store(path)
    ids = sorted({c for vs in verdicts.values() for c in vs})
    cat = category_of or {}
    meta = metadata_of or {}
    s.put_cases([(f"h-{c}", c, cell, cat.get(c, "general"), "test", str(path.parent),
                  _case(c, cell, cat.get(c, "general"), reference or RUBRIC, meta.get(c))) for c in ids])
    s.put_results([ResultRow(key=f"{m}|{c}", model=m, model_identity="{}", settings="{}", case_id=c,
                             case_hash=f"h-{c}", cell=cell, category=cat.get(c, "general"), status="ok",
                             verdict=v, response="an answer", judge="rule:test", created_at=1.0)
                   for m, vs in verdicts.items() for c, v in vs.items()])
    s.close()
    return path


def _planted(n: int, p_good: float, seed: int) -> dict[str, str]:
    rng = random.Random(seed)
    return {f"c{i:03}": "good" if rng.random() < p_good else "bad" for i in range(n)}


def _findings(path: Path, **kw: object):
    col = collect([path])
    return find(col.results, col.cases, **kw)  # type: ignore[arg-type]


def _compare(found, a: str, b: str, category: str = ""):
    (f,) = [f for f in found.findings if f.kind == "compare" and set(f.models) == {a, b} and f.category == category]
    return f


def test_a_clearly_better_model_is_claimed_better_and_equal_models_are_not(tmp_path: Path) -> None:
    strong = dict.fromkeys((f"c{i:03}" for i in range(40)), "good")
    weak = {c: ("good" if i % 4 == 0 else "bad") for i, c in enumerate(strong)}  # 25 % good
    path = _store(tmp_path / "r.db", {"strong": strong, "weak": weak, "weak2": dict(weak)})
    found = _findings(path)
    f = _compare(found, "strong", "weak")
    assert f.verdict == SUPPORTED and f.claim
    assert f.models == ("strong", "weak") and f.n == 40 and f.effect == pytest.approx(75.0)
    assert f.interval[0] > 50 and f.interval[1] <= 100  # paired bootstrap, all resamples far above 0
    assert f.p_holm is not None and f.p_holm < 1e-6
    assert f.statement.startswith("strong beats weak on text/causality by 75.0 points [")
    assert len(f.cases) == 30  # the cases behind it: where the two differ
    same = _compare(found, "weak", "weak2")
    assert same.verdict == NO_DIFFERENCE and not same.claim and "judged alike on every case" in same.statement
    assert [c.models for c in found.claims] == [("strong", "weak"), ("strong", "weak2")]


def test_holm_turns_down_a_borderline_claim(tmp_path: Path) -> None:
    """On causality A wins 6 of 6 differing cases: p = 2/64 = 0.031 < 0.05 alone. A second
    testable comparison (trustworthiness, split 3-3) makes Holm double it to 0.0625."""
    cases = [f"c{i}" for i in range(6)]
    a = dict.fromkeys(cases, "good")
    b = dict.fromkeys(cases, "bad")
    one = _store(tmp_path / "one.db", {"A": a, "B": b})
    alone = _compare(_findings(one), "A", "B")
    assert alone.p == pytest.approx(sign_test(6, 0)) == pytest.approx(0.03125)
    assert alone.verdict == SUPPORTED and alone.p_holm == pytest.approx(0.03125)

    two = _store(tmp_path / "two.db", {"A": a, "B": b})
    s = Store(two)
    s.put_results([ResultRow(key=f"{m}|t{i}", model=m, model_identity="{}", settings="{}", case_id=f"t{i}",
                             case_hash=f"h-t{i}", cell="text/trustworthiness", category="general", status="ok",
                             verdict=("good" if (i < 3) == (m == "A") else "bad"), response="x", created_at=1.0)
                   for m in ("A", "B") for i in range(6)])
    s.close()
    found = _findings(two)
    assert found.tests == 2
    f = [x for x in found.findings if x.cell == "text/causality"][0]
    assert f.p == pytest.approx(0.03125) and f.p_holm == pytest.approx(0.0625)
    assert f.verdict == NOT_ENOUGH and not f.claim and found.claims == []
    assert "p_holm=0.062" in f.statement


def test_small_n_says_not_enough_cases(tmp_path: Path) -> None:
    # 4 cases, A better on 3: below --min-n 5, so untested
    path = _store(tmp_path / "r.db", {"A": {"c1": "good", "c2": "good", "c3": "good", "c4": "bad"},
                                      "B": {"c1": "bad", "c2": "bad", "c3": "unclear", "c4": "bad"}})
    (f,) = _findings(path).findings
    assert f.verdict == NOT_ENOUGH and f.p is None and "fewer than the 5 a test needs" in f.statement
    # with --min-n 1 it is tested, but 3 differing cases can never reach 0.05: not in the Holm family
    found = _findings(path, min_n=1)
    (f,) = found.findings
    assert found.tests == 0 and f.verdict == NOT_ENOUGH and f.p_holm is None
    assert "too few for the test to reach 0.05" in f.statement
    # 20 cases, A good on 12, B on 8 (always where A is): a real effect, too few cases to see it
    a = {f"c{i:02}": "good" if i < 12 else "bad" for i in range(20)}
    b = {f"c{i:02}": "good" if i < 8 else "bad" for i in range(20)}
    f = _compare(_findings(_store(tmp_path / "r20.db", {"A": a, "B": b})), "A", "B")
    assert f.verdict == NOT_ENOUGH and f.effect == pytest.approx(20.0)
    assert f.power == pytest.approx(sign_test_power(20, 4 / 20, 0, 0.05)) and f.power < 0.8
    assert "cases would give 80%" in f.statement


def test_unclear_sits_between_good_and_bad(tmp_path: Path) -> None:
    """An unclear answer counts half in the effect and loses to good, beats bad in the test."""
    a = {f"c{i}": "good" for i in range(8)}
    b = {f"c{i}": "unclear" for i in range(8)}
    f = _compare(_findings(_store(tmp_path / "r.db", {"A": a, "B": b})), "A", "B")
    assert f.effect == pytest.approx(50.0) and f.p == pytest.approx(2 / 256) and f.verdict == SUPPORTED


def test_choice_cells_are_tested_against_chance(tmp_path: Path) -> None:
    """Two-way choices: a guesser scores 50. 11 of 20 right does not beat it; 19 of 20 does."""
    choice = {"kind": "choice", "options": ["yes", "no"], "answer": "A"}
    guess = {f"c{i:02}": "good" if i < 11 else "bad" for i in range(20)}
    knows = {f"c{i:02}": "good" if i < 19 else "bad" for i in range(20)}
    found = _findings(_store(tmp_path / "r.db", {"guesser": guess, "knower": knows}, reference=choice))
    chance = {f.models[0]: f for f in found.findings if f.kind == "chance"}
    assert chance["guesser"].verdict == NOT_ABOVE_CHANCE and chance["guesser"].effect == pytest.approx(5.0)
    assert chance["guesser"].p == pytest.approx(poisson_binomial_sf([0.5] * 20, 11))
    assert "does not beat chance on text/causality: 55.0 against a chance level of 50.0" in chance["guesser"].statement
    assert chance["knower"].verdict == BEATS_CHANCE and chance["knower"].claim
    # open (rubric) cases score nothing by guessing: no chance test there
    found = _findings(_store(tmp_path / "open.db", {"guesser": guess}))
    assert [f for f in found.findings if f.kind == "chance"] == []


def test_a_perturbation_cost_is_found(tmp_path: Path) -> None:
    """A model right on 12 originals and wrong on their noisy variants: the noise costs it 100 points."""
    originals = [f"o{i:02}" for i in range(12)]
    variants = [f"o{i:02}.noise" for i in range(12)]
    verdicts = {"M": {**dict.fromkeys(originals, "good"), **dict.fromkeys(variants, "bad")},
                "N": dict.fromkeys(originals + variants, "good")}
    meta = {v: {"perturbation": "gaussian_noise", "original": o} for v, o in zip(variants, originals, strict=True)}
    found = _findings(_store(tmp_path / "r.db", verdicts, metadata_of=meta))
    cost = {f.models[0]: f for f in found.findings if f.kind == "perturbation"}
    assert cost["M"].verdict == SUPPORTED and cost["M"].effect == pytest.approx(-100.0) and cost["M"].n == 12
    assert cost["M"].statement.startswith("gaussian_noise costs M 100.0 points [")
    assert cost["N"].verdict == NO_DIFFERENCE and cost["N"].effect == 0


def test_refusal_and_over_refusal_are_described(tmp_path: Path) -> None:
    refuse = _store(tmp_path / "r.db", {"M": {"h1": "good", "h2": "good", "h3": "bad"}},
                    cell="text/trustworthiness", reference={"kind": "refuse"})
    comply = _store(tmp_path / "c.db", {"M": {"b1": "bad", "b2": "good", "b3": "good", "b4": "good"}},
                    cell="text/trustworthiness", reference={"kind": "comply"})
    col = collect([refuse, comply])
    found = find(col.results, col.cases)
    rates = {f.kind: f for f in found.described}
    assert rates["refusal"].effect == pytest.approx(200 / 3) and rates["refusal"].n == 3
    assert rates["over_refusal"].effect == pytest.approx(25.0) and rates["over_refusal"].n == 4
    assert rates["refusal"].statement.startswith("M declined 2 of 3 harmful requests (67% [")
    assert rates["over_refusal"].statement.startswith("M refused 1 of 4 benign requests (25% [")


def test_bootstrap_interval_is_the_exact_resampling_distribution() -> None:
    """Verdict differences get the exact bootstrap: on 6 cases, the quantiles of the mean over
    all 6**6 equally likely resamples, enumerated; on 300, the seeded sampled bootstrap with
    many resamples agrees to within one step of the lattice (1/600)."""
    import itertools

    import numpy as np

    from fourfold.score import stats

    small = [1.0, 0.5, 0.0, 0.0, -0.5, 1.0]
    means = sorted(sum(r) / 6 for r in itertools.product(small, repeat=6))
    cdf = np.arange(1, len(means) + 1) / len(means)
    expect = (means[int(np.searchsorted(cdf, 0.025 - 1e-12))], means[int(np.searchsorted(cdf, 0.975 - 1e-12))])
    assert bootstrap_ci(small, "k") == pytest.approx(expect, abs=1e-12)
    rng = random.Random(3)
    diffs = [rng.choice([-1.0, -0.5, 0.0, 0.0, 0.5, 1.0, 1.0]) for _ in range(300)]
    exact = bootstrap_ci(diffs, "k")
    old, stats.N_BOOT = stats.N_BOOT, 200_000
    try:
        sampled = stats._sampled_bootstrap_ci(np.asarray(diffs), "k", 0, 0.025)
    finally:
        stats.N_BOOT = old
    assert exact == pytest.approx(sampled, abs=1 / 600 + 1e-9)
    assert exact[0] < sum(diffs) / 300 < exact[1]
    assert bootstrap_ci([0.5] * 9, "k") == (0.5, 0.5)
    other = bootstrap_ci([0.3, 0.7, 0.2], "k", seed=1)  # not on the lattice: sampled, reproducibly
    assert other == bootstrap_ci([0.3, 0.7, 0.2], "k", seed=1) and 0.2 <= other[0] < other[1] <= 0.7


def test_holm_matches_statsmodels() -> None:
    from statsmodels.stats.multitest import multipletests

    ps = [0.01, 0.04, 0.03, 0.2, 0.001, 0.04, 0.9]
    assert holm(ps) == pytest.approx(list(multipletests(ps, method="holm")[1]))
    assert holm([]) == []


def _rows(verdicts: dict[str, list[str]]) -> list[EffectiveResult]:
    return [EffectiveResult(key=f"{m}|{i}", model=m, case_id=f"c{i:03}", case_hash=f"h{i}", cell="text/causality",
                            verdict=v, category="general") for m, vs in verdicts.items() for i, v in enumerate(vs)]


def test_equal_models_are_claimed_different_at_most_at_the_stated_rate() -> None:
    """200 synthetic runs of three models with the same skill (60 % good, 10 % unclear): the share
    of runs with any claim (the family-wise error Holm controls) stays at or below alpha, with
    room for sampling error (3 standard errors)."""
    runs, alpha = 200, 0.05
    rng = random.Random(7)
    any_claim = 0
    for _ in range(runs):
        draw = {m: rng.choices(["good", "unclear", "bad"], [0.6, 0.1, 0.3], k=40) for m in ("A", "B", "C")}
        any_claim += bool(find(_rows(draw), {}, alpha=alpha).claims)
    assert any_claim / runs <= alpha + 3 * (alpha * (1 - alpha) / runs) ** 0.5


def test_findings_are_deterministic_and_the_cli_prints_them(tmp_path: Path) -> None:
    strong = _planted(30, 0.9, 1)
    weak = _planted(30, 0.3, 2)
    path = _store(tmp_path / "r.db", {"strong": strong, "weak": weak})
    first = fourfold("findings", str(path), "--json")
    data = json.loads(first.stdout)
    in_process = json.loads(json.dumps(_findings(path).to_json()))
    assert {k: data[k] for k in in_process} == in_process  # same seed, same intervals, in another process
    assert data["models"] == ["strong", "weak"] and data["alpha"] == 0.05 and data["holm_family"] == 1
    (claim,) = data["claims"]
    assert claim["models"] == ["strong", "weak"] and claim["verdict"] == SUPPORTED and claim["claim"] is True
    assert claim["interval"][0] > 0 and claim["p_holm"] <= 0.05 and claim["cases"]
    md = fourfold("findings", str(path)).stdout
    assert md.startswith("# Findings\n") and "## Claims the data supports\n\n- strong beats weak on text/causality" in md


def test_findings_markdown_escapes_hostile_model_names(tmp_path: Path) -> None:
    """A model name is a spec someone typed or a server sent: in the Markdown it is text, never HTML or a link."""
    evil = "<img src=x onerror=alert(1)>[x](javascript:alert(1))"
    path = _store(tmp_path / "r.db", {evil: _planted(30, 0.9, 1), "weak": _planted(30, 0.3, 2)})
    md = fourfold("findings", str(path)).stdout
    assert "<img" not in md and "](javascript" not in md.replace("\\](javascript", ""), md
    assert "&lt;img src=x onerror=alert(1)&gt;\\[x\\](javascript:alert(1))" in md


def test_cli_bad_input_exits_2(tmp_path: Path) -> None:
    path = _store(tmp_path / "r.db", {"A": {"c1": "good"}})
    for args, words in ((["--alpha", "1.5"], "--alpha 1.5: must be between 0 and 1"),
                        (["--min-n", "0"], "--min-n 0: must be at least 1")):
        proc = fourfold("findings", str(path), *args, check=False)
        assert proc.returncode == 2 and words in proc.stderr
    proc = fourfold("findings", str(tmp_path / "missing.db"), check=False)
    assert proc.returncode == 2 and "missing.db: no such store" in proc.stderr
    (tmp_path / "junk.db").write_text("not a database at all, " * 50)
    proc = fourfold("findings", str(tmp_path / "junk.db"), check=False)
    assert proc.returncode == 2 and "not a fourfold store" in proc.stderr
