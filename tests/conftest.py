"""Shared fixtures: real servers on loopback, and the CLI run as a user runs it."""

from __future__ import annotations

import asyncio
import bisect
import functools
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import pytest

if TYPE_CHECKING:
    from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
SHARED_BENCH = Path(os.environ.get("FOURFOLD_SHARED", ROOT.parent / "shared")) / "bench"

# ------------------------------------------------------------ required parts
# A test that needs bubblewrap, Chromium or a test tool FAILS when it is missing:
# a green run must mean every boundary was tested. A developer who only wants the
# library's tests may opt out with FOURFOLD_ALLOW_SKIP=1; the opt-out is ignored
# under CI (CI set to anything but "", "0" or "false"), so CI cannot go green
# with parts missing.
ALLOW_SKIP_ENV = "FOURFOLD_ALLOW_SKIP"
CHROMIUM = Path("/usr/bin/chromium")


def skips_allowed() -> bool:
    """True only when the developer opted out and this is not CI."""
    ci = os.environ.get("CI", "").strip().lower() not in ("", "0", "false")
    return os.environ.get(ALLOW_SKIP_ENV) == "1" and not ci


def missing_part(what: str, how: str) -> NoReturn:
    """The single exit for a test whose required part is missing: fail, or skip
    where the developer set FOURFOLD_ALLOW_SKIP=1 (never under CI)."""
    if skips_allowed():
        pytest.skip(f"{what} (skipped: {ALLOW_SKIP_ENV}=1)")
    pytest.fail(f"{what}. Install it: {how}. (Only on a developer machine, {ALLOW_SKIP_ENV}=1 turns this "
                "failure into a skip; CI never does.)", pytrace=False)


def require_bwrap() -> str:
    """The path of a bubblewrap that can actually build a sandbox here (installed
    is not enough: a container without user namespaces makes it fail)."""
    path = shutil.which("bwrap")
    if path is None:
        missing_part("bubblewrap (bwrap) is not installed", "apt-get install bubblewrap (or `make setup` as root)")
    probe = subprocess.run([path, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-all",
                            "--die-with-parent", "true"], capture_output=True, text=True, timeout=30)
    if probe.returncode != 0:
        missing_part(f"bubblewrap is installed but cannot build a sandbox here: {probe.stderr.strip()[-300:]}",
                     "allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1) or run as root")
    return path


def require_chromium() -> Path:
    """Debian's Chromium and the Playwright driver, for the browser tests."""
    if not CHROMIUM.exists():
        missing_part(f"{CHROMIUM} is not installed: the browser tests need a real Chromium",
                     "apt-get install chromium (or `make setup` as root)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing_part("playwright is not installed", "pip install -c constraints.txt -e '.[test]' "
                     "(no `playwright install`: Debian's Chromium is used)")
    return CHROMIUM



def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 60.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not come up in {timeout} s")


