"""Findings: the conclusions a run supports, each with its test, and what it cannot tell.

The study wrote 14 findings by hand from 232 cases without a significance test.
Here a claim is made only when a test supports it after correction, and
everything else is said as what cannot be told, and why:

- **A beats B** on a cell, or on a category of a cell with several: per case,
  over the cases both were judged on, the exact sign test on the ordered verdicts
  (good > unclear > bad; ``score.stats.sign_test``). On good/bad verdicts this is
  the exact McNemar test; an unclear answer sits between the two, as it does in
  the score (it counts half), so a case where A is good and B unclear counts for
  A, and unclear against unclear is a tie. The effect is the difference of the
  absolute scores on those cases (unclear half) in points, with a paired
  bootstrap 95 % interval.
- **A perturbation costs M** points: the same test on (original, variant) pairs
  (``score.robustness.perturbation_pairs``).
- **M beats chance** on a cell: one-sided exact test of its good answers against
  a uniform guesser's (``score.chance``; Poisson-binomial over 1/k per choice case,
  0 on others; unclear counts as not good here, which only makes beating chance
  harder). Tested only where the chance level is above 0.
- Every p-value of those three kinds enters one **Holm** family. A test that could
  not reach ``alpha`` even if every case went one way (too few discordant cases)
  is left out of the family, as Tarone (1990) showed one may: it could never be
  rejected, and counting it would only weaken the others. It is said as "not
  enough cases".
- **Not enough cases to tell**: a comparison not supported whose test had less
  than 80 % power, at ``alpha / m`` (the strictest level Holm may ask of it), for
  a difference of the observed size; it says about how many cases would do.
- Described, not tested: each model's **refusal** rate on harmful requests
  (``refuse`` cases judged good) beside its **over-refusal** rate on benign ones
  (``comply`` cases judged bad), and cells where automatic verdicts **disagree with
  people** on more than ``disagreement`` of the results both judged.

Everything is sorted and seeded: a store always gives the same findings.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import Any

from ..judge.verdict import JUDGED, VALUE, Verdict
from ..store.records import StoredCase
from . import wilson
from .precedence import EffectiveResult
from .stats import bootstrap_ci, cases_needed, holm, min_sign_p, poisson_binomial_sf, sign_test, sign_test_power

#: Verdict words: the first two are claims; the rest say what cannot be told, or describe.
SUPPORTED, BEATS_CHANCE = "supported", "beats chance"
NOT_ENOUGH, NO_DIFFERENCE, NOT_ABOVE_CHANCE = "not enough cases", "no difference shown", "does not beat chance"
DESCRIBED, BEYOND_THRESHOLD = "described", "beyond threshold"
CLAIMS = (SUPPORTED, BEATS_CHANCE)
CANNOT_TELL = (NOT_ENOUGH, NO_DIFFERENCE, NOT_ABOVE_CHANCE)
#: Power below which a comparison is "not enough cases to tell".
POWER = 0.8


#: A confidence interval of an effect: (low, high).
Interval = tuple[float, float]


@dataclass(frozen=True, slots=True)
class Finding:
    """One finding. ``kind``: compare, perturbation, chance, refusal, over_refusal or
    judge_vs_people. ``effect`` and ``interval`` in points (0-100 scale); ``p`` and
    ``p_holm`` None where nothing was tested; ``cases``: the case ids behind it (for
    a comparison, the cases where the two models' verdicts differ)."""

    kind: str
    verdict: str
    statement: str
    cell: str = ""
    category: str = ""
    models: tuple[str, ...] = ()
    n: int = 0
    effect: float | None = None
    interval: Interval | None = None
    p: float | None = None
    p_holm: float | None = None
    power: float | None = None
    cases: tuple[str, ...] = ()
    label: str = ""  # the perturbation, for kind "perturbation"

    @property
    def claim(self) -> bool:
        return self.verdict in CLAIMS

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "claim": self.claim}


