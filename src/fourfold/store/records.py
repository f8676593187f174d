"""The typed records the store hands out: what every later stage reads.

Why records and not rows as dicts: the stages after the store (judging, scores,
the report, the web app) each used to know the column names by heart and could
add keys of their own; a frozen dataclass says what a row holds, a typo is an
``AttributeError`` at once, and nothing travels in smuggled ``_``-prefixed keys.
The records are read-only: a stage that derives something (the verdict that
counts, say) makes its own record from them.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:  # pydantic and the case schema load when a case is first read, not with the store
    from ..cases.schema import Case


@dataclass(frozen=True)
class StoredCase:
    """A case as the run stored it, with where its media live.

    ``data`` is the case's JSON as written; ``case`` validates it into a ``Case``
    once (the one place a stored case becomes a ``Case`` again), and ``suite`` and
    ``media_base`` (the folder its media paths are relative to) are the columns
    stored beside it."""

    case_hash: str
    case_id: str
    cell: str
    category: str
    suite: str | None
    media_base: str | None
    data: str

    @functools.cached_property
    def case(self) -> Case:
        """The stored case as a ``Case``. Its cell and category are taken as they were
        when it ran (``cases.schema.STORED``); anything else that no longer validates
        (a reference field renamed since) raises pydantic's ``ValidationError``, a ``ValueError``."""
        from ..cases.schema import STORED, Case

        return Case.model_validate_json(self.data, context=STORED)

    @functools.cached_property
    def facts(self) -> CaseFacts | None:
        """What scores read of this case without validating it (reference kind, options,
        perturbation), by the SQLite JSON functions ``Store.case_facts`` uses, so a list of
        cases and a streamed pass count alike; once per case. None: the JSON is invalid."""
        from . import case_facts_of

        return case_facts_of(self.case_hash, self.data)

    @classmethod
    def with_facts(cls, row: tuple[str, str, str, str, str | None, str | None, str], facts: CaseFacts | None
                   ) -> StoredCase:
        """A stored case whose ``facts`` its reader already has (``Store.cases`` reads them in
        the same query): the cached property is filled in, not computed again."""
        stored = cls(*row)
        stored.__dict__["facts"] = facts
        return stored

    def valid_case(self) -> Case | None:
        """``case``, or None when the stored JSON no longer validates: for readers that
        show what they can (the report, the web app) rather than fail on one old case."""
        try:
            return self.case
        except ValueError:
            return None


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """What scores read of a stored case without validating it (``Store.case_facts``):
    its reference kind and number of options (None when not a list), and its
    metadata's ``perturbation`` and ``original`` (None when absent)."""

    case_hash: str
    kind: str | None
    n_options: int | None
    perturbation: object = None
    original: object = None


@dataclass(frozen=True, slots=True)
class StoredResult:
    """One model's answer to one case, as stored: the rule's verdict (a ``Verdict``
    value) with its rationale, and everything about the call. Fields without a
    default are what every reader needs; the rest default so tests and tools can
    build one by name."""

    key: str
    model: str
    case_id: str
    case_hash: str
    cell: str
    verdict: str
    category: str = ""
    status: str = "ok"  # ok | error | not_evaluated
    response: str | None = None
    rationale: str | None = ""
    judge: str | None = ""
    error: str | None = None
    served_model: str | None = None
    latency_s: float | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    attempts: int | None = 0
    model_identity: str = ""
    settings: str = ""
    created_at: float = 0.0
    run_id: str | None = None
    finish_reason: str | None = None


#: The results table's columns in ``StoredResult`` field order (for ``SELECT``).
RESULT_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(StoredResult))


class LatestResult(NamedTuple):
    """What scores read of a latest result, streamed (``Store.iter_latest_chunks``):
    a named tuple, because a frozen dataclass costs about 3 µs to build, which is
    3 s of a million-result report; the texts (response, rationale) are not read."""

    key: str
    model: str
    case_id: str
    case_hash: str
    cell: str
    category: str
    status: str
    verdict: str
    judge: str | None
    prompt_tokens: int | None
    completion_tokens: int | None


@dataclass(frozen=True, slots=True)
class StoredJudgement:
    """A judge model's verdict on a stored result (the newest one is what counts)."""

    result_key: str
    verdict: str
    rationale: str | None
    judge: str
    template: str
    judge_identity: str = ""
    created_at: float = 0.0
    votes: dict[str, int] = field(default_factory=dict)
    raw: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class StoredRanking:
    """A judge model's ranking of the models' responses to one case: ``ranks`` is
    ``{model: rank}``, 1 = best."""

    case_hash: str
    case_id: str
    cell: str
    judge: str
    template: str
    ranks: dict[str, float]
    created_at: float = 0.0


# ---------------------------------------------------------------- annotation (store.human)


@dataclass(frozen=True, slots=True)
class Annotator:
    """A person who may judge (never their token or its hash)."""

    name: str
    is_lead: bool
    created_at: float
    assignments: int


@dataclass(frozen=True, slots=True)
class AssignedCase:
    """One case assigned to a person, as stored (their progress on it is
    ``score.assignment.progress``'s business)."""

    case_hash: str
    case_id: str
    cell: str
    category: str
    assigned_at: float


@dataclass(frozen=True, slots=True)
class HumanVerdict:
    """One person's verdict on one result, with the result's model, case and cell
    (None when the result is no longer stored)."""

    annotator: str
    result_key: str
    verdict: str
    comment: str
    updated_at: float
    model: str | None = None
    case_id: str | None = None
    case_hash: str | None = None
    cell: str | None = None


@dataclass(frozen=True, slots=True)
class HumanRanking:
    """One person's ranking of the models' responses to a case: ``{model: rank}``, 1 = best."""

    annotator: str
    case_hash: str
    cell: str | None
    ranking: dict[str, float]
    updated_at: float


@dataclass(frozen=True, slots=True)
class LeadDecision:
    """A lead's verdict on a result, which beats every vote."""

    result_key: str
    verdict: str
    lead: str
    comment: str
    decided_at: float


__all__ = ["RESULT_COLUMNS", "AssignedCase", "Annotator", "CaseFacts", "LatestResult", "HumanRanking", "HumanVerdict", "LeadDecision", "StoredCase",
           "StoredJudgement", "StoredRanking", "StoredResult"]
