"""The scores and summaries of a store in one streamed pass, in flat memory (issue 12).

``compute_scores`` and the report's tables take the list of every effective result:
at a million results that list alone is gigabytes. Here the effective results
(``precedence.iter_effective_results``: the same per-row precedence) pass once, a
case at a time, and only running sums stay:

- verdict counts and verdict sources per (model, cell): as ``compute_scores`` counts;
- relative scores: each case's ranks among the models judged on it are added to
  the rank sums of *that set of models* (per cell). A cell's relative score is over
  the cases that every model judged in the cell answered, and that set is only known
  at the end, so the sums are kept per set (few in practice) and the full set's are
  used. Ranks are multiples of one half, so their sums are exact in any order;
- chance levels: per cell and per (model, cell), how many cases have each chance
  level (1/k); the exact rational sum rounded once is what ``math.fsum`` gives;
- usage, the results people judged (provenance), and the perturbed variants with
  their originals' verdicts (robustness): as many as there are of them.

The numbers equal the list path's to the last digit (tests/test_report_streaming.py,
tests/test_report_streaming_random.py): a case's chance level and perturbation come
from its stored JSON, here through SQLite (``Store.case_facts``), there through the
same SQLite functions (``StoredCase.facts``), not from validating the case (85 µs a
case), so a stored choice case that no longer validates counts 1/k in both.
"""

from __future__ import annotations

import functools
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from fractions import Fraction
from sys import intern
from typing import TYPE_CHECKING

from ..cases.taxonomy import CELLS
from ..judge.verdict import JUDGED, VALUE
from . import _RANK_METHOD, CellScore, Scores, Ties, UnknownCellError, absolute_scores, set_chance, set_relative
from .chance import chance_of
from .precedence import Decided, EffectiveResult, iter_effective_verdicts
from .provenance import Provenance, verdict_provenance
from .robustness import PerturbedPair, RobustnessCost, costs_of_pairs
from .usage import ModelUsage, PriceTable, UsageAccumulator, _Acc

#: The judged verdicts as plain strings: membership in a set, not comparisons with enum members.
_JUDGED = frozenset(str(v) for v in JUDGED)

if TYPE_CHECKING:
    from ..store import Store
    from ..store.records import CaseFacts, LatestResult

@dataclass
class Summary:
    """Everything the report shows but the per-case listing, from one streamed pass."""

    scores: Scores
    usage: list[ModelUsage]
    provenance: list[Provenance]
    robustness: list[RobustnessCost]
    n_results: int = 0
    n_cases: int = 0  # (cell, case id) pairs, as the report's listing counts cases


@dataclass
class _RankSums:
    """Rank sums over the cases one set of models was judged on together."""

    total: dict[str, float]
    n: int = 0
    used: set[str] = field(default_factory=set)


@functools.lru_cache(maxsize=8192)
def ranks(values: tuple[float, ...], method: str) -> tuple[float, ...]:
    """``scipy.stats.rankdata(values, method)`` for ``method`` "average" or "min", in
    plain Python and memoised (a case's verdict pattern repeats across cases):
    rankdata costs about 250 µs a call. Tied values share the mean of their
    positions (a multiple of one half, exact) or the first of them."""
    order = sorted(range(len(values)), key=values.__getitem__)
    out = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        rank = (i + j + 2) / 2 if method == "average" else float(i + 1)
        for k in range(i, j + 1):
            out[order[k]] = rank
        i = j + 1
    return tuple(out)