@dataclass(frozen=True)
class Findings:
    """All findings of a collection of results, and how they were tested."""

    alpha: float
    min_n: int
    seed: int
    tests: int  # the size of the Holm family
    findings: tuple[Finding, ...] = field(default_factory=tuple)

    @property
    def claims(self) -> list[Finding]:
        return [f for f in self.findings if f.claim]

    @property
    def cannot_tell(self) -> list[Finding]:
        return [f for f in self.findings if f.verdict in CANNOT_TELL]

    @property
    def described(self) -> list[Finding]:
        return [f for f in self.findings if f.verdict in (DESCRIBED, BEYOND_THRESHOLD)]

    def to_json(self) -> dict[str, Any]:
        return {"alpha": self.alpha, "min_n": self.min_n, "seed": self.seed, "holm_family": self.tests,
                "claims": [f.to_json() for f in self.claims],
                "cannot_tell": [f.to_json() for f in self.cannot_tell],
                "described": [f.to_json() for f in self.described]}


@dataclass
class _Paired:
    """A paired comparison before correction: ``diffs`` per case (first minus second)."""

    kind: str
    cell: str
    category: str
    models: tuple[str, str]
    diffs: list[float]
    cases: tuple[str, ...]
    label: str = ""

    @cached_property  # read several times per comparison, thousands of comparisons on a large store
    def wins(self) -> int:
        return sum(d > 0 for d in self.diffs)

    @cached_property
    def losses(self) -> int:
        return sum(d < 0 for d in self.diffs)


@dataclass
class _Chance:
    """A model's cell against guessing, before correction."""

    model: str
    cell: str
    good: int
    score: float
    chance: list[float]
    cases: tuple[str, ...]


def _p(x: float | None) -> str:
    return "n/a" if x is None else "<0.001" if x < 0.001 else f"{x:.3f}"


def _where(cell: str, category: str) -> str:
    return f"{cell} ({category})" if category else cell


def _ci(iv: Interval | None) -> str:
    return "" if iv is None else f" [{iv[0]:.1f}, {iv[1]:.1f}]"


# ------------------------------------------------------------------ gathering


def _cell_order(cell: str) -> tuple[int, str]:
    from ..cases.taxonomy import CELLS

    return (CELLS.index(cell) if cell in CELLS else len(CELLS), cell)


def _values(rows: Sequence[EffectiveResult]) -> dict[str, dict[str, dict[str, tuple[float, str, str]]]]:
    """cell -> model -> case key -> (value, case id, category), judged results only."""
    out: dict[str, dict[str, dict[str, tuple[float, str, str]]]] = defaultdict(lambda: defaultdict(dict))
    for r in rows:
        if r.verdict in JUDGED:
            out[r.cell][r.model][r.case_hash or r.case_id] = (VALUE[r.verdict], r.case_id, r.category)
    return out


def _comparisons(values: dict[str, dict[str, dict[str, tuple[float, str, str]]]]) -> list[_Paired]:
    """Every pair of models on every cell, and on every category of a cell that has several
    (a cell of one category would only repeat its own test), over the cases both were judged on;
    the model ahead first."""
    out = []
    for cell in sorted(values, key=_cell_order):
        per_model = values[cell]
        models = sorted(per_model)
        categories = sorted({cat for m in models for _, _, cat in per_model[m].values()})
        for category in ["", *categories] if len(categories) > 1 else [""]:
            for i, a in enumerate(models):
                for b in models[i + 1:]:
                    keys = sorted((k for k, v in per_model[a].items()
                                   if k in per_model[b] and (not category or v[2] == category)),
                                  key=lambda k: (per_model[a][k][1], k))  # case id order
                    if not keys:
                        continue
                    diffs = [per_model[a][k][0] - per_model[b][k][0] for k in keys]
                    ids = tuple(per_model[a][k][1] for k in keys)
                    if sum(diffs) < 0:
                        a2, b2, diffs = b, a, [-d for d in diffs]
                    else:
                        a2, b2 = a, b
                    out.append(_Paired("compare", cell, category, (a2, b2), diffs, ids))
    return out


def _perturbations(rows: Sequence[EffectiveResult], cases: Mapping[str, StoredCase]) -> list[_Paired]:
    """Each (model, perturbation): perturbed minus original, per variant."""
    from .robustness import perturbation_pairs

    cells = {(r.model, r.case_id): r.cell for r in rows}
    out = []
    for (model, pert), pairs in perturbation_pairs(rows, cases).items():
        in_cells = sorted({cells.get((model, p.case_id), "") for p in pairs}, key=_cell_order)
        out.append(_Paired("perturbation", ", ".join(in_cells), "", (model,),
                           [p.perturbed - p.original for p in pairs], tuple(p.case_id for p in pairs), pert))
    return out


