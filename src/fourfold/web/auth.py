"""Who is asking: the login link, the session cookie, CSRF, and the dependencies
routes declare to require a logged-in annotator, a CSRF token or a lead.

Login by link: ``fourfold annotate add-annotator NAME`` prints a link with a
random token; opening it stores a *session id* in an HttpOnly, SameSite=Strict
cookie. The login response redirects at once and sends
``Referrer-Policy: no-referrer``, so the token does not linger. Every POST needs
the session's CSRF token (header ``X-CSRF-Token`` or form field ``csrf_token``).
"""

# No ``from __future__ import annotations``: FastAPI reads the dependency objects in
# ``Annotated[..., Depends(...)]`` from the signatures at import time.

import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from ..store import human as H
from . import sessions
from .state import AppState, app_state, page

COOKIE = "fourfold_session"
CSRF_HEADER = "x-csrf-token"
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")

router = APIRouter()


@dataclass(frozen=True)
class Session:
    annotator: str
    csrf: str
    lead: bool


def current_session(request: Request) -> Session | None:
    """The logged-in annotator's session, or None; remembered on ``request.state``
    so that pages show who is logged in."""
    state = app_state(request)
    store = state.stores.get()
    found = sessions.session_for(store, request.cookies.get(COOKIE))
    if found is None:
        return None
    s = Session(found.annotator, found.csrf, found.annotator in state.leads or H.is_lead(store, found.annotator))
    request.state.session = s
    return s


def need_session(request: Request) -> Session:
    s = current_session(request)
    if s is None:
        raise HTTPException(401, "not logged in: open the login link you were given")
    return s


async def need_csrf(request: Request, s: Annotated[Session, Depends(need_session)]) -> Session:
    """The session, if the request carries its CSRF token (header, else form field)."""
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(_FORMS):
        value = (await request.form()).get("csrf_token")
        sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent.encode(), s.csrf.encode()):
        raise HTTPException(403, "missing or wrong CSRF token: reload the page")
    return s


def need_lead(s: Annotated[Session, Depends(need_session)]) -> Session:
    if not s.lead:
        raise HTTPException(403, "only a lead can see this page")
    return s


@router.get("/login")
def login(request: Request, state: Annotated[AppState, Depends(app_state)], token: str = "") -> Response:
    store = state.stores.get()
    name = sessions.annotator_for_token(store, token)
    if name is None:
        return page(request, "error.html", 403, status=403,
                    message="This login link is not valid (it may have been replaced by a newer one).")
    sid, _ = sessions.create_session(store, name)
    if request.headers.get("sec-fetch-site") == "cross-site":
        # A SameSite=Strict cookie is not sent on the rest of a navigation that began
        # on another site; a same-site hop from our own page gets it sent.
        response: Response = page(request, "login.html", session=None)
    else:
        response = RedirectResponse("/", status_code=303)
    response.headers["Referrer-Policy"] = "no-referrer"
    response.set_cookie(COOKIE, sid, max_age=sessions.SESSION_MAX_AGE_S, path="/", httponly=True,
                        samesite="strict", secure=state.secure_cookies)
    return response


@router.post("/logout")
def logout(request: Request, s: Annotated[Session, Depends(need_csrf)],
           state: Annotated[AppState, Depends(app_state)]) -> Response:
    sid = request.cookies.get(COOKIE)
    if sid:
        sessions.end_session(state.stores.get(), sid)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


__all__ = ["COOKIE", "CSRF_HEADER", "Session", "current_session", "need_csrf", "need_lead", "need_session",
           "router"]
