"""A lead's pages: the disagreements to settle, and how far people agree."""

# No ``from __future__ import annotations``: FastAPI reads the dependencies from the signatures.

import hashlib
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..judge.verdict import JUDGED
from ..score.votes import conflicts, disagreements
from ..secrets import redact
from ..store import human as H
from .auth import Session, need_csrf, need_lead
from .state import AppState, app_state, page
from .views import prompt_text

router = APIRouter()


@router.get("/disagreements", response_class=HTMLResponse)
def disagreements_page(request: Request, s: Annotated[Session, Depends(need_lead)],
                       state: Annotated[AppState, Depends(app_state)]) -> Response:
    store = state.stores.get()
    items = disagreements(store)
    cases = store.cases({d["case_hash"] for d in items if d["case_hash"]})
    texts = H.response_texts(store, [d["result_key"] for d in items])
    for d in items:
        stored = cases.get(d["case_hash"])
        d["prompt"] = prompt_text(stored.valid_case() if stored is not None else None)
        d["response"] = redact(texts.get(d["result_key"]) or "")
    return page(request, "disagreements.html", items=items, open=sum(d["decision"] is None for d in items))


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
