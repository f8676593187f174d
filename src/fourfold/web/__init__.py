"""The annotation web UI (FastAPI): the last stage, reading and writing the store.

``create_app(store_path)`` builds the app, ``serve(store_path, host, port)`` runs it
with uvicorn, ``login_url(token, host, port)`` is the link an annotator opens.
See ``app.py`` for the security model (login links, CSRF, per-annotator scoping).
"""

from __future__ import annotations

from .app import COOKIE, DEFAULT_PORT, create_app, login_url, serve

__all__ = ["COOKIE", "DEFAULT_PORT", "create_app", "login_url", "serve"]