def wait_until(ready: Callable[[], bool], timeout: float = 60.0, proc: subprocess.Popen | None = None) -> None:
    """Poll ``ready`` (False or OSError: not yet) until it says True; RuntimeError if ``proc`` exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            if ready():
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"the server was not ready in {timeout} s")


def start_on_free_port(argv: Callable[[int], list[str]], health: str | Callable[[int], bool], attempts: int = 3,
                       timeout: float = 60.0, **popen: object) -> tuple[subprocess.Popen, int]:
    """A server process given a free loopback port, up once ``health`` (a path) answers 200,
    or once ``health(port)`` says True. The port is free when chosen but only bound by the
    server a moment later, when another socket may have taken it; a server that exits before
    it is up is started again on another port (one that can never start still fails, on the
    last attempt)."""
    for attempt in range(attempts):
        port = free_port()
        proc = subprocess.Popen(argv(port), **popen)  # type: ignore[call-overload]
        try:
            if callable(health):
                wait_until(functools.partial(health, port), timeout, proc=proc)
            else:
                wait_http(f"http://127.0.0.1:{port}{health}", timeout, proc=proc)
            return proc, port
        except RuntimeError:  # it exited (wait_http's TimeoutError is not retried)
            if attempt == attempts - 1:
                raise
        except BaseException:
            proc.kill()
            proc.wait()
            raise
    raise AssertionError("unreachable")


def llama_cpp_server(log_path: Path, *flags: str) -> Iterator[str]:
    """llama-cpp-python's own OpenAI server on the embedded model, on a free
    loopback port, with ``flags``; yields its base URL (a generator for fixtures)."""
    from fourfold.models import embedded_model_path

    with open(log_path, "wb") as log:  # a pipe nobody reads would fill up and stall the server
        proc, port = start_on_free_port(
            lambda port: [sys.executable, "-m", "llama_cpp.server", "--model", str(embedded_model_path()),
                          "--host", "127.0.0.1", "--port", str(port), *flags],
            "/v1/models", timeout=120, stdout=log, stderr=subprocess.STDOUT)
        try:
            yield f"http://127.0.0.1:{port}/v1"
        finally:
            proc.terminate()
            proc.wait(20)


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read())


class LatencyServer:
    def __init__(self, proc: subprocess.Popen, port: int):
        self.proc, self.port = proc, port
        self.base_url = f"http://127.0.0.1:{port}/v1"

    def stats(self) -> dict:
        return get_json(f"http://127.0.0.1:{self.port}/stats")

    def settled_total(self, quiet_s: float = 0.5, timeout_s: float = 60.0) -> int:
        """The request count once no more are coming (clients killed or paused): nothing in flight
        and the count unchanged for ``quiet_s``. A fixed sleep is not enough on a loaded machine: a
        request still in the server's socket backlog would be counted later, as if sent afterwards."""
        deadline = time.monotonic() + timeout_s
        last, since = -1, time.monotonic()
        while True:
            stats = self.stats()
            if stats["requests_total"] != last or stats["inflight"]:
                last, since = stats["requests_total"], time.monotonic()
            elif time.monotonic() - since >= quiet_s:
                return last
            assert time.monotonic() < deadline, f"the server never settled: {stats}"
            time.sleep(0.05)


