"""What every route of the annotation app shares: one store per thread, the
app's settings, and the page renderer.

The store is opened once per worker thread (SQLite connections are not shared
between threads; WAL lets them and a running evaluation work side by side).
FastAPI runs a sync dependency and the sync handler using it on possibly
different pool threads, so a route asks ``state.stores.get()`` for the store in
the function that uses it instead of receiving one through ``Depends``.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse

from ..cases.media.video import FrameCache
from ..judge.verdict import JUDGED
from ..store import Store
from ..store import human as H

WEB_DIR = Path(__file__).parent


class Stores:
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


@dataclass(frozen=True)
class AppState:
    """The settings ``create_app`` was given, kept on ``app.state.fourfold``."""

    stores: Stores
    leads: frozenset[str]  # annotators treated as leads besides those stored with is_lead
    frames: FrameCache  # the runner's frame cache: the frames a model saw of a video
    secure_cookies: bool  # mark the session cookie Secure (behind an HTTPS proxy)
    templates: jinja2.Environment


def app_state(request: Request) -> AppState:
    """The app's shared state (a FastAPI dependency, and a plain function)."""
    return request.app.state.fourfold  # type: ignore[no-any-return]


def templates() -> jinja2.Environment:
    """The package's templates, autoescaped everywhere (prompts, responses and comments are untrusted)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(WEB_DIR / "templates")),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=True),
        trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined,
    )
    env.globals["verdicts"] = JUDGED
    env.filters["when"] = lambda t: time.strftime("%Y-%m-%d %H:%M", time.localtime(t)) if t else ""
    env.filters["num"] = lambda x, d=2: "—" if x is None else f"{x:.{d}f}"
    env.filters["sha12"] = lambda s: hashlib.sha256(str(s).encode()).hexdigest()[:12]
    return env


def page(request: Request, name: str, code: int = 200, **ctx: Any) -> HTMLResponse:
    """Render template ``name``; ``session`` defaults to the request's logged-in session."""
    ctx.setdefault("session", getattr(request.state, "session", None))
    return HTMLResponse(app_state(request).templates.get_template(name).render(**ctx), status_code=code)


__all__ = ["WEB_DIR", "AppState", "Stores", "app_state", "page", "templates"]
