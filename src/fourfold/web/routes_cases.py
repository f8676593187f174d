"""The annotator's pages: the list of their cases and one case to judge and rank."""

# No ``from __future__ import annotations``: FastAPI reads the dependencies from the signatures.

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from ..report import reference_summary
from ..score.assignment import Assignment, assignments_for
from ..secrets import redact
from ..store import Store
from ..store import human as H
from .auth import Session, current_session, need_session
from .state import AppState, app_state, page
from .views import ResponseView, anonymised, assigned_case, label, messages

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
def index(request: Request, state: Annotated[AppState, Depends(app_state)]) -> Response:
    s = current_session(request)
    if s is None:
        return page(request, "error.html", 401, status=401,
                    message="You are not logged in. Open the login link you were given.")
    items = assignments_for(state.stores.get(), s.annotator)
    done = sum(a.done for a in items)
    first_open = next((a.case_hash for a in items if not a.done), None)
    return page(request, "index.html", items=items, done=done, total=len(items), first_open=first_open,
                judged=sum(a.n_judged for a in items), responses=sum(a.n_responses for a in items))


def _responses(store: Store, s: Session, case_hash: str) -> tuple[list[ResponseView], list[ResponseView], bool]:
    """(responses in the annotator's blind order, the same in their saved ranking's
    order, whether they saved a ranking)."""
    mine = {r.result_key: r for r in H.human_verdicts(store, s.annotator) if r.case_hash == case_hash}
    anon = anonymised(store, s.annotator, case_hash)
    model_of = {r.key: r.model for _, r in anon}
    responses = [
        ResponseView(rid, label(i), redact(r.response or ""), m.verdict if (m := mine.get(r.key)) else "",
                     m.comment if m else "", r.key)
        for i, (rid, r) in enumerate(anon)
    ]
    ranking = next((x.ranking for x in H.human_rankings(store)
                    if x.annotator == s.annotator and x.case_hash == case_hash), None)
    if ranking is not None and set(model_of.values()) <= set(ranking):
        ranked = sorted(responses, key=lambda r: (ranking[model_of[r.key]], r.label))
    else:
        ranked = list(responses)
    return responses, ranked, ranking is not None


def _case_progress(this: Assignment) -> str:
    """``this case: 2/3 judged · not ranked`` for the case's assignment."""
    return f"this case: {this.n_judged}/{this.n_responses} judged" + (
        (" · ranked" if this.ranked else " · not ranked") if this.n_responses > 1 else "") + (
        " · done ✓" if this.done else "")


@router.get("/case/{case_hash}", response_class=HTMLResponse)
def case_page(request: Request, case_hash: str, s: Annotated[Session, Depends(need_session)],
              state: Annotated[AppState, Depends(app_state)]) -> Response:
    store = state.stores.get()
    case = assigned_case(store, s, case_hash).case
    responses, ranked, has_ranking = _responses(store, s, case_hash)
    items = assignments_for(store, s.annotator)
    pos = next(i for i, a in enumerate(items) if a.case_hash == case_hash)
    return page(
        request, "case.html", case=case, case_hash=case_hash, messages=messages(case, state.frames),
        reference=reference_summary(case.reference), responses=responses,
        ranked=ranked, has_ranking=has_ranking, position=pos + 1, total=len(items),
        case_progress=_case_progress(items[pos]),
        done=sum(a.done for a in items),
        prev=items[pos - 1].case_hash if pos > 0 else None,
        next=items[pos + 1].case_hash if pos + 1 < len(items) else None,
    )


__all__ = ["router"]
