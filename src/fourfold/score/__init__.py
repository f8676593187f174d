"""From verdicts to the 12 scores.

Absolute score: share of ``good`` verdicts among judged cases, ``unclear``
counting half, with a 95 % Wilson interval (the half counts rule out an exact
binomial test, and Wilson stays inside [0, 1] for small n, where most cells
live). Relative score: the report's ``(n - avg_rank) / (n - 1) * 100`` over the
cases that every compared model answered, ranks from verdicts (good > unclear >
bad), ties sharing the mean rank (``ties="mean"``), or taking the best of the
tied ranks (``ties="min"``): the study's published text/generalizability row sums
to 433 ranks over 44 cases, below the 440 that mean ranks always give, so some of
its ties took the better rank; its code/generalizability row fits mean ranks.
Beside each score, the cell's chance level (``score.chance``): what guessing gets.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from statistics import NormalDist
from typing import TYPE_CHECKING, Any, Literal

from ..cases.taxonomy import CELLS, MODALITIES, PROPERTIES
from ..judge.verdict import ALL, JUDGED, VALUE, Verdict

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from ..store.records import StoredCase
    from .precedence import EffectiveResult

#: How tied responses are ranked: "mean" (they share the mean of their ranks) or "min" (the best of them).
Ties = Literal["mean", "min"]
TIES: tuple[str, ...] = ("mean", "min")
_RANK_METHOD = {"mean": "average", "min": "min"}


@dataclass
class CellScore:
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ALL, 0))
    n: int = 0
    absolute: float | None = None
    ci95: tuple[float, float] | None = None
    relative: float | None = None
    relative_n_cases: int | None = None
    relative_n_models: int | None = None
    #: How the relative score's per-case ranks were made: "verdicts", "rankings" or "mixed".
    relative_basis: str | None = None
    #: Where the judged verdicts came from: rule, judge (a judge model), human.
    sources: dict[str, int] = field(default_factory=dict)
    #: What uniform guessing scores (0-100) on the cases this score is over (None: cases not given).
    chance: float | None = None


@dataclass
class Scores:
    models: list[str]
    cells: list[str]
    table: dict[str, dict[str, CellScore]]
    #: How the relative scores ranked ties ("mean" or "min").
    ties: str = "mean"
    #: Chance level per cell (0-100) over every case judged in it; empty when cases were not given.
    chance: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "models": self.models,
            "cells": self.cells,
            "ties": self.ties,
            "chance": self.chance,
            "scores": {m: {c: asdict(s) for c, s in cells.items()} for m, cells in self.table.items()},
        }


class UnknownCellError(ValueError):
    """A result in a cell outside the taxonomy's 12 (a store written with another taxonomy, or
    edited by hand): the scores have no place for it, and dropping it silently would misstate them."""

    def __init__(self, cell: str, case_id: str):
        super().__init__(f"the result for case {case_id!r} is in cell {cell!r}, which is not one of the "
                         f"{len(CELLS)} cells ({', '.join(CELLS)}): was the store written by another fourfold?")
        self.cell, self.case_id = cell, case_id


def wilson(successes: float, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson interval for ``successes`` of ``n``, in percent."""
    if n == 0:
        return (0.0, 100.0)  # nothing observed: the whole range (in percent, like every other interval)
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half) * 100, min(1.0, centre + half) * 100)


