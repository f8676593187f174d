"""People's votes and rankings, counted: one verdict per result, one rank per model.

The annotation tables (``store.human``) keep every vote, every ranking and every
lead decision as given; turning them into the verdict that counts is scoring:

- **Effective human verdict** of a result: the lead's decision if there is one,
  else the verdict most annotators gave if exactly one verdict has the most
  votes. A tie gives no verdict and is a *conflict* for a lead to settle.
- **Human case ranks**: each ranking re-ranked on the 1..n scale (ties share the
  mean of their ranks), then averaged over the annotators who ranked the case.

The functions over rows (``effective_verdicts``, ``find_disagreements``,
``mean_ranks``) do the arithmetic; the ones taking a ``Store`` read the rows first.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..store.human import human_rankings, human_verdicts, lead_decisions
from ..store.records import HumanRanking, HumanVerdict, LeadDecision

if TYPE_CHECKING:
    from ..store import Store

Vote = HumanVerdict  # one person's verdict on one result, as ``store.human.human_verdicts`` gives them


@dataclass(frozen=True, slots=True)
class HumanProvenance:
    """Where an effective human verdict came from.

    ``source``: "lead" or "majority"; ``by``: who decided (the lead, or the
    annotators who voted for the winner, sorted); ``at``: latest time among them;
    ``votes``: {annotator: verdict} on the result; ``comment``: the lead's
    comment (None for a majority)."""

    source: str
    by: tuple[str, ...]
    at: float
    votes: Mapping[str, str]
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class Disagreement:
    """A result on which annotators gave different verdicts, settled or not.

    ``votes``: every vote on it, in store order; ``tie``: no single verdict has
    the most votes; ``decision``: the lead's decision, or None."""

    result_key: str
    case_hash: str | None
    case_id: str | None
    cell: str | None
    model: str | None
    votes: tuple[Vote, ...]
    tie: bool
    decision: LeadDecision | None

    @property
    def settled(self) -> bool:
        return self.decision is not None

    @property
    def conflict(self) -> bool:
        """A tie no lead has settled: the result has no effective human verdict."""
        return self.tie and self.decision is None


Conflict = Disagreement  # a disagreement whose ``conflict`` is True (see ``conflicts``)


def by_result(votes: Iterable[Vote]) -> dict[str, list[Vote]]:
    """Votes grouped by result key, in the order given."""
    out: dict[str, list[Vote]] = defaultdict(list)
    for v in votes:
        out[v.result_key].append(v)
    return out


def plurality(votes: Iterable[Vote]) -> str | None:
    """The verdict with the most votes if exactly one has the most, else None (a tie)."""
    counts = Counter(v.verdict for v in votes).most_common()
    if not counts or (len(counts) > 1 and counts[0][1] == counts[1][1]):
        return None
    return counts[0][0]


def effective_verdicts(votes: Iterable[Vote], decisions: Mapping[str, LeadDecision]
                       ) -> dict[str, tuple[str, HumanProvenance]]:
    """``{result_key: (verdict, provenance)}`` for every result people settled
    (see ``HumanProvenance``). Ties (with no lead decision) are left out: see
    ``find_disagreements``."""
    grouped = by_result(votes)
    out: dict[str, tuple[str, HumanProvenance]] = {}
    for key, d in decisions.items():
        out[key] = (d.verdict, HumanProvenance("lead", (d.lead,), d.decided_at,
                                               {v.annotator: v.verdict for v in grouped.get(key, [])}, d.comment))
    for key, vs in grouped.items():
        if key in out:
            continue
        winner = plurality(vs)
        if winner is None:
            continue
        by = [v for v in vs if v.verdict == winner]
        out[key] = (winner, HumanProvenance("majority", tuple(sorted(v.annotator for v in by)),
                                            max(v.updated_at for v in by),
                                            {v.annotator: v.verdict for v in vs}))
    return out


def find_disagreements(votes: Iterable[Vote], decisions: Mapping[str, LeadDecision]) -> list[Disagreement]:
    """Results on which annotators gave different verdicts, settled or not (see
    ``Disagreement``). Unsettled ties come first: they block an effective verdict."""
    out = []
    for key, vs in by_result(votes).items():
        if len({v.verdict for v in vs}) < 2:
            continue
        first = vs[0]
        out.append(Disagreement(key, first.case_hash, first.case_id, first.cell, first.model, tuple(vs),
                                plurality(vs) is None, decisions.get(key)))
    out.sort(key=lambda d: (d.decision is not None, not d.tie, d.cell or "", d.case_id or "", d.result_key))
    return out


def mean_ranks(rankings: Iterable[HumanRanking]) -> dict[str, dict[str, float]]:
    """``{case_hash: {model: mean rank}}``, 1 = best, from people's rankings. Each ranking is first re-ranked with
    ``scipy.stats.rankdata(method="average")``, so tied models share the mean of
    their ranks and a ranking stored with gaps still counts on the 1..n scale."""
    rankings = list(rankings)
    if not rankings:
        return {}
    from scipy.stats import rankdata  # ~0.5 s to import: only when there is something to rank

    sums: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for r in rankings:
        models = sorted(r.ranking)
        for m, rank in zip(models, rankdata([r.ranking[m] for m in models], method="average"), strict=True):
            sums[r.case_hash][m].append(float(rank))
    return {h: {m: sum(v) / len(v) for m, v in per.items()} for h, per in sums.items()}


# ------------------------------------------------------------------ over a store


def effective_human_verdicts(store: Store) -> dict[str, tuple[str, HumanProvenance]]:
    """``effective_verdicts`` of every vote and lead decision in the store."""
    return effective_verdicts(human_verdicts(store), lead_decisions(store))


def disagreements(store: Store) -> list[Disagreement]:
    """``find_disagreements`` of every vote and lead decision in the store."""
    return find_disagreements(human_verdicts(store), lead_decisions(store))


def conflicts(store: Store) -> list[Conflict]:
    """Disagreements that leave a result without an effective verdict (a tie and no lead decision)."""
    return [d for d in disagreements(store) if d.conflict]


def human_case_ranks(store: Store) -> dict[str, dict[str, float]]:
    """``mean_ranks`` of every ranking people saved in the store."""
    return mean_ranks(human_rankings(store))


__all__ = ["Conflict", "Disagreement", "HumanProvenance", "by_result", "conflicts", "disagreements", "effective_human_verdicts", "effective_verdicts",
           "find_disagreements", "human_case_ranks", "mean_ranks", "plurality"]
