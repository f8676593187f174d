"""The export's row: one model's result on one case, the single definition that
the CSV header, the JSONL objects, the Parquet schema and ``docs/export-schema.md``
all derive from.

Why versioned: an export outlives the fourfold that wrote it (a paper's
supplement, a notebook); ``schema_version`` in every row says which table of
docs/export-schema.md describes it. Bump it when a column is renamed, removed or
changes meaning; adding a column at the end is not a bump.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from ..score.collection import Collection
    from ..store.records import StoredCase

SCHEMA_VERSION = 1


class ExportRow(BaseModel):
    """One row of an export. Field order is column order."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1] = Field(SCHEMA_VERSION, description="version of this table; see the heading above")
    model: str = Field(description="the model spec as run (e.g. `openai/gpt-4o@http://...`)")
    model_identity: str = Field(description="JSON: what answered (backend, weights hash, ...); never a secret")
    settings: str = Field(description="JSON: generation settings (temperature, max tokens, seed, ...)")
    served_model: str | None = Field(description="the model name the server reported, when it reported one")
    cell: str = Field(description="`modality/property`, one of the 12 cells")
    modality: str = Field(description="text, code, image or video")
    property: str = Field(description="generalizability, trustworthiness or causality")
    category: str = Field(description="the category inside the cell")
    case_id: str = Field(description="the case's id in its suite")
    case_hash: str = Field(description="SHA-256 of the case's content: the same hash is the same case")
    suite: str | None = Field(description="the suite the case came from, when the store recorded it")
    perturbation: str | None = Field(description="the perturbation a variant case applied (e.g. `noise`), else null")
    original_case_id: str | None = Field(description="a perturbed variant's original case id, else null")
    status: str = Field(description="ok, error or not_evaluated")
    verdict: str = Field(description="the verdict that counts: good, unclear, bad; "
                         "else unjudged, not_evaluated or error")
    verdict_source: str = Field(description="who gave it: rule, judge (a judge model), human, or none")
    verdict_by: str = Field(description="the rule, the judge model and template, or the people")
    rule_verdict: str | None = Field(description="the rule's own verdict")
    judge_verdict: str | None = Field(description="the judge model's verdict, when one judged")
    human_verdict: str | None = Field(description="people's verdict, when people judged")
    rationale: str | None = Field(description="why the verdict (the counting source's words); untrusted text")
    response: str | None = Field(description="the model's answer, as stored (secrets redacted); untrusted text")
    error: str | None = Field(description="the error, when status is error")
    prompt_tokens: int | None = Field(description="tokens in, as the backend reported")
    completion_tokens: int | None = Field(description="tokens out, as the backend reported")
    latency_s: float | None = Field(description="seconds from request to answer")
    attempts: int | None = Field(description="calls made (retries included)")
    run_id: str | None = Field(description="the `fourfold run` that produced the answer")
    created_at: float = Field(description="when the answer was stored (Unix seconds, UTC)")
    key: str = Field(description="the result key: model identity + settings + case content")
    finish_reason: str | None = Field(None, description="why the model stopped, in its backend's words (stop, length, "
                                      "max_tokens, SAFETY, ...); length, max_tokens or MAX_TOKENS: cut at --max-tokens; "
                                      "null in stores from before fourfold kept it")


COLUMNS: tuple[str, ...] = tuple(ExportRow.model_fields)


def base_type(annotation: object) -> type:
    """``str | None`` -> ``str``; ``Literal[1]`` -> ``int``: the column's value type."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        (inner,) = [a for a in typing.get_args(annotation) if a is not type(None)]
        return base_type(inner)
    if typing.get_origin(annotation) is Literal:
        return type(typing.get_args(annotation)[0])
    assert isinstance(annotation, type), annotation
    return annotation


def nullable(name: str) -> bool:
    annotation = ExportRow.model_fields[name].annotation
    return isinstance(annotation, types.UnionType) and type(None) in typing.get_args(annotation)


def _perturbation(stored: StoredCase | None) -> tuple[str | None, str | None]:
    """A variant's perturbation and original id, from its case's metadata (as ``score.robustness`` reads them)."""
    case = stored.valid_case() if stored is not None else None
    extra = (case.metadata.model_extra or {}) if case else {}
    pert, orig = extra.get("perturbation"), extra.get("original")
    return (str(pert) if pert else None, str(orig) if orig else None)


def export_rows(col: Collection) -> Iterator[ExportRow]:
    """The collection's results as export rows, in its order (model, cell, case id)."""
    for r in col.results:
        stored = col.cases.get(r.case_hash or "")
        pert, orig = _perturbation(stored)
        modality, _, prop = r.cell.partition("/")
        yield ExportRow(  # validated: pydantic-core does it faster than model_construct's Python loop
            model=r.model, model_identity=r.model_identity, settings=r.settings, served_model=r.served_model,
            cell=r.cell, modality=modality, property=prop, category=r.category, case_id=r.case_id,
            case_hash=r.case_hash, suite=stored.suite if stored else None, perturbation=pert, original_case_id=orig,
            status=r.status, verdict=r.verdict, verdict_source=r.verdict_source, verdict_by=r.verdict_by,
            rule_verdict=r.rule_verdict, judge_verdict=r.judge_verdict, human_verdict=r.human_verdict,
            rationale=r.rationale, response=r.response, error=r.error, prompt_tokens=r.prompt_tokens,
            completion_tokens=r.completion_tokens, latency_s=r.latency_s, attempts=r.attempts, run_id=r.run_id,
            created_at=r.created_at, key=r.key, finish_reason=r.finish_reason)


def schema_markdown() -> str:
    """The columns table of docs/export-schema.md, made from ``ExportRow`` (a test checks the doc holds it)."""
    lines = [f"### Schema version {SCHEMA_VERSION}", "", "| # | column | type | null | meaning |",
             "|---|---|---|---|---|"]
    for i, (name, f) in enumerate(ExportRow.model_fields.items(), 1):
        kind = base_type(f.annotation).__name__
        lines.append(f"| {i} | `{name}` | {kind} | {'yes' if nullable(name) else 'no'} | {f.description} |")
    return "\n".join(lines) + "\n"


__all__ = ["COLUMNS", "SCHEMA_VERSION", "ExportRow", "base_type", "export_rows", "nullable",
           "schema_markdown"]
