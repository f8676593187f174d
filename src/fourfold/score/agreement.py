"""How far the humans agree with each other, and how far the automatic judges agree with them.

Why these three numbers, per cell of the grid:

- **Fleiss' kappa** on the verdicts (good / unclear / bad): agreement among the
  annotators beyond chance, for any number of raters. Computed by
  ``statsmodels.stats.inter_rater.fleiss_kappa`` on the subjects x categories
  count table. Fleiss' kappa needs the same number of ratings per subject, so a
  cell uses the results rated by the most common number (at least two) of
  annotators and says how many it left out (half-finished work).
- **Kendall's W** on the rankings of the models' responses: the report ranks
  responses with three human judges, and W (0 = no concordance, 1 = identical
  rankings) says whether those ranks mean anything. W is computed per case from
  the Friedman statistic, ``W = chi2 / (m (n - 1))`` with ``chi2`` from
  ``scipy.stats.friedmanchisquare`` (m raters as blocks, n responses as
  treatments). scipy corrects chi2 for ties, and the relation then gives exactly
  the tie-corrected W of Kendall & Babington Smith,
  ``12 S / (m^2 (n^3 - n) - m sum(t^3 - t))``. scipy needs n >= 3; for two
  responses that formula is evaluated directly. A cell reports the mean W over
  its cases.
- **Judge vs human**: accuracy, Cohen's kappa (``statsmodels`` ``cohens_kappa``)
  and the 3x3 confusion matrix of the rule / judge-model verdicts against the
  effective human verdicts, which says how far the automatic verdicts can be
  trusted where nobody looked.

Undefined statistics (one category only, too few raters) are ``None``, never 0:
"no disagreement possible" is not "no agreement".
"""

from __future__ import annotations

import math
import warnings
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..judge.verdict import JUDGED

if TYPE_CHECKING:
    from ..store import Store
    from ..store.records import HumanRanking, HumanVerdict, StoredResult

JUDGE_PREFIXES: tuple[str, ...] = ("judge", "rule")


class _Json:
    def to_json(self) -> dict[str, Any]:
        """The record as a plain dict (fields in order), for ``--json`` output."""
        return asdict(self)  # type: ignore[call-overload]


@dataclass(frozen=True, slots=True)
class FleissStats(_Json):
    """Fleiss' kappa of one cell: ``n_items`` results rated by ``n_raters`` each, ``n_excluded`` left out."""

    kappa: float | None
    n_items: int
    n_raters: int
    n_excluded: int


@dataclass(frozen=True, slots=True)
class KendallStats(_Json):
    """Mean Kendall's W of one cell over ``n_cases`` cases; ``per_case``: {case_hash: W}."""

    w: float | None
    n_cases: int
    per_case: Mapping[str, float]


@dataclass(frozen=True, slots=True)
class JudgeAgreement(_Json):
    """Automatic verdicts against human ones: ``confusion[human][judge]`` counts."""

    n: int
    accuracy: float | None
    cohen_kappa: float | None
    confusion: Mapping[str, Mapping[str, int]]


@dataclass(frozen=True, slots=True)
class CellAgreement(_Json):
    """All three statistics of one cell (each None where the cell has no such data)."""

    fleiss: FleissStats | None
    kendall: KendallStats | None
    judge: JudgeAgreement | None


def _finite(x: float) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


# ------------------------------------------------------------------ Fleiss


def fleiss_kappa(table: Sequence[Sequence[float]] | np.ndarray) -> float | None:
    """Fleiss' kappa of a subjects x categories count table (statsmodels), or
    None when it is undefined (no subjects, or every rating in one category)."""
    from statsmodels.stats.inter_rater import fleiss_kappa as _fk

    a = np.asarray(table, dtype=float)
    if a.ndim != 2 or a.shape[0] == 0 or a.sum(1).max() < 2:
        return None
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return _finite(_fk(a, method="fleiss"))


def verdict_table(items: Mapping[str, Sequence[str]]) -> np.ndarray:
    """``{item: [verdict per rater]}`` -> count table, columns in ``JUDGED`` order."""
    rows = []
    for verdicts in items.values():
        c = Counter(verdicts)
        rows.append([c.get(v, 0) for v in JUDGED])
    return np.asarray(rows, dtype=float).reshape(len(rows), len(JUDGED))


def fleiss_kappa_by_cell(verdicts: Iterable[HumanVerdict], raters: int | None = None
                         ) -> dict[str, FleissStats]:
    """Fleiss' kappa per cell from people's verdicts (``store.human.human_verdicts``).

    ``raters``: use results with exactly this many verdicts; by default the most
    common count of at least two per cell (the larger one on a tie). Returns
    ``{cell: FleissStats}``."""
    per_cell: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for r in verdicts:
        if r.verdict in JUDGED and r.cell:
            per_cell[r.cell][r.result_key].append(r.verdict)
    out: dict[str, FleissStats] = {}
    for cell, items in sorted(per_cell.items()):
        counts = Counter(len(v) for v in items.values() if len(v) >= 2)
        m = raters if raters is not None else (max(counts, key=lambda k: (counts[k], k)) if counts else 0)
        chosen = {k: v for k, v in items.items() if len(v) == m and m >= 2}
        out[cell] = FleissStats(fleiss_kappa(verdict_table(chosen)) if chosen else None,
                                len(chosen), m if chosen else 0, len(items) - len(chosen))
    return out


# ------------------------------------------------------------------ Kendall


