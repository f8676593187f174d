"""What the site shows, as JSON-ready data: the summary every page needs (run
metadata, scores, categories, paired differences, chance levels, the published
reference) and, per case, a compact index row and a detail record.

The site decides nothing: scores come from ``fourfold.score`` (``compute_scores``,
``score.breakdown``, ``score.chance``), verdicts from ``score.precedence`` through the
``Collection``. This module only lays them out for the page script, compactly,
because a site of 100,000 results must open its first page in under 2 s: the
index holds per case only its id, cell, category, perturbation and one verdict
letter per model; answers, rationales and media live in detail chunks loaded
when a case (or a text search) needs them.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any

from ..cases.schema import Case, ImagePart, TextPart
from ..cases.taxonomy import CELLS, MODALITIES, PROPERTIES
from ..judge.verdict import ALL, VALUE
from ..score import Scores, compute_scores
from ..score.breakdown import case_ranks, category_scores, paired_differences
from ..score.collection import Collection
from ..score.precedence import EffectiveResult
from ..secrets import redact
from ..store.records import StoredCase
from .media import MediaCopier

#: One letter per verdict in the index (``-``: the model has no result for the case).
VERDICT_CODE: dict[str, str] = {"good": "g", "unclear": "u", "bad": "b", "unjudged": "j",
                                "not_evaluated": "n", "error": "e"}
assert set(VERDICT_CODE) == {str(v) for v in ALL}, "every verdict needs a letter"
JSON = dict[str, Any]  # what the page script reads: the site's output edge, never passed between stages


@dataclass
class CaseRecord:
    """One case and every model's result on it, as the index and a detail chunk show it."""

    case_id: str
    cell: str
    category: str
    perturbation: str
    stored: StoredCase | None
    results: dict[str, EffectiveResult] = field(default_factory=dict)


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("fourfold")
    except Exception:
        return "0+unknown"


def group_cases(col: Collection) -> list[CaseRecord]:
    """The collection's results grouped per (cell, case id), in cell order then id."""
    by_case: dict[tuple[str, str], CaseRecord] = {}
    for r in col.results:
        rec = by_case.get((r.cell, r.case_id))
        if rec is None:
            stored = col.cases.get(r.case_hash) if r.case_hash else None
            rec = by_case[(r.cell, r.case_id)] = CaseRecord(r.case_id, r.cell, r.category, "", stored)
        rec.results[r.model] = r
    order = {c: i for i, c in enumerate(CELLS)}
    out = sorted(by_case.values(), key=lambda c: (order.get(c.cell, len(order)), c.cell, c.case_id))
    for rec in out:
        rec.perturbation = _perturbation(rec.stored)
    return out


def _perturbation(stored: StoredCase | None) -> str:
    """The perturbation a variant records in its metadata (``cases perturb``); "" for originals.
    Read from the stored JSON, not a validated ``Case``: this runs for every case of the index."""
    if stored is None or '"perturbation"' not in stored.data:
        return ""
    try:
        return str((json.loads(stored.data).get("metadata") or {}).get("perturbation") or "")
    except (ValueError, AttributeError):
        return ""


def run_metadata(col: Collection) -> JSON:
    """What every page shows about how the results were made: the fourfold that
    built the site, each suite's hash (over its cases' content hashes), the
    generation settings per model, the judges (rule, judge model with its
    template version, people), the results' dates and the stores read."""
    suites: dict[str, set[str]] = defaultdict(set)
    for h, case in col.cases.items():
        suites[case.suite or "(no suite)"].add(h)
    settings: dict[str, set[str]] = defaultdict(set)
    judges: dict[str, int] = defaultdict(int)
    first, last = None, None
    for r in col.results:
        settings[r.model].add(r.settings)
        if r.verdict_source != "none":
            judges[f"{r.verdict_source}: {r.verdict_by or r.judge or '?'}"] += 1
        first = r.created_at if first is None else min(first, r.created_at)
        last = r.created_at if last is None else max(last, r.created_at)
    day = lambda t: time.strftime("%Y-%m-%d", time.gmtime(t)) if t else ""  # noqa: E731
    return {
        "version": _version(),
        "built": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "suites": {s: hashlib.sha256("\n".join(sorted(hs)).encode()).hexdigest()[:16] for s, hs in sorted(suites.items())},
        "settings": {m: sorted(redact(s) for s in ss) for m, ss in sorted(settings.items())},
        "judges": dict(sorted(judges.items(), key=lambda kv: (-kv[1], kv[0]))),
        "dates": [day(first), day(last)],
        "sources": [{"store": Path(s.path).name, "results": s.results, "models": list(s.models)} for s in col.sources],
        "superseded": col.superseded,
    }


def _scores_json(scores: Scores, chance_cell: dict[str, float]) -> JSON:
    out: JSON = {}
    for m in scores.models:
        row = {}
        for c in CELLS:
            s = scores.table[m][c]
            row[c] = {"abs": s.absolute, "ci": list(s.ci95) if s.ci95 else None, "n": s.n, "rel": s.relative,
                      "rel_cases": s.relative_n_cases, "rel_models": s.relative_n_models,
                      "counts": {k: v for k, v in s.counts.items() if v}, "chance": chance_cell.get(c)}
        out[m] = row
    return out


