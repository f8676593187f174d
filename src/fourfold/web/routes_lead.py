"""A lead's pages: the disagreements to settle, and how far people agree."""

# No ``from __future__ import annotations``: FastAPI reads the dependencies from the signatures.

import hashlib
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..judge.verdict import JUDGED
from ..score.votes import Disagreement, conflicts, disagreements
from ..secrets import redact
from ..store import human as H
from ..store.records import HumanVerdict, LeadDecision
from .auth import Session, need_csrf, need_lead
from .state import AppState, app_state, page
from .views import prompt_text

router = APIRouter()


@dataclass(frozen=True, slots=True)
class DisagreementView:
    """One disagreement as the page shows it: what ``score.votes`` found, plus the question and the (redacted) response."""

    result_key: str
    case_id: str | None
    cell: str | None
    votes: tuple[HumanVerdict, ...]
    tie: bool
    decision: LeadDecision | None
    prompt: str
    response: str

    @classmethod
    def of(cls, d: Disagreement, prompt: str, response: str) -> "DisagreementView":
        return cls(d.result_key, d.case_id, d.cell, d.votes, d.tie, d.decision, prompt, response)


@router.get("/disagreements", response_class=HTMLResponse)
def disagreements_page(request: Request, s: Annotated[Session, Depends(need_lead)],
                       state: Annotated[AppState, Depends(app_state)]) -> Response:
    store = state.stores.get()
    found = disagreements(store)
    cases = store.cases({d.case_hash for d in found if d.case_hash})
    texts = H.response_texts(store, [d.result_key for d in found])
    items = []
    for d in found:
        stored = cases.get(d.case_hash) if d.case_hash else None
        items.append(DisagreementView.of(d, prompt_text(stored.valid_case() if stored is not None else None),
                                      redact(texts.get(d.result_key) or "")))
    return page(request, "disagreements.html", items=items, open=sum(d.decision is None for d in found))


@router.post("/disagreements/settle")
def settle(s: Annotated[Session, Depends(need_csrf)], state: Annotated[AppState, Depends(app_state)],
           result_key: Annotated[str, Form(max_length=200)], verdict: Annotated[str, Form(max_length=16)],
           comment: Annotated[str, Form(max_length=10_000)] = "") -> Response:
    if not s.lead:
        raise HTTPException(403, "only a lead can settle disagreements")
    store = state.stores.get()
    if verdict not in JUDGED:
        raise HTTPException(400, f"verdict must be one of {', '.join(JUDGED)}")
    if not H.result_exists(store, result_key):
        raise HTTPException(404, "no such result")
    H.decide(store, result_key, verdict, s.annotator, comment, check_lead=False)  # lead checked above
    anchor = hashlib.sha256(result_key.encode()).hexdigest()[:12]
    return RedirectResponse(f"/disagreements#r-{anchor}", status_code=303)


@router.get("/stats", response_class=HTMLResponse)
def stats(request: Request, s: Annotated[Session, Depends(need_lead)],
          state: Annotated[AppState, Depends(app_state)]) -> Response:
    from ..score.agreement import agreement_report

    store = state.stores.get()
    return page(request, "stats.html", report=agreement_report(store), n_conflicts=len(conflicts(store)),
                people=H.annotators(store))


__all__ = ["router"]