class _Pass:
    """The running sums of one streamed pass (see the module docstring)."""

    def __init__(self, rankings: dict[str, dict[str, float]], ties: Ties, originals: set[object]):
        if ties not in _RANK_METHOD:
            raise ValueError(f"ties must be one of mean, min, got {ties!r}")
        self.rankings, self.method, self.originals = rankings, _RANK_METHOD[ties], originals
        self.ties = ties
        self.cells: dict[tuple[str, str], tuple[CellScore, _Acc]] = {}
        self.sets: dict[str, dict[tuple[str, ...], _RankSums]] = defaultdict(dict)
        #: Judged cases per (cell, the models judged on it, chance level): chance levels at the end.
        self.levels: Counter[tuple[str, tuple[str, ...], float]] = Counter()
        self.usage = UsageAccumulator()
        self.human: list[EffectiveResult] = []
        self.variants: list[tuple[str, str, str, object, str]] = []
        self.original_verdicts: dict[tuple[str, object], str] = {}
        self.n_results = self.n_cases = 0

    def add_chunk(self, rows: list[LatestResult], decided: list[Decided], facts: dict[str, CaseFacts]) -> None:
        """Whole cases only: every result for each case id in ``rows`` is in ``rows``. Counted
        by ``Counter`` over the chunk, then added to each (model, cell): a Python statement per
        result costs a second at a million results, so there are as few as can be."""
        verdicts = [d[0] for d in decided]
        mcs = [(r.model, r.cell) for r in rows]
        for (mc, v), n in Counter(zip(mcs, verdicts, strict=True)).items():
            cs = self._state(mc, rows)[0]
            cs.counts[v] = cs.counts.get(v, 0) + n
        judged = Counter((mc, d[1] or "rule") for mc, d in zip(mcs, decided, strict=True) if d[0] in _JUDGED)
        for (mc, src), n in judged.items():
            cs = self._state(mc, rows)[0]
            cs.sources[src] = cs.sources.get(src, 0) + n
        states = self.cells
        for mc, r in zip(mcs, rows, strict=True):
            states[mc][1].add(r.prompt_tokens, r.completion_tokens, r.status == "ok")
        self.human += [_effective_result(r, d) for r, d in zip(rows, decided, strict=True) if d[4]]
        # kept for robustness, as many as there are perturbed variants and originals: names interned
        # (one string per model and case, not one per result), which halves what they hold
        if self.originals:
            self.original_verdicts.update(((intern(r.model), intern(r.case_id)), v)
                                          for r, v in zip(rows, verdicts, strict=True) if r.case_id in self.originals)
        perturbed = {h: f for h, f in facts.items() if f.perturbation and f.original}
        if perturbed:
            self.variants += [(intern(r.model), intern(r.case_id), intern(str(perturbed[r.case_hash].perturbation)),
                               perturbed[r.case_hash].original, v)
                              for r, v in zip(rows, verdicts, strict=True) if r.case_hash in perturbed]
        self.n_results += len(rows)
        self.n_cases += len({(r.cell, r.case_id) for r in rows})
        groups: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for r, v in zip(rows, verdicts, strict=True):
            if v in _JUDGED:
                key = (r.cell, r.case_hash or r.case_id)
                group = groups.get(key)
                if group is None:
                    groups[key] = [(r.model, v)]
                else:
                    group.append((r.model, v))
        for (cell, key), group in groups.items():
            self._case(cell, key, group, facts.get(key))

    def _state(self, mc: tuple[str, str], rows: list[LatestResult]) -> tuple[CellScore, _Acc]:
        """The score and usage sums of one (model, cell), made on first use (``rows``: the
        chunk, to name a case of a cell outside the taxonomy, as ``compute_scores`` does)."""
        state = self.cells.get(mc)
        if state is None:
            if mc[1] not in CELLS:
                raise UnknownCellError(mc[1], next(r.case_id for r in rows if (r.model, r.cell) == mc))
            acc = self.usage.accs.setdefault(mc[0], {}).setdefault(mc[1], _Acc())
            state = self.cells[mc] = (CellScore(), acc)
        return state

    def _case(self, cell: str, key: str, group: list[tuple[str, str]], facts: CaseFacts | None) -> None:
        """One case's judged verdicts (model, verdict): its ranks among the models judged on
        it, and its chance level."""
        verdicts = dict(group)  # one per model: a case key is one case id, and each model's latest result for it
        models = tuple(sorted(verdicts))
        # its chance level counts once for the cell and once for each model judged on it
        # (a case keyed by its id alone, no hash, has no facts: 0, as chance_by_case)
        self.levels[(cell, models, chance_of(facts))] += 1
        sums = self.sets[cell].get(models)
        if sums is None:
            sums = self.sets[cell][models] = _RankSums(dict.fromkeys(models, 0.0))
        ranked = self.rankings.get(key)
        if ranked is not None and all(m in ranked for m in models):
            values = tuple(ranked[m] for m in models)
            sums.used.add("rankings")
        else:
            values = tuple(-VALUE[verdicts[m]] for m in models)
            sums.used.add("verdicts")
        sums.n += 1
        total = sums.total
        for m, rank in zip(models, ranks(values, self.method), strict=True):
            total[m] += rank

    def scores(self) -> Scores:
        models = sorted({m for m, _ in self.cells})
        table = {m: {c: self.cells[(m, c)][0] if (m, c) in self.cells else CellScore() for c in CELLS} for m in models}
        absolute_scores(table)
        for cell, sets in self.sets.items():
            everyone = tuple(sorted({m for ms in sets for m in ms}))
            sums = sets.get(everyone)  # the cases every model judged in the cell answered
            n = len(everyone)
            if n < 2 or sums is None:
                continue
            basis = "mixed" if len(sums.used) > 1 else next(iter(sums.used))
            set_relative(table, cell, {m: (n - sums.total[m] / sums.n) / (n - 1) * 100 for m in everyone}, sums.n,
                         basis)
        by_cell: dict[str, Counter[float]] = defaultdict(Counter)
        by_model: dict[tuple[str, str], Counter[float]] = defaultdict(Counter)
        for (cell, judged, level), n in self.levels.items():
            by_cell[cell][level] += n
            for m in judged:
                by_model[(m, cell)][level] += n
        chance = set_chance(table, {c: _mean(k) for c, k in by_cell.items()},
                            {mc: _mean(k) for mc, k in by_model.items()})
        return Scores(models, list(CELLS), table, self.ties, chance)

    def robustness(self) -> list[RobustnessCost]:
        """``robustness_costs``: each variant paired with its original's verdict, by model and case id."""
        acc: dict[tuple[str, str], list[PerturbedPair]] = defaultdict(list)
        for model, case_id, pert, orig, v in sorted(self.variants, key=lambda x: (x[0], x[1])):
            o = self.original_verdicts.get((model, orig))
            if o is None or v not in VALUE or o not in VALUE:
                continue
            acc[(model, pert)].append(PerturbedPair(case_id, str(orig), VALUE[o], VALUE[v]))
        return costs_of_pairs(dict(sorted(acc.items())))


