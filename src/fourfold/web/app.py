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

The store is opened once per worker thread (SQLite connections are not shared
between threads; WAL lets them and a running evaluation work side by side).
"""

# No ``from __future__ import annotations``: FastAPI must see the dependency objects
# in ``Annotated[..., Depends(local_function)]`` of the handlers defined in create_app.

import hashlib
import hmac
import logging
import mimetypes
import threading
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import jinja2
from fastapi import Depends, FastAPI, Form, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..cases.loader import checked_media
from ..cases.media.video import FrameCache
from ..report import reference_summary
from ..secrets import redact
from ..store import Store
from ..store import human as H
from ..store.human import VERDICTS
from .limits import BodyGuard

WEB_DIR = Path(__file__).parent
COOKIE = "fourfold_session"
CSRF_HEADER = "x-csrf-token"
DEFAULT_PORT = 8765
log = logging.getLogger("fourfold.web")

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; media-src 'self'; "
       "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
_SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    # same-origin, not no-referrer: under no-referrer Chromium sends "Origin: null" on form
    # POSTs, which the origin check must refuse; nothing cross-origin is ever loaded anyway
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


# ------------------------------------------------------------------ plumbing


class _Stores:
    """One ``Store`` (one SQLite connection) per thread that asks for it."""

    def __init__(self, path: Path):
        self.path = path
        self._local = threading.local()
        self._all: list[Store] = []
        self._lock = threading.Lock()

    def get(self) -> Store:
        store = getattr(self._local, "store", None)
        if store is None:
            store = Store(self.path)
            H.ensure_tables(store)
            self._local.store = store
            with self._lock:
                self._all.append(store)
        return store

    def close(self) -> None:
        with self._lock:
            for s in self._all:
                try:
                    s.close()
                except Exception:  # noqa: BLE001 -- closing from another thread may fail; the process ends anyway
                    pass
            self._all.clear()


class _StripQuery(logging.Filter):
    """uvicorn's access log prints the request line; a login URL carries the token
    in its query string, so every query string is dropped from that log."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str) and "?" in args[2]:
            record.args = (*args[:2], args[2].split("?", 1)[0], *args[3:])
        return True


def _install_log_filter() -> None:
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, _StripQuery) for f in access.filters):
        access.addFilter(_StripQuery())


@dataclass(frozen=True)
class Session:
    annotator: str
    csrf: str
    lead: bool


class VerdictIn(BaseModel):
    case_hash: str = Field(max_length=200)
    response: str = Field(max_length=64)
    verdict: str = Field(max_length=16)
    comment: str = Field(default="", max_length=10_000)


class RankingIn(BaseModel):
    case_hash: str = Field(max_length=200)
    order: list[str] = Field(max_length=100)


# ------------------------------------------------------------------ case views


@dataclass
class MediaItem:
    index: int
    kind: str
    name: str
    frames: list[int]


@dataclass
class PartView:
    kind: str  # text | image | video
    text: str = ""
    media: MediaItem | None = None


@dataclass
class MessageView:
    role: str
    parts: list[PartView]


@dataclass
class ResponseView:
    rid: str
    label: str
    text: str
    verdict: str
    comment: str
    key: str


def _label(i: int) -> str:
    """A, B, ..., Z, AA, AB, ...: a spreadsheet-style name for the i-th response."""
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def _media_parts(case: dict[str, Any]) -> list[dict[str, Any]]:
    """The case's image and video parts in prompt order: ``/media/{hash}/{i}`` indexes this list."""
    out = []
    for msg in case.get("input") or []:
        content = msg.get("content") or []
        if isinstance(content, str):
            continue
        for part in content:
            if isinstance(part, dict) and part.get("type") in ("image", "video") and part.get("path"):
                out.append(part)
    return out