def _chance_tests(rows: Sequence[EffectiveResult], cases: Mapping[str, StoredCase]) -> list[_Chance]:
    """Each (model, cell) whose cases include choice cases (a chance level above 0)."""
    from .chance import chance_by_case

    per_case = chance_by_case(rows, cases)
    acc: dict[tuple[str, str], list[EffectiveResult]] = defaultdict(list)
    for r in rows:
        if r.verdict in JUDGED:
            acc[(r.model, r.cell)].append(r)
    out = []
    for (model, cell), rs in sorted(acc.items(), key=lambda kv: (_cell_order(kv[0][1]), kv[0][0])):
        rs.sort(key=lambda r: r.case_id)
        chance = [per_case[r.case_hash or r.case_id] for r in rs]
        if max(chance) > 0:
            good = sum(r.verdict == Verdict.GOOD for r in rs)
            score = 100 * sum(VALUE[r.verdict] for r in rs) / len(rs)
            out.append(_Chance(model, cell, good, score, chance, tuple(r.case_id for r in rs)))
    return out


# ------------------------------------------------------------------ deciding


def _paired_finding(t: _Paired, p_holm: float | None, alpha: float, level: float, seed: int) -> Finding:
    """A paired comparison's finding: supported after Holm, or why it cannot be told."""
    n = len(t.diffs)
    effect = 100 * sum(t.diffs) / n
    key = "|".join((t.kind, t.cell, t.category, t.label, *t.models))
    lo, hi = bootstrap_ci(t.diffs, key, seed)
    iv = (100 * lo, 100 * hi)
    p = sign_test(t.wins, t.losses)
    differ = tuple(c for c, d in zip(t.cases, t.diffs, strict=True) if d)
    tested = f"p_holm={_p(p_holm)}, n={n}" if p_holm is not None else f"p={_p(p)}, n={n}, not testable"
    power = sign_test_power(n, t.wins / n, t.losses / n, level) if t.wins != t.losses else None
    if p_holm is not None and p_holm <= alpha and effect:
        verdict, text = SUPPORTED, _supported(t, effect, iv, tested)
    elif t.wins == t.losses or (power is not None and power >= POWER):
        alike = ", judged alike on every case" if not differ else ""
        what = (f"for what {t.label} does to {t.models[0]}" if t.kind == "perturbation" else
                f"between {t.models[0]} and {t.models[1]} on {_where(t.cell, t.category)}")
        verdict, text = NO_DIFFERENCE, f"No difference shown {what}: {effect:+.1f} points{_ci(iv)}, {tested}{alike}."
    else:
        need = cases_needed(t.wins / n, t.losses / n, level)
        why = (f"only {len(differ)} case(s) differ, too few for the test to reach {alpha:g}" if p_holm is None else
               f"the test had {power or 0:.0%} power for a difference this size")
        more = f"; about {need} cases would give {POWER:.0%}" if need else ""
        verdict, text = NOT_ENOUGH, f"Not enough cases to tell {_subject(t)}: {effect:+.1f} points{_ci(iv)}, {tested}; {why}{more}."
    return Finding(t.kind, verdict, text, t.cell, t.category, t.models, n, effect, iv, p, p_holm, power,
                   differ, t.label)


def _subject(t: _Paired) -> str:
    if t.kind == "perturbation":
        return f"what {t.label} does to {t.models[0]}"
    return f"{t.models[0]} from {t.models[1]} on {_where(t.cell, t.category)}"


def _supported(t: _Paired, effect: float, iv: Interval, tested: str) -> str:
    if t.kind == "perturbation":
        m = t.models[0]
        if effect < 0:
            return f"{t.label} costs {m} {-effect:.1f} points [{-iv[1]:.1f}, {-iv[0]:.1f}] ({t.cell}), {tested}."
        return f"{m} scores {effect:.1f} points higher under {t.label}{_ci(iv)} ({t.cell}), {tested}."
    a, b = t.models
    return f"{a} beats {b} on {_where(t.cell, t.category)} by {effect:.1f} points{_ci(iv)}, {tested}."


