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
from typing import TYPE_CHECKING, Any

from ..store.human import human_rankings, human_verdicts, lead_decisions
from ..store.records import HumanRanking, HumanVerdict, LeadDecision

if TYPE_CHECKING:
    from ..store import Store

Vote = HumanVerdict  # one person's verdict on one result, as ``store.human.human_verdicts`` gives them


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
                       ) -> dict[str, tuple[str, dict[str, Any]]]:
    """``{result_key: (verdict, provenance)}`` for every result people settled.

    provenance: ``source`` ("lead" or "majority"), ``by`` (who decided: the lead,
    or the annotators who voted for the winner), ``at`` (latest time among them),
    ``votes`` ({annotator: verdict}) and for a lead ``comment``. Ties (with no lead
    decision) are left out: see ``find_disagreements``."""
    grouped = by_result(votes)
    out: dict[str, tuple[str, dict[str, Any]]] = {}
    for key, d in decisions.items():
        out[key] = (d.verdict, {"source": "lead", "by": [d.lead], "at": d.decided_at, "comment": d.comment,
                                "votes": {v.annotator: v.verdict for v in grouped.get(key, [])}})
    for key, vs in grouped.items():
        if key in out:
            continue
        winner = plurality(vs)
        if winner is None:
            continue
        by = [v for v in vs if v.verdict == winner]
        out[key] = (winner, {"source": "majority", "by": sorted(v.annotator for v in by),
                             "at": max(v.updated_at for v in by),
                             "votes": {v.annotator: v.verdict for v in vs}})
    return out


def find_disagreements(votes: Iterable[Vote], decisions: Mapping[str, LeadDecision]) -> list[dict[str, Any]]:
    """Results on which annotators gave different verdicts, settled or not:
    ``result_key, case_hash, case_id, cell, model, votes`` (list of annotator,
    verdict, comment, updated_at), ``tie`` (no majority), ``decision`` (the lead's
    row or None). Unsettled ties come first: they block an effective verdict."""
    out = []
    for key, vs in by_result(votes).items():
        if len({v.verdict for v in vs}) < 2:
            continue
        first = vs[0]
        out.append({"result_key": key, "case_hash": first.case_hash, "case_id": first.case_id,
                    "cell": first.cell, "model": first.model, "votes": list(vs),
                    "tie": plurality(vs) is None, "decision": decisions.get(key)})
    out.sort(key=lambda d: (d["decision"] is not None, not d["tie"], d["cell"] or "", d["case_id"] or "",
                            d["result_key"]))
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


def effective_human_verdicts(store: Store) -> dict[str, tuple[str, dict[str, Any]]]:
    """``effective_verdicts`` of every vote and lead decision in the store."""
    return effective_verdicts(human_verdicts(store), lead_decisions(store))


def disagreements(store: Store) -> list[dict[str, Any]]:
    """``find_disagreements`` of every vote and lead decision in the store."""
    return find_disagreements(human_verdicts(store), lead_decisions(store))


def conflicts(store: Store) -> list[dict[str, Any]]:
    """Disagreements that leave a result without an effective verdict (a tie and no lead decision)."""
    return [d for d in disagreements(store) if d["tie"] and d["decision"] is None]


def human_case_ranks(store: Store) -> dict[str, dict[str, float]]:
    """``mean_ranks`` of every ranking people saved in the store."""
    return mean_ranks(human_rankings(store))


__all__ = ["by_result", "conflicts", "disagreements", "effective_human_verdicts", "effective_verdicts",
           "find_disagreements", "human_case_ranks", "mean_ranks", "plurality"]
