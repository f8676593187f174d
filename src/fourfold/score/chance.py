"""The chance level of a cell: the absolute score a model would get by guessing.

A choice case with k options is answered right by a uniform guess with
probability 1/k; every other case (free text, code, refusals) scores nothing by
guessing, so its chance level is 0. A cell's chance level is the mean over its
cases. It is shown beside every score because an absolute score means little
next to it: 57 on a cell of two-way choices is barely above the 50 a coin gets.
``score.findings`` tests each model against it.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping

from ..judge.verdict import JUDGED
from ..store.records import CaseFacts, StoredCase
from .precedence import EffectiveResult


def chance_of(facts: CaseFacts | None) -> float:
    """Probability that a uniform guess answers a case right: 1/k for a choice case with
    k options (2 to 26, as a choice reference allows), 0 for any other kind. Read from
    the case's facts (``StoredCase.facts``), not by validating it: the report's list path
    and its streamed pass must count alike, also for a case that no longer validates."""
    if facts is None or facts.kind != "choice" or facts.n_options is None or not 2 <= facts.n_options <= 26:
        return 0.0
    return 1.0 / facts.n_options


def case_chance(stored: StoredCase | None) -> float:
    """``chance_of`` a stored case (0 for none)."""
    return chance_of(stored.facts) if stored is not None else 0.0


def chance_by_case(rows: Iterable[EffectiveResult], cases: Mapping[str, StoredCase]) -> dict[str, float]:
    """``case_chance`` of every case the judged ``rows`` answer, keyed like the scores key
    cases (case hash, else case id); each case validated once."""
    out: dict[str, float] = {}
    for r in rows:
        key = r.case_hash or r.case_id
        if r.verdict in JUDGED and key not in out:
            out[key] = case_chance(cases.get(r.case_hash)) if r.case_hash else 0.0
    return out


def chance_levels(rows: Iterable[EffectiveResult], cases: Mapping[str, StoredCase]
                  ) -> tuple[dict[str, float], dict[tuple[str, str], float]]:
    """Chance levels in percent: per cell over every case judged for some model, and
    per (model, cell) over the cases that model was judged on (what its score is over)."""
    rows = list(rows)
    per_case = chance_by_case(rows, cases)
    cell_cases: dict[str, set[str]] = defaultdict(set)
    model_cases: dict[tuple[str, str], list[str]] = defaultdict(list)
    for r in rows:
        if r.verdict in JUDGED:
            key = r.case_hash or r.case_id
            cell_cases[r.cell].add(key)
            model_cases[(r.model, r.cell)].append(key)
    # fsum: exact, so the level does not depend on the order a set of case keys is walked in
    # (that order changes from process to process, and the last digit of a plain sum with it)
    return ({c: 100 * math.fsum(per_case[k] for k in ks) / len(ks) for c, ks in cell_cases.items()},
            {mc: 100 * math.fsum(per_case[k] for k in ks) / len(ks) for mc, ks in model_cases.items()})


__all__ = ["case_chance", "chance_by_case", "chance_levels", "chance_of"]