def _media_file(case: dict[str, Any], index: int) -> Path | None:
    """The file of the case's ``index``-th media part, if it exists and is an image or a video."""
    parts = _media_parts(case)
    if not 0 <= index < len(parts):
        return None
    base = Path(case.get("_media_base") or ".")
    kind = "video" if parts[index].get("type") == "video" else "image"
    try:  # inside the case's folder or a package's data, and a decodable file within the caps
        path = checked_media(base, str(parts[index]["path"]), kind)
    except (OSError, ValueError):
        return None
    mime = mimetypes.guess_type(path.name)[0] or ""
    if not mime.startswith(("image/", "video/")) or not path.is_file():
        return None
    return path


def _frame_files(cache: FrameCache | None, part: dict[str, Any]) -> list[Path]:
    """Frames the models saw for a video part, if the runner's frame cache has them."""
    if cache is None or part.get("type") != "video":
        return []
    return cache.frames_seen(str(part.get("sha256") or ""))


def _messages(case: dict[str, Any], cache: FrameCache | None) -> list[MessageView]:
    msgs = []
    index = 0
    for msg in case.get("input") or []:
        content = msg.get("content") or []
        if isinstance(content, str):
            content = [{"type": "text", "text": content}]
        parts = []
        for p in content:
            t = p.get("type") if isinstance(p, dict) else None
            if t == "text":
                parts.append(PartView("text", text=str(p.get("text", ""))))
            elif t in ("image", "video") and p.get("path"):
                frames = list(range(len(_frame_files(cache, p)))) if t == "video" else []
                parts.append(PartView(t, media=MediaItem(index, t, Path(str(p["path"])).name, frames)))
                index += 1
        msgs.append(MessageView(str(msg.get("role", "user")), parts))
    return msgs


def _shuffle_digest(salt: str, annotator: str, case_hash: str, key: str) -> str:
    return hashlib.sha256(f"{salt}\x00{annotator}\x00{case_hash}\x00{key}".encode()).hexdigest()


def _anonymised(store: Store, annotator: str, case_hash: str) -> list[tuple[str, dict[str, Any]]]:
    """``[(response id, result row)]`` in this annotator's shuffled order for the case."""
    salt = H.anon_salt(store)
    rows = H.case_responses(store, [case_hash]).get(case_hash, [])
    tagged = sorted(((_shuffle_digest(salt, annotator, case_hash, r["key"]), r) for r in rows), key=lambda t: t[0])
    return [(d[:16], r) for d, r in tagged]