def _pairs_json(records: list[CaseRecord], models: list[str]) -> JSON:
    """Every pair of models: A minus B per cell on the cases both judged (``score.breakdown``)."""
    values: dict[str, dict[str, dict[str, float]]] = defaultdict(dict)
    for i, rec in enumerate(records):
        vals = {m: VALUE[r.verdict] for m, r in rec.results.items() if r.verdict in VALUE}
        if vals:
            values[rec.cell][str(i)] = vals
    return {f"{a}\t{b}": {d.cell: {"diff": d.difference, "ci": list(d.ci95) if d.ci95 else None, "n": d.n,
                                   "a_better": d.a_better, "b_better": d.b_better}
                          for d in paired_differences(values, a, b)}
            for a, b in combinations(models, 2)}


def _reference_panel() -> JSON | None:
    """The study's published 12-score table (``score.published``), shown as a labelled
    reference beside our scores, never ranked with them."""
    from ..score.published import study_table

    return study_table().model_dump(mode="json")


def _chance(col: Collection) -> dict[str, float]:
    """Each cell's chance level (``score.chance``), shown beside every score; none where
    this fourfold has no ``score.chance`` yet."""
    try:
        from ..score.chance import chance_levels
    except ImportError:
        return {}
    return chance_levels(col.results, col.cases)[0]


def _findings(col: Collection) -> JSON | None:
    """The tested findings (``score.findings``: claims only where the data supports
    them), for the site's findings page; None where this fourfold has no ``score.findings``."""
    try:
        from ..score.findings import find
    except ImportError:
        return None
    return find(col.results, col.cases).to_json()


def summary(col: Collection, records: list[CaseRecord], findings: bool = True) -> JSON:
    """The data every page reads first (``data/summary.js``); ``findings``: run
    ``score.findings`` for the findings page (its tests take minutes at 100,000 results)."""
    scores = compute_scores(col.results, col.rankings)
    chance_cell = _chance(col)
    categories: dict[str, dict[str, dict[str, JSON]]] = defaultdict(lambda: defaultdict(dict))
    for s in category_scores(col.results):
        categories[s.cell][s.category][s.model] = {"abs": s.absolute, "ci": list(s.ci95), "n": s.n}
    return {
        "meta": run_metadata(col),
        "models": scores.models,
        "cells": list(CELLS),
        "modalities": list(MODALITIES),
        "properties": list(PROPERTIES),
        "verdicts": VERDICT_CODE,
        "scores": _scores_json(scores, chance_cell),
        "categories": {c: dict(cats) for c, cats in categories.items()},
        "pairs": _pairs_json(records, scores.models),
        "chance": chance_cell,
        "reference": _reference_panel(),
        "findings": _findings(col) if findings else None,
        "n_cases": len(records),
        "n_results": len(col.results),
    }


def index_row(rec: CaseRecord, models: list[str], strings: dict[str, int]) -> list[Any]:
    """[case id, cell, category, perturbation, verdict letters]: cell, category and
    perturbation as numbers into the index's string table (``strings``)."""
    code = "".join(VERDICT_CODE.get(rec.results[m].verdict, "j") if m in rec.results else "-" for m in models)
    ids = [strings.setdefault(s, len(strings)) for s in (rec.cell, rec.category, rec.perturbation)]
    return [rec.case_id, *ids, code]


def _parts(case: Case, stored: StoredCase, media: MediaCopier) -> list[JSON]:
    out: list[JSON] = []
    for msg in case.input:
        parts: list[JSON] = []
        for p in msg.content:
            if isinstance(p, TextPart):
                parts.append({"t": "text", "text": p.text})
            elif isinstance(p, ImagePart):
                m = media.image(stored.media_base, p.path)
                parts.append({"t": "image", "src": m.src, "name": Path(p.path).name, "missing": m.missing})
            else:
                m = media.video(stored.media_base, p.path, p.sha256)
                parts.append({"t": "video", "src": m.src, "frames": list(m.frames), "name": Path(p.path).name,
                              "missing": m.missing})
        out.append({"role": msg.role, "parts": parts})
    return out


def case_detail(rec: CaseRecord, models: list[str], rankings: dict[str, dict[str, float]],
                media: MediaCopier) -> JSON:
    """A case page's data: the input (media copied beside the site), the reference,
    and every model's answer with verdict, rationale, who judged it and its rank."""
    case = rec.stored.valid_case() if rec.stored is not None else None
    ranks = case_ranks({m: r.verdict for m, r in rec.results.items()},
                       rankings.get(rec.stored.case_hash) if rec.stored is not None else None)
    results = []
    for m in models:
        r = rec.results.get(m)
        if r is None:
            continue
        results.append({"model": m, "v": r.verdict, "response": r.response, "rationale": redact(r.rationale or ""),
                        "by": r.verdict_by or r.judge or "", "source": r.verdict_source, "rank": ranks.get(m),
                        "error": r.error or "", "status": r.status})
    return {
        "input": _parts(case, rec.stored, media) if case is not None and rec.stored is not None else None,
        "reference": case.reference.summary() if case is not None else "(case not in store)",
        "results": results,
    }


__all__ = ["VERDICT_CODE", "CaseRecord", "case_detail", "group_cases", "index_row", "run_metadata", "summary"]
