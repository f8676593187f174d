"""Which verdict of a result counts: a person's over a judge model's over a rule's.

The store keeps every source (the rule verdict on the result row, judge-model
verdicts and rankings in their own tables, people's votes in the annotation
tables); deciding between them is scoring, so it happens here, on what the store
hands out. ``verdict_source`` and ``verdict_by`` on each row record where the
verdict came from, for the report's provenance table.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from operator import attrgetter
from typing import TYPE_CHECKING

from ..store.records import StoredResult

if TYPE_CHECKING:
    from ..store import Store


@dataclass(frozen=True, slots=True)
class EffectiveResult(StoredResult):
    """A stored result whose ``verdict`` (and ``rationale``) is the one that counts,
    with where it came from: ``verdict_source`` (rule, judge, human or none) and
    ``verdict_by`` (who: the rule, the judge model and template, the people), and
    each source's own verdict where it gave one (for the provenance table)."""

    verdict_source: str = "rule"
    verdict_by: str = ""
    rule_verdict: str | None = None
    judge_verdict: str | None = None
    human_verdict: str | None = None


_STORED = tuple(f.name for f in fields(StoredResult))
_VERDICT, _RATIONALE = _STORED.index("verdict"), _STORED.index("rationale")
_VALUES = attrgetter(*_STORED)  # one C call for all fields: cheaper than a getattr each for 6,000 results


def effective_rankings(store: Store) -> dict[str, dict[str, float]]:
    """Per-case ranks of the models' responses (case hash -> model -> rank):
    people's rankings over a judge model's."""
    ranks = {h: r.ranks for h, r in store.judge_rankings().items()}
    if store.has_table("human_rankings"):
        from .votes import human_case_ranks

        ranks.update(human_case_ranks(store))
    return ranks


def effective_results(store: Store, models: list[str] | None = None) -> list[EffectiveResult]:
    """``store.latest_results`` with each verdict taken from the most trusted source:
    a person over a judge model over a rule. ``verdict_source`` and
    ``verdict_by`` record where it came from."""
    judged = store.latest_judgements()
    humans = _human_verdicts(store)
    out = []
    for r in store.latest_results(models):
        values = list(_VALUES(r))  # positional: cheaper than by name
        source = "rule" if r.judge not in ("none", "error", "") else "none"
        by, judge_verdict, human_verdict = r.judge or "", None, None
        j = judged.get(r.key)
        if j is not None and r.status == "ok":
            judge_verdict = values[_VERDICT] = j.verdict
            values[_RATIONALE] = j.rationale
            source, by = "judge", f"{j.judge} ({j.template})"
        h = humans.get(r.key)
        if h is not None and r.status == "ok":
            human_verdict = values[_VERDICT] = h[0]
            source, by = "human", h[1]
        out.append(EffectiveResult(*values, source, by, r.verdict, judge_verdict, human_verdict))
    return out


def _human_verdicts(store: Store) -> dict[str, tuple[str, str]]:
    """Human verdicts when the annotation tables exist (``store.human``)."""
    if not store.has_table("human_verdicts"):  # annotation never used on this store
        return {}
    from .votes import effective_human_verdicts

    found = effective_human_verdicts(store)
    out = {}
    for key, (verdict, prov) in found.items():
        who = ", ".join(prov.by)
        how = prov.source
        out[key] = (verdict, f"people: {who} ({how})" if how else f"people: {who}")
    return out


__all__ = ["EffectiveResult", "effective_rankings", "effective_results"]
