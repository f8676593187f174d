"""What the latency-server benches share: the shared bench's scripts, a free port,
the server's JSON endpoints, the console script, and the server itself.

One copy here rather than one per bench, so a fix (to how the server is waited
for, or found) reaches every bench that starts it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("FOURFOLD_SHARED", ROOT.parent / "shared")) / "bench"


def free_port() -> int:
    """A loopback port free now (the server binds it a moment later)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url: str, method: str = "GET") -> dict:
    req = urllib.request.Request(url, method=method)
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def fourfold_script() -> str:
    """The console script beside this interpreter: a version manager's shim on PATH
    (pyenv's is a bash script) would add its own ~0.15 s to every start-up."""
    script = Path(sys.executable).parent / "fourfold"
    return str(script) if script.exists() else "fourfold"


def make_dataset(n: int, out: Path) -> Path:
    """The shared bench's generic {id,input,target} data set of ``n`` cases, by its own script."""
    subprocess.run([sys.executable, str(SHARED / "make_dataset.py"), "--n", str(n), "--out", str(out)], check=True,
                   capture_output=True)
    return out


@contextmanager
def latency_server(delay_ms: float, timeout_s: float = 60.0) -> Iterator[str]:
    """The shared fixed-latency server on a free loopback port, answering after
    ``delay_ms``; yields its base URL (``http://127.0.0.1:PORT``, no ``/v1``) once
    /health answers, and stops it on the way out."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([sys.executable, str(SHARED / "latency_server.py"), "--port", str(port),
                               "--delay-ms", str(delay_ms)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if server.poll() is not None:
                raise SystemExit(f"the latency server exited with {server.returncode}")
            try:
                get_json(f"{base}/health")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit(f"the latency server did not answer in {timeout_s:g} s") from None
                time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(10)


def precompile() -> None:
    """Bytecode for the fourfold the benches run (the one on ``sys.path``, PYTHONPATH included),
    as a wheel install has it: with PYTHONDONTWRITEBYTECODE set, each start would otherwise
    compile every module from source and the bench would time the compiler."""
    import importlib.util

    spec = importlib.util.find_spec("fourfold")
    if spec is not None and spec.submodule_search_locations:
        for where in spec.submodule_search_locations:
            subprocess.run([sys.executable, "-m", "compileall", "-q", where], check=True, capture_output=True)

