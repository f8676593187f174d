"""Where each cell's verdicts came from, and how far the automatic ones agree with people.

Per model and cell: how many judged verdicts a rule, a judge model and people gave
(``CellScore.sources``), and, wherever people judged results that a rule or a judge
model had judged too, the accuracy and Cohen's kappa of the automatic verdicts
against the people's, which says how far to trust the cells nobody looked at.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from ..cases.taxonomy import CELLS
from ..judge.verdict import JUDGED
from . import Scores
from .precedence import EffectiveResult


@dataclass(frozen=True, slots=True)
class Provenance:
    """One model's cell: verdict counts per source, and the automatic verdicts'
    agreement with people over ``n_pairs`` results both judged (``accuracy`` and
    ``kappa`` are None when there are no such results or kappa is undefined)."""

    model: str
    cell: str
    rule: int
    judge: int
    human: int
    n_pairs: int = 0
    accuracy: float | None = None
    kappa: float | None = None


def verdict_provenance(rows: Sequence[EffectiveResult], scores: Scores) -> list[Provenance]:
    """A ``Provenance`` for every (model, cell) with judged verdicts, in model and grid order."""
    pairs: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for r in rows:
        auto = r.judge_verdict or r.rule_verdict
        if r.human_verdict and auto in JUDGED:
            pairs[(r.model, r.cell)].append((auto, r.human_verdict))
    out = []
    for m in scores.models:
        for c in CELLS:
            src = scores.table[m][c].sources
            if not src:
                continue
            p = pairs.get((m, c), [])
            accuracy = sum(a == h for a, h in p) / len(p) if p else None
            out.append(Provenance(m, c, src.get("rule", 0), src.get("judge", 0), src.get("human", 0), len(p),
                                  accuracy, _kappa(p) if p else None))
    return out


def _kappa(pairs: list[tuple[str, str]]) -> float | None:
    """Cohen's kappa of (automatic, human) pairs, None where it is undefined."""
    try:
        from .agreement import judge_vs_human

        k = judge_vs_human(pairs).cohen_kappa
    except (ImportError, ValueError, ZeroDivisionError):
        return None
    return k if isinstance(k, float) and k == k else None


__all__ = ["Provenance", "verdict_provenance"]