@pytest.fixture
def latency_server() -> Iterator[Callable[..., LatencyServer]]:
    """Factory for ../shared/bench/latency_server.py on a free port."""
    script = SHARED_BENCH / "latency_server.py"
    if not script.exists():
        pytest.fail(f"{script} is missing: the shared bench must sit beside the repository")
    procs: list[subprocess.Popen] = []

    def start(*args: str) -> LatencyServer:
        proc, port = start_on_free_port(lambda port: [sys.executable, str(script), "--port", str(port), *args],
                                        "/health", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(proc)
        return LatencyServer(proc, port)

    yield start
    for p in procs:
        p.terminate()
        p.wait(10)


@pytest.fixture
def qa_file(tmp_path: Path) -> Callable[[int], Path]:
    """The bench's generic {id,input,target} data set, made by its own script."""
    def make(n: int) -> Path:
        out = tmp_path / f"qa-{n}.jsonl"
        subprocess.run([sys.executable, str(SHARED_BENCH / "make_dataset.py"), "--n", str(n), "--out", str(out)],
                       check=True, capture_output=True)
        return out
    return make


def fourfold(*args: str, env: dict[str, str] | None = None, timeout: float = 600, check: bool = True,
             cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run the CLI in a fresh process, the way a user does."""
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.run([sys.executable, "-m", "fourfold.cli", *args], capture_output=True, text=True,
                          timeout=timeout, env=full_env, cwd=cwd)
    if check and proc.returncode != 0:
        raise AssertionError(f"fourfold {' '.join(args)} exited {proc.returncode}\n{proc.stderr[-3000:]}")
    return proc


def red_rectangle_case(directory: Path, height: int, width: int, question: str):  # noqa: ANN201 - an ndarray
    """A one-case image set in `directory`: red.png (a black height x width
    picture with a red rectangle over its middle half) and cases.jsonl asking
    `question` about it, answer "red". Returns (cases path, the picture's pixels)."""
    import numpy as np
    from PIL import Image

    img = np.zeros((height, width, 3), np.uint8)
    img[height // 4:3 * height // 4, width // 4:3 * width // 4] = (200, 30, 30)
    Image.fromarray(img).save(directory / "red.png")
    cases = directory / "cases.jsonl"
    cases.write_text(json.dumps({
        "id": "img/red", "cell": "image/generalizability", "category": "recognition",
        "input": [{"role": "user", "content": [{"type": "image", "path": "red.png"},
                                               {"type": "text", "text": question}]}],
        "reference": {"kind": "exact", "answer": "red"}}) + "\n")
    return cases, img


def fourfold_popen(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "fourfold.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})})


def run_python(source: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", source], capture_output=True, text=True, timeout=timeout)


def check_solution_and_stub(case: object) -> None:
    """A unit-test case is only worth its tests if its known-good solution passes
    them and a stub returning None does not, both judged by the sandbox the judge
    uses (so a case whose tests cannot run isolated shows up here)."""
    import asyncio

    from fourfold.judge.sandbox import run_python_tests

    require_bwrap()
    ref = case.reference  # type: ignore[attr-defined]
    cid = case.id  # type: ignore[attr-defined]

    def judged(code: str):  # noqa: ANN202 - a SandboxResult
        return asyncio.run(run_python_tests(code, ref.tests, entry_point=ref.entry_point,
                                            timeout_s=max(ref.timeout_s, 30.0), memory_mb=ref.memory_mb))

    good = judged(ref.solution)
    assert good.passed, f"{cid}: solution fails its tests: {good.status}: {good.detail}\n{good.stderr[-2000:]}"
    stub = f"def {ref.entry_point}(*a, **k):\n    return None\n"
    bad = judged(stub)
    assert bad.status == "failed", f"{cid}: a stub returning None is not failed: {bad.status}: {bad.detail}"


async def start_chat_server(handler: object) -> tuple[object, str]:
    """An aiohttp chat-completions endpoint on a free loopback port, for the
    canned-response protocol fixtures: returns (runner to clean up, base URL)."""
    from aiohttp import web

    app = web.Application()
    app.router.add_post("/v1/chat/completions", handler)  # type: ignore[arg-type]
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}/v1"


@pytest.fixture
def canned_judge() -> Iterator[int]:
    """The canned-response judge server (tests/fixtures/canned_judge_server.py) on a free port."""
    script = Path(__file__).parent / "fixtures" / "canned_judge_server.py"
    proc, port = start_on_free_port(lambda port: [sys.executable, str(script), "--port", str(port)], "/stats",
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


class CannedOverloadServer:
    """Canned chat completions ("ANSWER: 0", ``usage`` tokens) after ``delay_s``;
    a 429 (with ``Retry-After`` if given) when ``max_inflight`` are already in flight."""

    def __init__(self, max_inflight: int | None = None, delay_s: float = 0.02, usage: tuple[int, int] = (40, 10),
                 retry_after: str | None = None):
        self.max_inflight, self.delay_s, self.usage, self.retry_after = max_inflight, delay_s, usage, retry_after
        self.inflight = self.max_seen = self.rejected = self.answered = 0
        self.arrivals: list[float] = []  # monotonic time of each request answered

    async def handler(self, request: web.Request) -> web.Response:
        from aiohttp import web

        body = await request.json()
        if self.max_inflight is not None and self.inflight >= self.max_inflight:
            self.rejected += 1
            headers = {"Retry-After": self.retry_after} if self.retry_after else {}
            return web.json_response({"error": {"message": "overloaded", "type": "rate_limit_error"}}, status=429,
                                     headers=headers)
        self.arrivals.append(time.monotonic())
        self.inflight += 1
        self.max_seen = max(self.max_seen, self.inflight)
        try:
            await asyncio.sleep(self.delay_s)
        finally:
            self.inflight -= 1
        self.answered += 1
        p, c = self.usage
        return web.json_response({
            "id": "canned", "object": "chat.completion", "model": body.get("model", "canned"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "ANSWER: 0"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}})

    def most_in_window(self, window_s: float) -> int:
        """The most requests that arrived within any ``window_s`` seconds."""
        t = sorted(self.arrivals)
        return max((bisect.bisect_left(t, start + window_s) - i for i, start in enumerate(t)), default=0)


@pytest.fixture
def canned_overload_server() -> Iterator[type]:
    """Starts ``CannedOverloadServer``s in a thread with their own loop (so the CLI
    can run as a separate process meanwhile); yields a factory returning (server, URL)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    runners = []

    def start(**kw: object) -> tuple[CannedOverloadServer, str]:
        server = CannedOverloadServer(**kw)  # type: ignore[arg-type]
        runner, url = asyncio.run_coroutine_threadsafe(start_chat_server(server.handler), loop).result(30)
        runners.append(runner)
        return server, url

    yield start  # type: ignore[misc]
    for r in runners:
        asyncio.run_coroutine_threadsafe(r.cleanup(), loop).result(30)  # type: ignore[attr-defined]
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
