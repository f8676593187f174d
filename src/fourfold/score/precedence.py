"""Which verdict of a result counts: a person's over a judge model's over a rule's.

The store keeps every source (the rule verdict on the result row, judge-model
verdicts and rankings in their own tables, people's votes in the annotation
tables); deciding between them is scoring, so it happens here, on what the store
hands out. ``verdict_source`` and ``verdict_by`` on each row record where the
verdict came from, for the report's provenance table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..store import Store


def effective_rankings(store: Store) -> dict[str, dict[str, float]]:
    """Per-case ranks of the models' responses (case hash -> model -> rank):
    people's rankings over a judge model's."""
    ranks = {h: r["ranks"] for h, r in store.judge_rankings().items()}
    if store.has_table("human_rankings"):
        from .votes import human_case_ranks

        ranks.update(human_case_ranks(store))
    return ranks


def effective_results(store: Store, models: list[str] | None = None) -> list[dict[str, Any]]:
    """``store.latest_results`` with each verdict taken from the most trusted source:
    a person over a judge model over a rule. ``verdict_source`` and
    ``verdict_by`` record where it came from."""
    rows = store.latest_results(models)
    judged = store.latest_judgements()
    humans = _human_verdicts(store)
    for r in rows:
        r["verdict_source"] = "rule" if r["judge"] not in ("none", "error", "") else "none"
        r["verdict_by"] = r["judge"]
        r["rule_verdict"] = r["verdict"]
        j = judged.get(r["key"])
        if j is not None and r["status"] == "ok":
            r["judge_verdict"] = j["verdict"]
            r["verdict"], r["rationale"] = j["verdict"], j["rationale"]
            r["verdict_source"], r["verdict_by"] = "judge", f"{j['judge']} ({j['template']})"
        h = humans.get(r["key"])
        if h is not None and r["status"] == "ok":
            verdict, provenance = h
            r["human_verdict"] = verdict
            r["verdict"], r["verdict_source"], r["verdict_by"] = verdict, "human", provenance
    return rows


def _human_verdicts(store: Store) -> dict[str, tuple[str, str]]:
    """Human verdicts when the annotation tables exist (``store.human``)."""
    if not store.has_table("human_verdicts"):  # annotation never used on this store
        return {}
    from .votes import effective_human_verdicts

    found = effective_human_verdicts(store)
    out = {}
    for key, (verdict, prov) in found.items():
        who = ", ".join(prov.get("by") or []) if isinstance(prov, dict) else str(prov)
        how = prov.get("source", "") if isinstance(prov, dict) else ""
        out[key] = (verdict, f"people: {who} ({how})" if how else f"people: {who}")
    return out


__all__ = ["effective_rankings", "effective_results"]
