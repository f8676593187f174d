"""Shared fixtures: real servers on loopback, and the CLI run as a user runs it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_BENCH = Path(os.environ.get("FOURFOLD_SHARED", ROOT.parent / "shared")) / "bench"


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


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read())


class LatencyServer:
    def __init__(self, proc: subprocess.Popen, port: int):
        self.proc, self.port = proc, port
        self.base_url = f"http://127.0.0.1:{port}/v1"

    def stats(self) -> dict:
        return get_json(f"http://127.0.0.1:{self.port}/stats")


@pytest.fixture
def latency_server() -> Iterator[Callable[..., LatencyServer]]:
    """Factory for ../shared/bench/latency_server.py on a free port."""
    script = SHARED_BENCH / "latency_server.py"
    if not script.exists():
        pytest.fail(f"{script} is missing: the shared bench must sit beside the repository")
    procs: list[subprocess.Popen] = []

    def start(*args: str) -> LatencyServer:
        port = free_port()
        proc = subprocess.Popen([sys.executable, str(script), "--port", str(port), *args],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(proc)
        wait_http(f"http://127.0.0.1:{port}/health", proc=proc)
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


def fourfold_popen(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "fourfold.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})})


def run_python(source: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", source], capture_output=True, text=True, timeout=timeout)


def check_solution_and_stub(case: object) -> None:
    """A unit-test case is only worth its tests if its known-good solution passes
    them and a stub returning None does not."""
    ref = case.reference  # type: ignore[attr-defined]
    good = run_python(ref.solution + "\n\n" + ref.tests)
    assert good.returncode == 0, f"{case.id}: solution fails its tests:\n{good.stderr[-2000:]}"  # type: ignore[attr-defined]
    stub = f"def {ref.entry_point}(*a, **k):\n    return None\n"
    bad = run_python(stub + "\n\n" + ref.tests)
    assert bad.returncode != 0, f"{case.id}: a stub returning None passes the tests"  # type: ignore[attr-defined]


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