# ------------------------------------------------------------------ the app


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
    stores = _Stores(store_path)
    leads = frozenset(lead_names)
    frames = FrameCache(frame_cache)  # default: the runner's default location
    _install_log_filter()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        stores.close()

    app = FastAPI(title="fourfold annotate", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.stores = stores
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(WEB_DIR / "templates")),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=True),
        trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined,
    )
    env.globals["verdicts"] = VERDICTS
    env.filters["when"] = lambda t: time.strftime("%Y-%m-%d %H:%M", time.localtime(t)) if t else ""
    env.filters["num"] = lambda x, d=2: "—" if x is None else f"{x:.{d}f}"
    env.filters["sha12"] = lambda s: hashlib.sha256(str(s).encode()).hexdigest()[:12]

    def page(request: Request, name: str, code: int = 200, **ctx: Any) -> HTMLResponse:
        ctx.setdefault("session", getattr(request.state, "session", None))
        return HTMLResponse(env.get_template(name).render(**ctx), status_code=code)

    app.mount("/static", StaticFiles(directory=str(WEB_DIR / "static")), name="static")

    @app.middleware("http")
    async def guard(request: Request, call_next: Any) -> Response:
        """Cross-origin writes are refused before any handler runs; every answer
        gets the security headers; the log line carries the path, never the query."""
        t0 = time.perf_counter()
        if request.method in _UNSAFE_METHODS and not _same_origin(request):
            response: Response = JSONResponse({"detail": "cross-origin request refused"}, status_code=403)
        else:
            response = await call_next(request)
        for k, v in _SECURITY_HEADERS.items():
            response.headers.setdefault(k, v)
        if not request.url.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        log.info("%s %s %d %.0f ms", request.method, request.url.path, response.status_code,
                 (time.perf_counter() - t0) * 1000)
        return response

    # Outermost of ours (added last): the login is checked and the body capped before
    # FastAPI reads a byte of it (see ``web.limits``).
    app.add_middleware(BodyGuard, cookie=COOKIE,
                       authorised=lambda sid: H.session_for(stores.get(), sid) is not None)

    # -------------------------------------------------------- sessions

    def current(request: Request) -> Session | None:
        store = stores.get()
        found = H.session_for(store, request.cookies.get(COOKIE))
        if found is None:
            return None
        name, csrf = found
        s = Session(name, csrf, name in leads or H.is_lead(store, name))
        request.state.session = s
        return s

    def need_session(request: Request) -> Session:
        s = current(request)
        if s is None:
            raise HTTPException(401, "not logged in: open the login link you were given")
        return s

    async def need_csrf(request: Request, s: Annotated[Session, Depends(need_session)]) -> Session:
        sent = request.headers.get(CSRF_HEADER)
        if sent is None and request.headers.get("content-type", "").startswith(
                ("application/x-www-form-urlencoded", "multipart/form-data")):
            value = (await request.form()).get("csrf_token")
            sent = value if isinstance(value, str) else None
        if not sent or not hmac.compare_digest(sent.encode(), s.csrf.encode()):
            raise HTTPException(403, "missing or wrong CSRF token: reload the page")
        return s

    def need_lead(s: Annotated[Session, Depends(need_session)]) -> Session:
        if not s.lead:
            raise HTTPException(403, "only a lead can see this page")
        return s

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        """JSON for the page's fetch calls, a readable page for a person."""
        wants_html = "text/html" in request.headers.get("accept", "")
        if not wants_html:
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
        response = page(request, "error.html", exc.status_code, status=exc.status_code, message=str(exc.detail))
        response.headers.update(exc.headers or {})
        return response

    # -------------------------------------------------------- pages

    @app.get("/login")
    def login(request: Request, token: str = "") -> Response:
        store = stores.get()
        name = H.annotator_for_token(store, token)
        if name is None:
            return page(request, "error.html", 403, status=403,
                        message="This login link is not valid (it may have been replaced by a newer one).")
        sid, _ = H.create_session(store, name)
        if request.headers.get("sec-fetch-site") == "cross-site":
            # A SameSite=Strict cookie is not sent on the rest of a navigation that began
            # on another site; a same-site hop from our own page gets it sent.
            response: Response = page(request, "login.html", session=None)
        else:
            response = RedirectResponse("/", status_code=303)
        response.headers["Referrer-Policy"] = "no-referrer"
        response.set_cookie(COOKIE, sid, max_age=H.SESSION_MAX_AGE_S, path="/", httponly=True,
                            samesite="strict", secure=secure_cookies)
        return response

    @app.post("/logout")
    def logout(request: Request, s: Annotated[Session, Depends(need_csrf)]) -> Response:
        sid = request.cookies.get(COOKIE)
        if sid:
            H.end_session(stores.get(), sid)
        response = RedirectResponse("/", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response

    @app.get("/", response_class=HTMLResponse)
    def index(request: Request) -> Response:
        s = current(request)
        if s is None:
            return page(request, "error.html", 401, status=401,
                        message="You are not logged in. Open the login link you were given.")
        items = H.assignments_for(stores.get(), s.annotator)
        done = sum(a["done"] for a in items)
        first_open = next((a["case_hash"] for a in items if not a["done"]), None)
        return page(request, "index.html", items=items, done=done, total=len(items), first_open=first_open,
                    judged=sum(a["n_judged"] for a in items), responses=sum(a["n_responses"] for a in items))

    def _assigned_case(store: Store, s: Session, case_hash: str) -> dict[str, Any]:
        """The case if it is assigned to this annotator; 404 otherwise (also when it
        does not exist, so the answer says nothing about other people's cases)."""
        if len(case_hash) > 200 or not H.is_assigned(store, s.annotator, case_hash):
            raise HTTPException(404, "no such case among your assignments")
        case = store.cases([case_hash]).get(case_hash)
        if case is None:
            raise HTTPException(404, "no such case among your assignments")
        return case

    @app.get("/case/{case_hash}", response_class=HTMLResponse)
    def case_page(request: Request, case_hash: str, s: Annotated[Session, Depends(need_session)]) -> Response:
        store = stores.get()
        case = _assigned_case(store, s, case_hash)
        mine = {r["result_key"]: r for r in H.human_verdicts(store, s.annotator) if r["case_hash"] == case_hash}
        anon = _anonymised(store, s.annotator, case_hash)
        model_of = {r["key"]: r["model"] for _, r in anon}
        responses = [
            ResponseView(rid, _label(i), redact(r.get("response") or ""), mine.get(r["key"], {}).get("verdict", ""),
                         mine.get(r["key"], {}).get("comment", ""), r["key"])
            for i, (rid, r) in enumerate(anon)
        ]
        ranking = next((x["ranking"] for x in H.human_rankings(store)
                        if x["annotator"] == s.annotator and x["case_hash"] == case_hash), None)
        if ranking is not None and set(model_of.values()) <= set(ranking):
            ranked = sorted(responses, key=lambda r: (ranking[model_of[r.key]], r.label))
        else:
            ranked = list(responses)
        items = H.assignments_for(store, s.annotator)
        pos = next(i for i, a in enumerate(items) if a["case_hash"] == case_hash)
        this = items[pos]
        case_progress = f"this case: {this['n_judged']}/{this['n_responses']} judged" + (
            (" · ranked" if this["ranked"] else " · not ranked") if this["n_responses"] > 1 else "") + (
            " · done ✓" if this["done"] else "")
        ref = case.get("reference")
        return page(
            request, "case.html", case=case, case_hash=case_hash, messages=_messages(case, frames),
            reference=reference_summary(ref) if isinstance(ref, dict) else "", responses=responses,
            ranked=ranked, has_ranking=ranking is not None, position=pos + 1, total=len(items),
            case_progress=case_progress,
            done=sum(a["done"] for a in items),
            prev=items[pos - 1]["case_hash"] if pos > 0 else None,
            next=items[pos + 1]["case_hash"] if pos + 1 < len(items) else None,
        )

    @app.get("/media/{case_hash}/{index:int}")
    def media(case_hash: str, index: int, s: Annotated[Session, Depends(need_session)]) -> Response:
        case = _assigned_case(stores.get(), s, case_hash)
        path = _media_file(case, index)
        if path is None:
            raise HTTPException(404, "no such media in this case")
        return FileResponse(path, media_type=mimetypes.guess_type(path.name)[0],
                            headers={"Cache-Control": "private, max-age=3600"})

    @app.get("/frames/{case_hash}/{index:int}/{frame:int}")
    def frame(case_hash: str, index: int, frame: int, s: Annotated[Session, Depends(need_session)]) -> Response:
        case = _assigned_case(stores.get(), s, case_hash)
        parts = _media_parts(case)
        files = _frame_files(frames, parts[index]) if 0 <= index < len(parts) else []
        if not 0 <= frame < len(files):
            raise HTTPException(404, "no such frame")
        return FileResponse(files[frame], media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})

    # -------------------------------------------------------- saving

    def _progress(store: Store, s: Session, case_hash: str) -> dict[str, Any]:
        items = H.assignments_for(store, s.annotator)
        this = next((a for a in items if a["case_hash"] == case_hash), None)
        return {"done": sum(a["done"] for a in items), "total": len(items),
                "case": {k: this[k] for k in ("n_judged", "n_responses", "ranked", "done")} if this else None}

    @app.post("/api/verdict")
    def api_verdict(body: VerdictIn, s: Annotated[Session, Depends(need_csrf)]) -> dict[str, Any]:
        store = stores.get()
        _assigned_case(store, s, body.case_hash)
        if body.verdict not in VERDICTS:
            raise HTTPException(400, f"verdict must be one of {', '.join(VERDICTS)}")
        row = next((r for rid, r in _anonymised(store, s.annotator, body.case_hash) if rid == body.response), None)
        if row is None:
            raise HTTPException(409, "this response is no longer part of the case: reload the page")
        saved = H.save_verdict(store, s.annotator, row["key"], body.verdict, body.comment)
        return {"ok": True, "saved_at": saved, "progress": _progress(store, s, body.case_hash)}

    @app.post("/api/ranking")
    def api_ranking(body: RankingIn, s: Annotated[Session, Depends(need_csrf)]) -> dict[str, Any]:
        store = stores.get()
        _assigned_case(store, s, body.case_hash)
        by_rid = {rid: r for rid, r in _anonymised(store, s.annotator, body.case_hash)}
        if len(body.order) != len(set(body.order)) or set(body.order) != set(by_rid):
            raise HTTPException(409, "the responses of this case changed: reload the page")
        saved = H.save_ranking(store, s.annotator, body.case_hash, [by_rid[rid]["model"] for rid in body.order])
        return {"ok": True, "saved_at": saved, "progress": _progress(store, s, body.case_hash)}

    # -------------------------------------------------------- lead pages

    @app.get("/disagreements", response_class=HTMLResponse)
    def disagreements_page(request: Request, s: Annotated[Session, Depends(need_lead)]) -> Response:
        store = stores.get()
        items = H.disagreements(store)
        hashes = {d["case_hash"] for d in items if d["case_hash"]}
        cases = store.cases(hashes)
        texts = H.response_texts(store, [d["result_key"] for d in items])
        for d in items:
            case = cases.get(d["case_hash"]) or {}
            d["prompt"] = "\n\n".join(p.text for m in _messages(case, None) for p in m.parts if p.kind == "text")
            d["response"] = redact(texts.get(d["result_key"]) or "")
        return page(request, "disagreements.html", items=items, open=sum(d["decision"] is None for d in items))

    @app.post("/disagreements/settle")
    def settle(s: Annotated[Session, Depends(need_csrf)], result_key: Annotated[str, Form(max_length=200)],
               verdict: Annotated[str, Form(max_length=16)],
               comment: Annotated[str, Form(max_length=10_000)] = "") -> Response:
        if not s.lead:
            raise HTTPException(403, "only a lead can settle disagreements")
        store = stores.get()
        if verdict not in VERDICTS:
            raise HTTPException(400, f"verdict must be one of {', '.join(VERDICTS)}")
        if not H.result_exists(store, result_key):
            raise HTTPException(404, "no such result")
        H.decide(store, result_key, verdict, s.annotator, comment, check_lead=False)  # lead checked above
        anchor = hashlib.sha256(result_key.encode()).hexdigest()[:12]
        return RedirectResponse(f"/disagreements#r-{anchor}", status_code=303)

    @app.get("/stats", response_class=HTMLResponse)
    def stats(request: Request, s: Annotated[Session, Depends(need_lead)]) -> Response:
        from ..score.agreement import agreement_report

        store = stores.get()
        return page(request, "stats.html", report=agreement_report(store), n_conflicts=len(H.conflicts(store)),
                    people=H.annotators(store))

    return app


def _same_origin(request: Request) -> bool:
    """False when the browser says the request comes from another origin.

    ``Origin`` is compared with this server's own origin (scheme and Host); with
    no ``Origin`` (non-browser clients) ``Sec-Fetch-Site``, if sent, must say
    same-origin. ``Origin: null`` counts only with ``Sec-Fetch-Site: same-origin``
    (a header pages cannot set). A request with neither is left to the CSRF token."""
    origin = request.headers.get("origin")
    host = request.headers.get("host", "")
    site = request.headers.get("sec-fetch-site")
    if origin == "null":  # privacy settings hide the origin; the browser still says where it came from
        return site == "same-origin"
    if origin is not None:
        return bool(host) and origin.lower() == f"{request.url.scheme}://{host}".lower()
    return site in (None, "same-origin", "none")


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
