"""The annotation web UI: people judge and rank the models' responses in a browser.

Design choices and why:

- **Login by link.** ``fourfold annotate add-annotator NAME`` prints a link with a
  random token; opening it stores a *session id* in an HttpOnly, SameSite=Strict
  cookie. Only SHA-256 hashes of tokens and session ids are stored, the query
  string never reaches a log (uvicorn's access log is off in ``serve`` and
  stripped of query strings otherwise), and the login response redirects at once
  and sends ``Referrer-Policy: no-referrer``, so the token does not linger.
- **Everything scoped to the annotator.** A case, its media and every save are
  looked up through the annotator's assignments; anything else is a 404, the same
  answer as for a case that does not exist, so nobody can probe for other cases.
  Media are served only from the case's own parts (index into the stored case,
  resolved against its ``media_base``), never from a path in the request.
- **Blind judging.** Responses are shown as "Response A, B, ..." in an order
  shuffled per (annotator, case) with a salted hash (stable across reloads,
  different between people); the browser only sees opaque response ids.
- **Login before body.** A POST from someone not logged in is refused before
  its body is read, and bodies are capped (1 MiB, forms 256 KiB): see ``limits``.
- **CSRF.** Every POST needs the session's CSRF token (header ``X-CSRF-Token`` or
  form field ``csrf_token``) and, when the browser says where it comes from, the
  page's own origin (``Origin`` / ``Sec-Fetch-Site``). SameSite=Strict is a
  second line, not the only one.
- **No network resources.** Templates and static files ship in the package; a
  strict Content-Security-Policy allows only them (no inline script or style).
- **Saves never get lost.** The page POSTs every change at once; pending changes
  sit in a localStorage queue until the server confirms them, so a reload, a
  dropped connection or a server restart loses nothing (sessions are stored in
  the database and survive restarts).

Where each part lives: ``auth`` (login link, session cookie, CSRF and the
dependencies routes declare), ``security`` (headers, origin check, log filter),
``limits`` (login before body, body caps), ``state`` (one store per thread, the
settings, templates), ``views`` (a case as a page shows it, the blind order),
and one router per group of pages: ``routes_cases``, ``routes_api``, ``media``,
``routes_lead``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..cases.media.video import FrameCache
from . import auth, media, routes_api, routes_cases, routes_lead
from .auth import COOKIE
from .limits import BodyGuard
from .security import CSP, guard, install_log_filter
from .sessions import session_for
from .state import WEB_DIR, AppState, Stores, page, templates

DEFAULT_PORT = 8765


async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
    """JSON for the page's fetch calls, a readable page for a person."""
    wants_html = "text/html" in request.headers.get("accept", "")
    if not wants_html:
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
    response = page(request, "error.html", exc.status_code, status=exc.status_code, message=str(exc.detail))
    response.headers.update(exc.headers or {})
    return response


def create_app(store_path: Path, *, lead_names: Iterable[str] = (), frame_cache: Path | None = None,
               secure_cookies: bool = False) -> FastAPI:
    """The annotation app over the store at ``store_path``.

    ``lead_names``: annotators treated as leads in addition to those stored with
    ``is_lead``. ``frame_cache``: the runner's frame cache (default: its default
    location) to show the frames a model saw of a video. ``secure_cookies``: mark
    the session cookie Secure (behind an HTTPS proxy)."""
    store_path = Path(store_path)
    if not store_path.exists():
        raise FileNotFoundError(f"{store_path}: no such store")
    stores = Stores(store_path)
    install_log_filter()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        stores.close()

    app = FastAPI(title="fourfold annotate", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.fourfold = AppState(stores=stores, leads=frozenset(lead_names), frames=FrameCache(frame_cache),
                                  secure_cookies=secure_cookies, templates=templates())
    app.mount("/static", StaticFiles(directory=str(WEB_DIR / "static")), name="static")
    app.middleware("http")(guard)
    # Outermost of ours (added last): the login is checked and the body capped before
    # FastAPI reads a byte of it (see ``web.limits``).
    app.add_middleware(BodyGuard, cookie=COOKIE,
                       authorised=lambda sid: session_for(stores.get(), sid) is not None)
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    for module in (auth, routes_cases, media, routes_api, routes_lead):
        app.include_router(module.router)
    return app


def login_url(token: str, host: str = "127.0.0.1", port: int = DEFAULT_PORT) -> str:
    """The link an annotator opens (what ``fourfold annotate add-annotator`` prints)."""
    from urllib.parse import quote

    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"http://{shown}:{port}/login?token={quote(token, safe='')}"


def serve(store_path: Path, host: str = "127.0.0.1", port: int = DEFAULT_PORT, *, lead_names: Iterable[str] = (),
          frame_cache: Path | None = None, log_level: str = "info") -> None:
    """Run the annotation UI with uvicorn until interrupted. uvicorn's own access log
    is off (it would print login tokens); ``fourfold.web`` logs method, path and status."""
    import uvicorn

    app = create_app(Path(store_path), lead_names=lead_names, frame_cache=frame_cache)
    if not logging.getLogger("fourfold.web").handlers and not logging.getLogger().handlers:
        logging.basicConfig(level=getattr(logging, log_level.upper(), logging.INFO), format="%(message)s")
    uvicorn.run(app, host=host, port=port, access_log=False, log_level=log_level, server_header=False)


__all__ = ["COOKIE", "CSP", "DEFAULT_PORT", "create_app", "login_url", "serve"]