def relative_scores(verdicts: dict[str, dict[str, str]],
                    rankings: dict[str, dict[str, float]] | None = None,
                    ties: Ties = "mean") -> tuple[dict[str, float], int, str]:
    """``verdicts[model][case]`` -> score per model over the cases all of them
    answered. A case's ranks come from ``rankings[case]`` (a judge model's or
    people's ranking of the responses) when it ranks every compared model, else
    from the verdicts. Rank 1 is best; tied responses share the mean rank
    (``ties="mean"``) or all take the best one (``"min"``), by ``scipy.stats.rankdata``."""
    if ties not in _RANK_METHOD:
        raise ValueError(f"ties must be one of {', '.join(TIES)}, got {ties!r}")
    models = sorted(verdicts)
    shared = set.intersection(*(set(v) for v in verdicts.values())) if models else set()
    n = len(models)
    if n < 2 or not shared:
        return {}, 0, "verdicts"
    import numpy as np
    from scipy.stats import rankdata  # ~0.5 s to import: only when there is something to rank

    rows = []
    used = set()
    for case in shared:
        ranked = (rankings or {}).get(case)
        if ranked is not None and all(m in ranked for m in models):
            rows.append([ranked[m] for m in models])
            used.add("rankings")
        else:
            rows.append([-VALUE[verdicts[m][case]] for m in models])  # higher value -> rank 1
            used.add("verdicts")
    # One call ranks every case (a row each): calling rankdata per case was seconds at 100,000 results.
    # Ranks are whole or half numbers, so their sums are exact in any order (``shared`` is a set).
    total = rankdata(np.asarray(rows, dtype=float), method=_RANK_METHOD[ties], axis=1).sum(axis=0)
    basis = "mixed" if len(used) > 1 else used.pop()
    return ({m: (n - float(t) / len(shared)) / (n - 1) * 100 for m, t in zip(models, total, strict=True)},
            len(shared), basis)


def compute_scores(rows: Sequence[EffectiveResult], rankings: dict[str, dict[str, float]] | None = None, *,
                   ties: Ties = "mean", cases: Mapping[str, StoredCase] | None = None) -> Scores:
    """``rows`` are the effective results (one per model and case, ``precedence.effective_results``);
    ``rankings`` optional per-case ranks keyed by case hash; ``ties`` how the relative
    score ranks ties; ``cases`` (by hash) the stored cases, for the chance levels."""
    models = sorted({r.model for r in rows})
    table: dict[str, dict[str, CellScore]] = {m: {c: CellScore() for c in CELLS} for m in models}
    judged: dict[str, dict[str, dict[str, str]]] = defaultdict(lambda: defaultdict(dict))
    for r in rows:
        cs = table[r.model].get(r.cell)
        if cs is None:
            raise UnknownCellError(r.cell, r.case_id)
        v = r.verdict
        cs.counts[v] = cs.counts.get(v, 0) + 1
        if v in JUDGED:
            judged[r.cell][r.model][r.case_hash or r.case_id] = v
            src = r.verdict_source or "rule"
            cs.sources[src] = cs.sources.get(src, 0) + 1
    absolute_scores(table)
    for c, per_model in judged.items():
        set_relative(table, c, *relative_scores(per_model, rankings, ties))
    chance: dict[str, float] = {}
    if cases is not None:
        from .chance import chance_levels

        chance = set_chance(table, *chance_levels(rows, cases))
    return Scores(models, list(CELLS), table, ties, chance)


def absolute_scores(table: dict[str, dict[str, CellScore]]) -> None:
    """Fill in each cell's n, absolute score and interval from its verdict counts."""
    for cells in table.values():
        for c in CELLS:
            cs = cells[c]
            cs.n = sum(cs.counts[v] for v in JUDGED)
            if cs.n:
                wins = cs.counts[Verdict.GOOD] + VALUE[Verdict.UNCLEAR] * cs.counts[Verdict.UNCLEAR]
                cs.absolute = 100 * wins / cs.n
                cs.ci95 = wilson(wins, cs.n)


def set_relative(table: dict[str, dict[str, CellScore]], cell: str, rel: dict[str, float], n_cases: int,
                 basis: str) -> None:
    """Put one cell's ``relative_scores`` into the table."""
    for m, score in rel.items():
        table[m][cell].relative = score
        table[m][cell].relative_n_cases = n_cases
        table[m][cell].relative_n_models = len(rel)
        table[m][cell].relative_basis = basis


def set_chance(table: dict[str, dict[str, CellScore]], by_cell: dict[str, float],
               per_model: dict[tuple[str, str], float]) -> dict[str, float]:
    """Put the per-(model, cell) chance levels into the table; the per-cell ones in grid order."""
    for (m, c), level in per_model.items():
        if c in table[m]:
            table[m][c].chance = level
    return {c: by_cell[c] for c in sorted(by_cell, key=lambda c: (c not in CELLS, CELLS.index(c) if c in CELLS
                                                                  else 0, c))}


__all__ = ["TIES", "CellScore", "MODALITIES", "PROPERTIES", "Scores", "Ties", "UnknownCellError", "compute_scores",
           "relative_scores", "wilson"]
