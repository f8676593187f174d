"""Scores finer and side by side: per category inside a cell, each case's rank
among the models, and two models' paired difference per cell.

These are what a reader drills into after the 12 cells (the leaderboard site):
the category a model fails, where on a case it stood among the others, and
whether one model beats another on the *same* cases. The difference is paired
(per-case value of A minus value of B on cases both judged), because the two
models answered the same questions: an unpaired interval would ignore that and
come out much wider than the data warrants.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from statistics import NormalDist

from ..judge.verdict import JUDGED, VALUE
from . import wilson
from .precedence import EffectiveResult


@dataclass(frozen=True, slots=True)
class CategoryScore:
    """One model's absolute score (0-100) on one category of one cell, with its Wilson interval."""

    model: str
    cell: str
    category: str
    n: int
    absolute: float
    ci95: tuple[float, float]


@dataclass(frozen=True, slots=True)
class PairedDifference:
    """Model A minus model B on one cell's cases both judged: the mean per-case
    difference in points (good 1, unclear half), with a normal 95 % interval
    (``None`` below two pairs), and how many cases went each way."""

    cell: str
    n: int
    difference: float
    ci95: tuple[float, float] | None
    a_better: int
    b_better: int


def category_scores(rows: Sequence[EffectiveResult]) -> list[CategoryScore]:
    """Absolute score per (model, cell, category) over judged results, sorted."""
    acc: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    for r in rows:
        if r.verdict in VALUE:
            acc[(r.model, r.cell, r.category)].append(VALUE[r.verdict])
    out = []
    for (model, cell, category), vals in sorted(acc.items()):
        wins = sum(vals)
        out.append(CategoryScore(model, cell, category, len(vals), 100 * wins / len(vals), wilson(wins, len(vals))))
    return out


def case_ranks(verdicts: Mapping[str, str], ranking: Mapping[str, float] | None = None) -> dict[str, float]:
    """Each judged model's rank on one case (1 = best, ties share the mean rank):
    from ``ranking`` (a judge model's or people's) when it ranks all of them, else
    from the verdicts, as the relative score ranks them (``score.relative_scores``)."""
    judged = {m: v for m, v in verdicts.items() if v in JUDGED}
    if ranking is not None and judged and all(m in ranking for m in judged):
        keys = {m: float(ranking[m]) for m in judged}
    else:
        keys = {m: -VALUE[v] for m, v in judged.items()}
    ordered = sorted(keys.values())
    first: dict[float, int] = {}
    count: dict[float, int] = defaultdict(int)
    for i, k in enumerate(ordered):
        first.setdefault(k, i + 1)
        count[k] += 1
    return {m: first[k] + (count[k] - 1) / 2 for m, k in keys.items()}


def paired_differences(values: Mapping[str, Mapping[str, Mapping[str, float]]], a: str, b: str,
                       confidence: float = 0.95) -> list[PairedDifference]:
    """``values[cell][case][model]`` (judged values) -> A minus B per cell, over the
    cases both have a value for; cells where they share none are left out."""
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    out = []
    for cell, cases in values.items():
        diffs = [c[a] - c[b] for c in cases.values() if a in c and b in c]
        n = len(diffs)
        if not n:
            continue
        mean = sum(diffs) / n
        ci = None
        if n >= 2:
            sd = math.sqrt(sum((d - mean) ** 2 for d in diffs) / (n - 1))
            half = z * sd / math.sqrt(n)
            ci = (100 * max(-1.0, mean - half), 100 * min(1.0, mean + half))
        out.append(PairedDifference(cell, n, 100 * mean, ci, sum(d > 0 for d in diffs), sum(d < 0 for d in diffs)))
    return out


__all__ = ["CategoryScore", "PairedDifference", "case_ranks", "category_scores", "paired_differences"]
