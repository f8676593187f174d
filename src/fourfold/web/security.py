"""Headers, origin checks and logging that hold for every answer of the annotation app.

- Cross-origin writes are refused before any handler runs: when the browser says
  where a POST comes from (``Origin`` / ``Sec-Fetch-Site``) it must be this page's
  own origin. The CSRF token (``auth``) is checked as well; SameSite=Strict is a
  third line, not the only one.
- A strict Content-Security-Policy allows only the package's own templates and
  static files (no inline script or style, no network resources).
- uvicorn's access log prints the request line, and a login URL carries the token
  in its query string, so every query string is dropped from that log; our own
  log line carries the path, never the query.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response

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


class StripQuery(logging.Filter):
    """Drops the query string from uvicorn's access log lines (login tokens travel in it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str) and "?" in args[2]:
            record.args = (*args[:2], args[2].split("?", 1)[0], *args[3:])
        return True


def install_log_filter() -> None:
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, StripQuery) for f in access.filters):
        access.addFilter(StripQuery())


async def guard(request: Request, call_next: Any) -> Response:
    """HTTP middleware: cross-origin writes are refused before any handler runs; every
    answer gets the security headers; the log line carries the path, never the query."""
    t0 = time.perf_counter()
    if request.method in _UNSAFE_METHODS and not same_origin(request):
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


def same_origin(request: Request) -> bool:
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


__all__ = ["CSP", "StripQuery", "guard", "install_log_filter", "log", "same_origin"]
