"""Which verdict of a result counts: a person's over a judge model's over a rule's.

The store keeps every source (the rule verdict on the result row, judge-model
verdicts and rankings in their own tables, people's votes in the annotation
tables); deciding between them is scoring, so it happens here, on what the store
hands out. ``verdict_source`` and ``verdict_by`` on each row record where the
verdict came from, for the report's provenance table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from operator import attrgetter
from typing import TYPE_CHECKING

from ..store.records import LatestResult, StoredJudgement, StoredResult

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

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
    # a rank that is not a finite number (a string, null, NaN in a hand-edited row) makes the
    # ranking rank nobody: the case is ranked by its verdicts, in the list path and the
    # streamed one alike (they would fail, or order NaN differently)
    return {h: r if all(_is_rank(v) for v in r.values()) else {} for h, r in ranks.items()}


def _is_rank(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def effective_results(store: Store, models: list[str] | None = None) -> list[EffectiveResult]:
    """``store.latest_results`` with each verdict taken from the most trusted source:
    a person over a judge model over a rule. ``verdict_source`` and
    ``verdict_by`` record where it came from."""
    judged = store.latest_judgements()
    humans = _human_verdicts(store)
    return [effective(r, judged, humans) for r in store.latest_results(models)]


def iter_effective_verdicts(store: Store) -> Iterator[tuple[list[LatestResult], list[Decided]]]:
    """``effective_results`` streamed, for scores at any size: the latest results in
    chunks of whole cases (``Store.iter_latest_chunks``: light ``LatestResult``
    records, no texts), each with the verdict that counts (``decide``). The judge-model
    and people's verdicts are looked up in dicts, as ``effective_results`` does: they
    are as many as were judged, not as many as were answered. A result neither judged
    takes ``decide``'s answer for its (status, judge, verdict), computed once."""
    judged = store.latest_judgements()
    humans = _human_verdicts(store)
    special = judged.keys() | humans.keys()
    plain: dict[tuple[str, str | None, str], Decided] = {}
    for rows in store.iter_latest_chunks():
        out = [None if r.key in special else plain.get((r.status, r.judge, r.verdict)) for r in rows]
        for i in [i for i, d in enumerate(out) if d is None]:  # judged by a model or people, or a new kind
            r = rows[i]
            if r.key in special:
                out[i] = decide(r.key, r.status, r.judge, r.verdict, judged, humans)
            else:
                out[i] = plain[(r.status, r.judge, r.verdict)] = decide(r.key, r.status, r.judge, r.verdict, {}, {})
        yield rows, out  # type: ignore[misc]  # no None left


#: What ``decide`` found: the verdict that counts, its source and who gave it, the judge
#: model's and people's own verdicts (None where they gave none), and the judgement used.
Decided = tuple[str, str, str, "str | None", "str | None", "StoredJudgement | None"]


def decide(key: str, status: str, judge: str | None, verdict: str, judged: Mapping[str, StoredJudgement],
           humans: Mapping[str, tuple[str, str]]) -> Decided:
    """The precedence rule for one result: a person over a judge model over a rule,
    and only for an answered result (``status`` ok)."""
    source = "rule" if judge not in ("none", "error", "") else "none"
    by, judge_verdict, human_verdict = judge or "", None, None
    j = judged.get(key)
    if j is not None and status == "ok":
        judge_verdict = verdict = j.verdict
        source, by = "judge", f"{j.judge} ({j.template})"
    else:
        j = None
    h = humans.get(key)
    if h is not None and status == "ok":
        human_verdict = verdict = h[0]
        source, by = "human", h[1]
    return verdict, source, by, judge_verdict, human_verdict, j


def effective(r: StoredResult, judged: Mapping[str, StoredJudgement],
              humans: Mapping[str, tuple[str, str]]) -> EffectiveResult:
    """One result with the verdict that counts (``decide``) as an ``EffectiveResult``."""
    values = list(_VALUES(r))  # positional: cheaper than by name
    verdict, source, by, judge_verdict, human_verdict, j = decide(r.key, r.status, r.judge, r.verdict, judged, humans)
    values[_VERDICT] = verdict
    if j is not None:
        values[_RATIONALE] = j.rationale
    return EffectiveResult(*values, source, by, r.verdict, judge_verdict, human_verdict)


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


__all__ = ["Decided", "EffectiveResult", "decide", "effective", "effective_rankings", "effective_results", "iter_effective_verdicts"]
