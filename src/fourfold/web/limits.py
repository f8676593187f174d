"""Login first, then a capped body: the annotation app's first line of defence.

FastAPI reads a request's body (to parse JSON or a form) before it resolves
the dependencies that check the login, and Starlette spools multipart uploads
over 1 MB to a temporary file. So without this layer an anonymous client could
make the server hold a 300 MB body in memory, or write 200 MB to disk, before
being told 401. ``BodyGuard`` is a plain ASGI middleware that runs before
anything reads the body:

- a request that may carry a body (POST, PUT, PATCH, DELETE) needs a valid
  session cookie, checked against the store, or it gets 401 and the connection
  is closed without the body being read;
- a body larger than its cap gets 413: at once when ``Content-Length`` says
  so, and, for a chunked or lying upload, as soon as the bytes counted while
  the app reads them pass the cap (the app is then answered for, and whatever
  it had read is dropped).

Caps: 1 MiB for JSON and anything else, 256 KiB for forms (the largest form,
settling a disagreement, is at most 10,000 characters of comment, about 120 KB
percent-encoded), well under the 1 MB at which Starlette would spool to disk.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_BODY_BYTES = 1024 * 1024
MAX_FORM_BYTES = 256 * 1024
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_FORMS = (b"application/x-www-form-urlencoded", b"multipart/form-data")


class _TooLarge(Exception):
    """Raised into the app's body read once the cap is passed (after the 413 went out)."""


def _header(scope: Scope, name: bytes) -> bytes | None:
    for k, v in scope.get("headers") or []:
        if k.lower() == name:
            return bytes(v)
    return None


def _cookie(scope: Scope, name: str) -> str | None:
    raw = _header(scope, b"cookie")
    if not raw:
        return None
    from http.cookies import CookieError, SimpleCookie

    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw.decode("latin-1"))
    except CookieError:
        return None
    morsel = jar.get(name)
    return morsel.value if morsel is not None else None


async def _answer(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"), (b"x-content-type-options", b"nosniff"),
        # the unread body must not be read on: close instead of draining it for keep-alive
        (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


class BodyGuard:
    """``authorised(cookie value)`` -> whether it is a live session (called in a
    worker thread: it reads the store)."""

    def __init__(self, app: ASGIApp, *, cookie: str, authorised: Callable[[str | None], bool],
                 max_body: int = MAX_BODY_BYTES, max_form: int = MAX_FORM_BYTES):
        self.app = app
        self.cookie = cookie
        self.authorised = authorised
        self.max_body = max_body
        self.max_form = max_form

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] in BODY_METHODS:
            from anyio import to_thread

            if not await to_thread.run_sync(self.authorised, _cookie(scope, self.cookie)):
                await _answer(send, 401, "not logged in: open the login link you were given")
                return
        kind = (_header(scope, b"content-type") or b"").split(b";")[0].strip().lower()
        cap = self.max_form if kind in _FORMS else self.max_body
        length = _header(scope, b"content-length")
        try:
            declared = int(length) if length is not None else None
        except ValueError:
            await _answer(send, 400, "bad Content-Length")
            return
        if declared is not None and declared > cap:
            await _answer(send, 413, f"request body too large (over {cap} bytes)")
            return
        await self._capped(scope, receive, send, cap)

    async def _capped(self, scope: Scope, receive: Receive, send: Send, cap: int) -> None:
        """Run the app, counting the body it reads; past ``cap``: 413, and the app's own answer is dropped."""
        seen = 0
        answered = False
        started = False

        async def counted() -> Message:
            nonlocal seen, answered
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > cap:
                    if not started and not answered:
                        answered = True
                        await _answer(send, 413, f"request body too large (over {cap} bytes)")
                    raise _TooLarge
            return message

        async def guarded(message: Message) -> None:
            nonlocal started
            if answered:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, guarded)
        except _TooLarge:
            pass


__all__ = ["BODY_METHODS", "MAX_BODY_BYTES", "MAX_FORM_BYTES", "BodyGuard"]