def _effective_result(r: LatestResult, d: Decided) -> EffectiveResult:
    """An ``EffectiveResult`` without the texts, for the few results people judged (provenance)."""
    return EffectiveResult(key=r.key, model=r.model, case_id=r.case_id, case_hash=r.case_hash, cell=r.cell,
                           verdict=d[0], category=r.category, status=r.status, judge=r.judge,
                           prompt_tokens=r.prompt_tokens, completion_tokens=r.completion_tokens,
                           verdict_source=d[1], verdict_by=d[2], rule_verdict=r.verdict, judge_verdict=d[3],
                           human_verdict=d[4])


def _mean(levels: Counter[float]) -> float:
    """100 times the mean of the levels counted: the exact sum, rounded once, as ``math.fsum``."""
    n = sum(levels.values())
    return 100 * float(sum((Fraction(v) * k for v, k in levels.items()), Fraction(0))) / n


def stream_summary(store: Store, rankings: dict[str, dict[str, float]], prices: PriceTable,
                   ties: Ties = "mean") -> Summary:
    """Scores, usage, provenance and robustness of the store's effective results in one
    pass, a chunk of whole cases at a time (``Store.iter_latest_chunks``: a case's results
    for every model are ranked together); the chunk's cases are looked up in one query."""
    acc = _Pass(rankings, ties, store.perturbation_originals())
    for rows, decided in iter_effective_verdicts(store):
        acc.add_chunk(rows, decided, store.case_facts(r.case_hash for r in rows if r.case_hash))
    scores = acc.scores()
    return Summary(scores, acc.usage.usage(prices), verdict_provenance(acc.human, scores), acc.robustness(),
                   acc.n_results, acc.n_cases)


__all__ = ["Summary", "ranks", "stream_summary"]