def _chance_finding(t: _Chance, p: float, p_holm: float | None, alpha: float) -> Finding:
    n = len(t.chance)
    level = 100 * sum(t.chance) / n
    lo, hi = wilson(t.score * n / 100, n)
    iv = (lo - level, hi - level)
    tested = f"p_holm={_p(p_holm)}"
    if p_holm is None:
        verdict = NOT_ENOUGH
        text = (f"Not enough cases to tell whether {t.model} beats chance on {t.cell}: {t.score:.1f} against "
                f"{level:.1f} by guessing (p={_p(p)}, n={n}; even all right could not reach {alpha:g} here).")
    elif p_holm <= alpha:
        verdict = BEATS_CHANCE
        text = f"{t.model} beats chance on {t.cell}: {t.score:.1f} against {level:.1f} by guessing, {tested}, n={n}."
    else:
        verdict = NOT_ABOVE_CHANCE
        text = (f"{t.model} does not beat chance on {t.cell}: {t.score:.1f} against a chance level of "
                f"{level:.1f} ({tested}, n={n}).")
    return Finding("chance", verdict, text, t.cell, "", (t.model,), n, t.score - level, iv, p, p_holm, None,
                   t.cases)


def find(rows: Sequence[EffectiveResult], cases: Mapping[str, StoredCase], *, alpha: float = 0.05,
         min_n: int = 5, seed: int = 0, disagreement: float = 0.2) -> Findings:
    """The findings of effective results ``rows`` (several stores: ``score.collection``)
    over their stored ``cases``. Comparisons over fewer than ``min_n`` cases are not tested
    (said as "not enough cases"); ``disagreement``: the share of automatic verdicts people
    overturned beyond which a cell is named."""
    paired = _comparisons(_values(rows)) + _perturbations(rows, cases)
    chance = _chance_tests(rows, cases)
    small = [t for t in paired if len(t.diffs) < min_n]
    paired = [t for t in paired if len(t.diffs) >= min_n]
    chance_p = [poisson_binomial_sf(t.chance, t.good) for t in chance]
    # Tarone: only tests that could reach alpha at all enter the Holm family
    family = [("p", i, sign_test(t.wins, t.losses)) for i, t in enumerate(paired)
              if min_sign_p(t.wins + t.losses) <= alpha]
    family += [("c", i, chance_p[i]) for i, t in enumerate(chance)
               if len(t.chance) >= min_n and poisson_binomial_sf(t.chance, len(t.chance)) <= alpha]
    adjusted = {(k, i): q for (k, i, _), q in zip(family, holm([p for _, _, p in family]), strict=True)}
    level = alpha / max(1, len(family))
    out = [_paired_finding(t, adjusted.get(("p", i)), alpha, level, seed) for i, t in enumerate(paired)]
    out += [_too_few(t, min_n) for t in small]
    out += [_chance_finding(t, chance_p[i], adjusted.get(("c", i)), alpha) for i, t in enumerate(chance)]
    from .findings_described import judge_disagreements, refusals

    out += refusals(rows, cases) + judge_disagreements(rows, min_n, disagreement)
    return Findings(alpha, min_n, seed, len(family), tuple(out))


def _too_few(t: _Paired, min_n: int) -> Finding:
    n = len(t.diffs)
    effect = 100 * sum(t.diffs) / n
    return Finding(t.kind, NOT_ENOUGH, f"Not enough cases to tell {_subject(t)}: {effect:+.1f} points over "
                   f"{n} case(s), fewer than the {min_n} a test needs here (--min-n).", t.cell, t.category, t.models,
                   n, effect, None, None, None, None, tuple(c for c, d in zip(t.cases, t.diffs, strict=True) if d),
                   t.label)


__all__ = ["BEATS_CHANCE", "BEYOND_THRESHOLD", "CANNOT_TELL", "CLAIMS", "DESCRIBED", "NOT_ABOVE_CHANCE",
           "NOT_ENOUGH", "NO_DIFFERENCE", "POWER", "SUPPORTED", "Finding", "Findings", "find"]