def _kendalls_w_direct(ranks: np.ndarray) -> float | None:
    """Tie-corrected W = 12 S / (m^2 (n^3 - n) - m sum(t^3 - t)) on within-rater ranks."""
    m, n = ranks.shape
    sums = ranks.sum(0)
    s = float(((sums - sums.mean()) ** 2).sum())
    ties = sum(float((c ** 3 - c).sum()) for c in (np.unique(row, return_counts=True)[1] for row in ranks))
    denom = m * m * (n ** 3 - n) - m * ties
    return _finite(12 * s / denom) if denom > 0 else None


def kendalls_w(rank_matrix: Sequence[Sequence[float]] | np.ndarray) -> float | None:
    """Kendall's coefficient of concordance W, tie-corrected.

    ``rank_matrix``: one row per rater, one column per item (ranks or any scores
    where smaller is better; each row is re-ranked with average ranks for ties).
    Via ``scipy.stats.friedmanchisquare`` (W = chi2 / (m (n - 1))) for three or
    more items, directly for two. None when undefined (fewer than two raters or
    items, or every rater tied every item)."""
    from scipy.stats import friedmanchisquare, rankdata

    a = np.asarray(rank_matrix, dtype=float)
    if a.ndim != 2 or a.shape[0] < 2 or a.shape[1] < 2:
        return None
    ranks = np.vstack([rankdata(row, method="average") for row in a])
    m, n = ranks.shape
    if n < 3:
        return _kendalls_w_direct(ranks)
    if all(len(set(row)) == 1 for row in ranks):
        return None  # chi2 is 0/0: nobody expressed any order
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        chi2 = friedmanchisquare(*ranks.T).statistic
    w = _finite(chi2 / (m * (n - 1)))
    return None if w is None else min(1.0, max(0.0, w))


def kendalls_w_by_cell(rankings: Iterable[HumanRanking]) -> dict[str, KendallStats]:
    """Mean per-case Kendall's W per cell from people's rankings (``store.human.human_rankings``).

    A case counts when two or more annotators ranked two or more common models
    (only the models every one of them ranked are used). Returns
    ``{cell: KendallStats}``."""
    per_case: dict[tuple[str, str], list[Mapping[str, float]]] = defaultdict(list)
    for r in rankings:
        if r.cell:
            per_case[(r.cell, r.case_hash)].append(r.ranking)
    cells: dict[str, dict[str, float]] = defaultdict(dict)
    for (cell, h), rs in per_case.items():
        common = sorted(set.intersection(*(set(x) for x in rs)))
        if len(rs) < 2 or len(common) < 2:
            continue
        w = kendalls_w([[x[mdl] for mdl in common] for x in rs])
        if w is not None:
            cells[cell][h] = w
    all_cells = sorted({c for c, _ in per_case})
    return {c: KendallStats((sum(cells[c].values()) / len(cells[c])) if cells[c] else None,
                            len(cells[c]), dict(cells[c])) for c in all_cells}


# ------------------------------------------------------------------ judge vs human


def judge_vs_human(pairs: Iterable[tuple[str, str]]) -> JudgeAgreement:
    """Agreement of automatic verdicts with human ones; ``pairs`` are (judge, human).

    Returns a ``JudgeAgreement``; ``confusion[human][judge]``
    counts (rows: the human verdict taken as truth; columns: what the judge said).
    Cohen's kappa comes from ``statsmodels.stats.inter_rater.cohens_kappa`` (None
    when undefined, e.g. every pair in one category)."""
    from statsmodels.stats.inter_rater import cohens_kappa

    confusion = {h: dict.fromkeys(JUDGED, 0) for h in JUDGED}
    n = 0
    for judge, human in pairs:
        if judge in JUDGED and human in JUDGED:
            confusion[human][judge] += 1
            n += 1
    if n == 0:
        return JudgeAgreement(0, None, None, confusion)
    table = np.array([[confusion[h][j] for j in JUDGED] for h in JUDGED], dtype=float)
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        kappa = _finite(cohens_kappa(table, return_results=False))
    return JudgeAgreement(n, float(np.trace(table)) / n, kappa, confusion)


def is_automatic(judge: str | None) -> bool:
    """Whether a result's verdict came from a rule or a judge model (not a person, not nobody)."""
    return bool(judge) and str(judge).startswith(JUDGE_PREFIXES)


def judge_vs_human_by_cell(results: Iterable[StoredResult],
                           effective: Mapping[str, tuple[str, Any]]) -> dict[str, JudgeAgreement]:
    """``judge_vs_human`` per cell over stored results that an automatic judge
    decided and people settled (``effective`` as ``effective_human_verdicts`` returns it)."""
    pairs: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for r in results:
        if is_automatic(r.judge) and r.verdict in JUDGED and r.key in effective:
            pairs[r.cell].append((r.verdict, effective[r.key][0]))
    return {cell: judge_vs_human(ps) for cell, ps in sorted(pairs.items())}


def agreement_report(store: Store) -> dict[str, CellAgreement]:
    """All three statistics for every cell that has human data: ``{cell: CellAgreement}``."""
    from ..store.human import human_rankings, human_verdicts
    from .votes import effective_human_verdicts

    fleiss = fleiss_kappa_by_cell(human_verdicts(store))
    kendall = kendalls_w_by_cell(human_rankings(store))
    judge = judge_vs_human_by_cell(store.latest_results(), effective_human_verdicts(store))
    cells = sorted(set(fleiss) | set(kendall) | set(judge))
    return {c: CellAgreement(fleiss.get(c), kendall.get(c), judge.get(c)) for c in cells}


__all__ = [
    "JUDGE_PREFIXES", "CellAgreement", "FleissStats", "JudgeAgreement", "KendallStats", "agreement_report", "fleiss_kappa", "fleiss_kappa_by_cell", "is_automatic",
    "judge_vs_human", "judge_vs_human_by_cell", "kendalls_w", "kendalls_w_by_cell", "verdict_table",
]
