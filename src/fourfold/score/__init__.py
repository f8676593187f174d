"""From verdicts to the 12 scores.

Absolute score: share of ``good`` verdicts among judged cases, ``unclear``
counting half, with a 95 % Wilson interval (the half counts rule out an exact
binomial test, and Wilson stays inside [0, 1] for small n, where most cells
live). Relative score: the report's ``(n - avg_rank) / (n - 1) * 100`` over the
cases that every compared model answered, ranks from verdicts (good > unclear >
bad), ties sharing the mean rank.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from statistics import NormalDist
from typing import Any

from ..cases.taxonomy import CELLS, MODALITIES, PROPERTIES

JUDGED = ("good", "unclear", "bad")
ALL_VERDICTS = ("good", "unclear", "bad", "unjudged", "not_evaluated", "error")
_VALUE = {"good": 1.0, "unclear": 0.5, "bad": 0.0}


@dataclass
class CellScore:
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ALL_VERDICTS, 0))
    n: int = 0
    absolute: float | None = None
    ci95: tuple[float, float] | None = None
    relative: float | None = None
    relative_n_cases: int | None = None
    relative_n_models: int | None = None


@dataclass
class Scores:
    models: list[str]
    cells: list[str]
    table: dict[str, dict[str, CellScore]]

    def to_json(self) -> dict[str, Any]:
        return {
            "models": self.models,
            "cells": self.cells,
            "scores": {m: {c: asdict(s) for c, s in cells.items()} for m, cells in self.table.items()},
        }


def wilson(successes: float, n: int, confidence: float = 0.95) -> tuple[float, float]:
    if n == 0:
        return (0.0, 1.0)
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half) * 100, min(1.0, centre + half) * 100)


def relative_scores(verdicts: dict[str, dict[str, str]]) -> tuple[dict[str, float], int]:
    """``verdicts[model][case_id]`` -> score per model over the shared cases.
    Rank 1 is best; ``scipy.stats.rankdata`` gives tied responses their mean rank."""
    models = sorted(verdicts)
    shared = set.intersection(*(set(v) for v in verdicts.values())) if models else set()
    n = len(models)
    if n < 2 or not shared:
        return {}, 0
    from scipy.stats import rankdata  # ~0.5 s to import: only when there is something to rank

    total = dict.fromkeys(models, 0.0)
    for case_id in shared:
        values = [-_VALUE[verdicts[m][case_id]] for m in models]  # higher value -> rank 1
        for m, r in zip(models, rankdata(values, method="average"), strict=True):
            total[m] += float(r)
    return {m: (n - total[m] / len(shared)) / (n - 1) * 100 for m in models}, len(shared)


def compute_scores(rows: list[dict[str, Any]]) -> Scores:
    """``rows`` are the store's latest results (one per model and case)."""
    models = sorted({r["model"] for r in rows})
    table: dict[str, dict[str, CellScore]] = {m: {c: CellScore() for c in CELLS} for m in models}
    judged: dict[str, dict[str, dict[str, str]]] = defaultdict(lambda: defaultdict(dict))
    for r in rows:
        cs = table[r["model"]][r["cell"]]
        v = r["verdict"]
        cs.counts[v] = cs.counts.get(v, 0) + 1
        if v in JUDGED:
            judged[r["cell"]][r["model"]][r["case_id"]] = v
    for m in models:
        for c in CELLS:
            cs = table[m][c]
            cs.n = sum(cs.counts[v] for v in JUDGED)
            if cs.n:
                wins = cs.counts["good"] + 0.5 * cs.counts["unclear"]
                cs.absolute = 100 * wins / cs.n
                cs.ci95 = wilson(wins, cs.n)
    for c, per_model in judged.items():
        rel, n_cases = relative_scores(per_model)
        for m, score in rel.items():
            table[m][c].relative = score
            table[m][c].relative_n_cases = n_cases
            table[m][c].relative_n_models = len(rel)
    return Scores(models, list(CELLS), table)


__all__ = ["ALL_VERDICTS", "CellScore", "JUDGED", "MODALITIES", "PROPERTIES", "Scores", "compute_scores",
           "relative_scores", "wilson"]
