"""Canned-response HTTP servers on loopback for the Anthropic and Gemini protocol
tests: real aiohttp servers in a thread of the test process (so the CLI in its own
process, the official SDK clients and fourfold's backends all reach the same one),
answering from scripts of fixed replies. No model behind them, as the names say."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

#: A canned reply: (status, JSON body or raw bytes, headers).
Canned = tuple[int, Any, dict[str, str]]


def ok(body: Any, **headers: str) -> Canned:
    return 200, body, headers


def error(status: int, message: str, kind: str = "", **headers: str) -> Canned:
    return status, {"type": "error", "error": {"type": kind, "status": kind, "code": status, "message": message}}, headers


@dataclass
class Seen:
    """One request the server received."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.monotonic)

    def json(self) -> Any:
        return json.loads(self.body)


def respond(c: Canned) -> web.Response:
    status, body, headers = c
    if isinstance(body, bytes | str):
        return web.Response(status=status, body=body, headers=headers)
    return web.json_response(body, status=status, headers=headers)


class CannedServer:
    """Every request is recorded in ``seen`` and answered by ``answer`` (which
    subclasses override per route); ``script`` is the generation route's replies in
    order, the last one repeated."""

    def __init__(self, script: list[Canned] | None = None):
        self.script = list(script or [])
        self.seen: list[Seen] = []
        self.base_url = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def next_reply(self) -> Canned:
        return self.script.pop(0) if len(self.script) > 1 else self.script[0]

    def answer(self, seen: Seen) -> Canned:
        return self.next_reply()

    async def _handle(self, request: web.Request) -> web.Response:
        seen = Seen(request.method, request.path, dict(request.query), dict(request.headers), await request.read())
        self.seen.append(seen)
        return respond(self.answer(seen))

    def __enter__(self) -> CannedServer:
        started = threading.Event()
        holder: dict[str, Any] = {}

        async def start() -> None:
            app = web.Application(client_max_size=1 << 30)
            app.router.add_route("*", "/{tail:.*}", self._handle)
            runner = web.AppRunner(app)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            holder["runner"] = runner
            holder["port"] = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

        def main() -> None:
            loop = self._loop = asyncio.new_event_loop()
            loop.run_until_complete(start())
            started.set()
            loop.run_forever()
            loop.run_until_complete(holder["runner"].cleanup())
            loop.close()

        self._thread = threading.Thread(target=main, daemon=True)
        self._thread.start()
        started.wait(10)
        self.base_url = f"http://127.0.0.1:{holder['port']}"
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._loop is not None and self._thread is not None
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def requests_to(self, pred: Callable[[Seen], bool]) -> list[Seen]:
        return [s for s in self.seen if pred(s)]


def text_cases(directory: Path, n: int = 3) -> Path:
    """``n`` numeric text cases (``i+1?``, answer ``i + 1``) in ``directory/text.jsonl``."""
    f = directory / "text.jsonl"
    f.write_text("".join(json.dumps({"id": f"t{i}", "cell": "text/generalizability", "category": "math",
                                     "input": f"{i}+1? Answer: <n>", "reference": {"kind": "numeric", "answer": i + 1}})
                         + "\n" for i in range(n)))
    return f


def run_cases(store_path: Path, cases: Path, backend: Any, concurrency: int = 1) -> tuple[Any, Any]:
    """The runner over ``cases`` with one backend, fast backoff: (store, summary)."""
    from fourfold.cases import load_file
    from fourfold.run import RunConfig, Runner
    from fourfold.store import Store

    async def go() -> tuple[Any, Any]:
        store = Store(store_path)
        summary = await Runner(store, RunConfig(progress=False, concurrency=concurrency, backoff_base_s=0.01)).run(
            load_file(cases), [backend])
        return store, summary
    return asyncio.run(go())


def assert_key_nowhere(key: str, out: Path, *texts: str) -> None:
    """Not in any file of the run's folder (store, its journal, the report), nor in what it printed."""
    for f in out.rglob("*"):
        if f.is_file():
            assert key.encode() not in f.read_bytes(), f
    for t in texts:
        assert key not in t
