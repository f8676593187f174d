"""What the case page POSTs: one verdict, or one ranking, saved at once.

The browser knows responses only by their opaque ids (``views.anonymised``);
an id that no longer matches the case's responses is a 409 so the page reloads
instead of saving a verdict on the wrong answer.
"""

# No ``from __future__ import annotations``: FastAPI reads the dependencies from the signatures.

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, Field

from ..judge.verdict import JUDGED
from ..score.assignment import assignments_for
from ..store import Store
from ..store import human as H
from .auth import Session, need_csrf
from .state import AppState, app_state
from .views import anonymised, assigned_case

router = APIRouter()


class VerdictIn(BaseModel):
    case_hash: str = Field(max_length=200)
    response: str = Field(max_length=64)
    verdict: str = Field(max_length=16)
    comment: str = Field(default="", max_length=10_000)


class RankingIn(BaseModel):
    case_hash: str = Field(max_length=200)
    order: list[str] = Field(max_length=100)


def _progress(store: Store, s: Session, case_hash: str) -> dict[str, Any]:
    items = assignments_for(store, s.annotator)
    this = next((a for a in items if a.case_hash == case_hash), None)
    return {"done": sum(a.done for a in items), "total": len(items),
            "case": {k: getattr(this, k) for k in ("n_judged", "n_responses", "ranked", "done")} if this else None}


@router.post("/api/verdict")
def api_verdict(body: VerdictIn, s: Annotated[Session, Depends(need_csrf)],
                state: Annotated[AppState, Depends(app_state)]) -> dict[str, Any]:
    store = state.stores.get()
    assigned_case(store, s, body.case_hash)
    if body.verdict not in JUDGED:
        raise HTTPException(400, f"verdict must be one of {', '.join(JUDGED)}")
    row = next((r for rid, r in anonymised(store, s.annotator, body.case_hash) if rid == body.response), None)
    if row is None:
        raise HTTPException(409, "this response is no longer part of the case: reload the page")
    saved = H.save_verdict(store, s.annotator, row.key, body.verdict, body.comment)
    return {"ok": True, "saved_at": saved, "progress": _progress(store, s, body.case_hash)}


@router.post("/api/ranking")
def api_ranking(body: RankingIn, s: Annotated[Session, Depends(need_csrf)],
                state: Annotated[AppState, Depends(app_state)]) -> dict[str, Any]:
    store = state.stores.get()
    assigned_case(store, s, body.case_hash)
    by_rid = dict(anonymised(store, s.annotator, body.case_hash))
    if len(body.order) != len(set(body.order)) or set(body.order) != set(by_rid):
        raise HTTPException(409, "the responses of this case changed: reload the page")
    saved = H.save_ranking(store, s.annotator, body.case_hash, [by_rid[rid].model for rid in body.order])
    return {"ok": True, "saved_at": saved, "progress": _progress(store, s, body.case_hash)}


__all__ = ["RankingIn", "VerdictIn", "router"]
