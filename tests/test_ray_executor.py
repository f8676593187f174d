"""``fourfold run --executor ray`` on a real two-node Ray cluster on this machine.

One cluster for the module (``ray.cluster_utils.Cluster``: a head with 2 CPUs and
a second node with 2 CPUs and a ``node_b`` resource; no dashboard, a small object
store, a short temp folder since Unix socket paths are limited to 107 bytes).
The CLI runs in its own process as a user runs it, joining the cluster by
address: real actors, the real latency server, the embedded model, a real store.
Under CI a missing ray fails; elsewhere it fails too unless FOURFOLD_ALLOW_SKIP=1.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conftest import fourfold, fourfold_popen, free_port, missing_part

os.environ.setdefault("HF_HUB_OFFLINE", "1")
#: Ray 2.60 turns token auth on once ~/.ray/auth_token exists; the cluster, its nodes and every driver agree on off.
RAY_ENV = {"RAY_AUTH_MODE": "disabled"}


@dataclass
class RayCluster:
    cluster: Any
    address: str
    env: dict[str, str]
    node_b: Any
    #: ``ray://127.0.0.1:PORT``: the head's Ray Client server.
    client_address: str = ""

    def add_node_b(self) -> None:
        self.node_b = self.cluster.add_node(num_cpus=2, resources={"node_b": 1}, object_store_memory=80 * 2**20)
        self.cluster.wait_for_nodes()


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[RayCluster]:
    try:
        from ray.cluster_utils import Cluster
    except ImportError:
        missing_part("ray is not installed (the fourfold[ray] extra)", "pip install 'fourfold[ray]' (or `make setup`)")
    tmp = tempfile.mkdtemp(prefix="ffray", dir="/tmp")  # short: Unix socket paths under it
    env = {**RAY_ENV, "RAY_TMPDIR": tmp}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    from ray._private.utils import get_ray_client_dependency_error

    # the head's Ray Client server, where its part of the extra (grpcio) is there; its test fails without it
    client_port = free_port() if get_ray_client_dependency_error() is None else None
    cluster = Cluster(initialize_head=True, head_node_args={
        "num_cpus": 2, "include_dashboard": False, "object_store_memory": 80 * 2**20,
        "ray_client_server_port": client_port})
    rc = RayCluster(cluster, cluster.address, env, None, f"ray://127.0.0.1:{client_port}" if client_port else "")
    try:
        rc.add_node_b()
        if client_port:
            _wait_for_port(client_port)
        yield rc
    finally:
        cluster.shutdown()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        shutil.rmtree(tmp, ignore_errors=True)


def _wait_for_port(port: int, timeout: float = 60) -> None:
    """The Ray Client server starts after the head; wait until it takes connections."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
            return
        except OSError:
            assert time.monotonic() < deadline, f"the Ray Client server is not listening on {port} after {timeout} s"
            time.sleep(0.2)


def _rows(db: Path) -> list[tuple[str, str, str, str]]:
    """(key, case_id, status, response) of every stored result."""
    if not db.exists():
        return []
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT key, case_id, status, COALESCE(response, '') FROM results ORDER BY key").fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        con.close()


def _api_args(server: Any, data: Path, db: Path, tmp: Path, *extra: str) -> list[str]:
    return ["run", "--model", f"openai/latency-model@{server.base_url}", "--cases", str(data),
            "--cell", "text/generalizability", "--store", str(db), "--out", str(tmp / "out"), "--no-progress",
            "--no-report", *extra]


def _ray(rc: RayCluster, *extra: str, address: str | None = None) -> list[str]:
    return ["--executor", "ray", "--address", address or rc.address, *extra]


def _wait_for(db: Path, n: int, proc: Any, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while len(_rows(db)) < n:
        assert proc.poll() is None, f"the run ended before {n} results: {proc.communicate()[1][-2000:]}"
        assert time.monotonic() < deadline, f"fewer than {n} results after {timeout} s"
        time.sleep(0.05)


def _exactly_once(rows: list[tuple[str, str, str, str]], n: int) -> None:
    assert len(rows) == n
    assert len({r[0] for r in rows}) == n and len({r[1] for r in rows}) == n, "a case stored twice"
    assert all(r[2] == "ok" for r in rows), [r for r in rows if r[2] != "ok"][:3]


# ------------------------------------------------------------------ API models as async actors


def test_api_model_through_actors_matches_local(ray_cluster, latency_server, qa_file, tmp_path):
    n = 200
    server = latency_server("--delay-ms", "20")
    data = qa_file(n)
    r = fourfold(*_api_args(server, data, tmp_path / "ray.db", tmp_path, *_ray(ray_cluster, "--ray-replicas", "2",
                                                                               "--ray-cpus-per-replica", "0.5")))
    assert "Traceback" not in r.stderr
    fourfold(*_api_args(server, data, tmp_path / "local.db", tmp_path))
    on_ray, local = _rows(tmp_path / "ray.db"), _rows(tmp_path / "local.db")
    _exactly_once(on_ray, n)
    assert on_ray == local, "same keys and answers as the local executor"
    con = sqlite3.connect(tmp_path / "ray.db")
    assert con.execute("SELECT COUNT(*) FROM results WHERE verdict='good'").fetchone()[0] == n, "prompts intact"
    assert server.stats()["requests_total"] == 2 * n


def test_api_model_through_ray_client_matches_local(ray_cluster, latency_server, qa_file, tmp_path):
    """``--address ray://HOST:PORT``: the driver joins through the head's Ray Client
    server (a real one, ``ray_client_server_port``) instead of as a cluster node."""
    if not ray_cluster.client_address:
        missing_part("ray's client part is not installed (grpcio)", "pip install 'fourfold[ray]'")
    n = 200
    server = latency_server("--delay-ms", "20")
    data = qa_file(n)
    r = fourfold(*_api_args(server, data, tmp_path / "ray.db", tmp_path,
                            *_ray(ray_cluster, "--ray-replicas", "2", "--ray-cpus-per-replica", "0.5",
                                  address=ray_cluster.client_address)), check=False)
    assert r.returncode == 0, f"{r.stderr[-2000:]}\n{_client_server_logs(ray_cluster)}"
    assert "Traceback" not in r.stderr
    fourfold(*_api_args(server, data, tmp_path / "local.db", tmp_path))
    on_ray, local = _rows(tmp_path / "ray.db"), _rows(tmp_path / "local.db")
    _exactly_once(on_ray, n)
    assert on_ray == local, "same keys and answers as the local executor"
    assert server.stats()["requests_total"] == 2 * n


def _client_server_logs(rc: RayCluster) -> str:
    """The end of the Ray Client server's logs (the proxy's and each client's own server's): why a join failed."""
    logs = Path(rc.env["RAY_TMPDIR"]) / "ray" / "session_latest" / "logs"
    return "\n".join(f"--- {f.name}\n{f.read_text(errors='replace')[-1500:]}"
                     for f in sorted(logs.glob("ray_client_server*.err")))


def test_actor_killed_mid_run_loses_only_its_calls(ray_cluster, latency_server, qa_file, tmp_path):
    n, concurrency = 800, 16
    server = latency_server("--delay-ms", "50")
    db = tmp_path / "r.db"
    earlier = set(_replica_pids(allow_none=True))  # an earlier run's replicas may still be on their way out
    proc = fourfold_popen(*_api_args(server, qa_file(n), db, tmp_path, "--concurrency", str(concurrency),
                                     *_ray(ray_cluster, "--ray-replicas", "2", "--ray-cpus-per-replica", "0.5")))
    _wait_for(db, 150, proc)
    ours = [p for p in _replica_pids() if p not in earlier]
    assert len(ours) == 2, f"this run's two replicas, not {ours} (earlier: {sorted(earlier)})"
    victim = ours[0]
    os.kill(victim, signal.SIGKILL)
    assert len(_rows(db)) < n, "the kill must land mid-run"
    out, errs = proc.communicate(timeout=300)
    assert proc.returncode == 0, errs[-2000:]
    _exactly_once(_rows(db), n)
    # what was in flight on the dead replica (it had calls: the server saw them) was sent again, nothing more
    assert n < server.stats()["requests_total"] <= n + concurrency


def test_node_removed_mid_run_reruns_its_calls_elsewhere(ray_cluster, latency_server, qa_file, tmp_path):
    """2 CPUs per replica: one replica on each node. Node b dies (SIGKILL of its raylet
    and workers); its in-flight calls go to the head's replica, the run completes."""
    n, concurrency = 800, 16
    server = latency_server("--delay-ms", "50")
    db = tmp_path / "r.db"
    proc = fourfold_popen(*_api_args(server, qa_file(n), db, tmp_path, "--concurrency", str(concurrency),
                                     *_ray(ray_cluster, "--ray-replicas", "2", "--ray-cpus-per-replica", "2")))
    _wait_for(db, 150, proc)
    ray_cluster.cluster.remove_node(ray_cluster.node_b)
    assert len(_rows(db)) < n, "the node must die mid-run"
    try:
        out, errs = proc.communicate(timeout=300)
    finally:
        ray_cluster.add_node_b()
    assert proc.returncode == 0, errs[-2000:]
    _exactly_once(_rows(db), n)
    assert n < server.stats()["requests_total"] <= n + concurrency, "node b's calls in flight were sent again"


def test_driver_kill9_resumes_across_executors(ray_cluster, latency_server, qa_file, tmp_path):
    n, concurrency = 600, 16
    server = latency_server("--delay-ms", "100")
    data, db = qa_file(n), tmp_path / "r.db"
    ray_args = _api_args(server, data, db, tmp_path, "--concurrency", str(concurrency),
                         *_ray(ray_cluster, "--ray-replicas", "2", "--ray-cpus-per-replica", "0.5"))
    earlier = set(_replica_pids(allow_none=True))
    proc = fourfold_popen(*ray_args)
    _wait_for(db, 150, proc)
    ours = [p for p in _replica_pids() if p not in earlier]
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    # Ray ends the dead driver's actors in the background: wait for exactly those, then for the server to see
    # the last of what they sent (a fixed sleep was not enough on a loaded machine)
    deadline = time.monotonic() + 120
    while any(_replica_alive(p) for p in ours):
        assert time.monotonic() < deadline, f"the dead driver's replicas {ours} are still running"
        time.sleep(0.1)
    sent_first = server.settled_total()
    stored = len(_rows(db))
    assert 150 <= stored < n, "the kill must land mid-run"
    assert sent_first - stored <= 3 * concurrency, "a kill -9 loses what was in flight, not more"

    fourfold(*ray_args)
    sent_second = server.stats()["requests_total"]
    assert sent_second - sent_first == n - stored, "finished cases are not sent again"
    _exactly_once(_rows(db), n)
    fourfold(*_api_args(server, data, db, tmp_path, "--concurrency", str(concurrency)))
    assert server.stats()["requests_total"] == sent_second, "the local executor finds every Ray result stored"


def _replica_alive(pid: int) -> bool:
    """Whether ``pid`` is still a running Replica actor (not gone, not a zombie, not reused)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return "State:\tZ" not in status and cmd.startswith(b"ray::Replica")


def _replica_pids(allow_none: bool = False) -> list[int]:
    """The processes of Replica actors on this machine (their title is ``ray::Replica...``)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if cmd.startswith(b"ray::Replica"):
            pids.append(int(entry.name))
    assert pids or allow_none, "no replica actor process found"
    return sorted(pids)


# ------------------------------------------------------------------ the embedded model as actors


@pytest.mark.slow
def test_embedded_model_as_actors_same_answers_as_local(ray_cluster, tmp_path):
    """Two llama.cpp replicas (one CPU each, so one llama.cpp thread each) answer what
    one in-process model answers, token for token; the keys match, so a local run on
    the Ray store sends nothing."""
    common = ["run", "--cells", "text", "--limit", "1", "--max-tokens", "16", "--no-report", "--no-progress",
              "--out", str(tmp_path / "out")]
    fourfold(*common, "--store", str(tmp_path / "ray.db"),
             *_ray(ray_cluster, "--ray-replicas", "2", "--ray-cpus-per-replica", "1"))
    fourfold(*common, "--store", str(tmp_path / "local.db"))
    on_ray, local = _rows(tmp_path / "ray.db"), _rows(tmp_path / "local.db")
    assert len(on_ray) >= 3
    assert on_ray == local
    again = fourfold(*common, "--store", str(tmp_path / "ray.db"))
    assert "already in the store, not sent again" in again.stderr
    assert _rows(tmp_path / "ray.db") == on_ray


# ------------------------------------------------------------------ errors at start, and no ray without it


def test_unreachable_cluster_is_one_line_exit_1(tmp_path):
    r = fourfold("run", "--cells", "text", "--limit", "1", "--store", str(tmp_path / "r.db"), "--no-report",
                 "--executor", "ray", "--address", f"127.0.0.1:{free_port()}", check=False, timeout=120)
    assert r.returncode == 1, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "cannot reach the Ray cluster" in lines[0], r.stderr
    assert not (tmp_path / "r.db").exists(), "nothing is stored before the cluster is there"


def test_ray_client_server_failure_is_named_in_the_one_line():
    """Ray Client's join error is a heading over the server's traceback (the one line
    said only "Initialization failure from server:"): keep the traceback's last line too."""
    from fourfold.run.ray_executor import _one_line

    e = ConnectionAbortedError("Initialization failure from server:\nTraceback (most recent call last):\n"
                               '  File "proxier.py", line 767, in Datapath\n'
                               "RuntimeError: Starting Ray client server failed. See ray_client_server_23000.err\n")
    assert _one_line(e) == ("Initialization failure from server: RuntimeError: Starting Ray client server failed. "
                            "See ray_client_server_23000.err")
    assert _one_line(ConnectionError("Could not find any running Ray instance.\nPlease start one")) == (
        "Could not find any running Ray instance.")


def _cli_in_process(args: list[str], hide_ray: bool) -> Any:
    """The CLI in a fresh interpreter that reports whether ray got imported (and can hide it)."""
    import subprocess

    src = ("import sys\n" + ("sys.modules['ray'] = None\n" if hide_ray else "") +
           "from fourfold.cli import main\n"
           f"rc = main({args!r})\n"
           "print('RAY_IMPORTED' if sys.modules.get('ray') is not None else 'NO_RAY', file=sys.stderr)\n"
           "sys.exit(rc)\n")
    return subprocess.run([sys.executable, "-c", src], capture_output=True, text=True, timeout=300)


def test_missing_extra_one_line_and_plain_runs_never_import_ray(latency_server, qa_file, tmp_path):
    server = latency_server("--delay-ms", "1")
    args = _api_args(server, qa_file(20), tmp_path / "r.db", tmp_path)
    r = _cli_in_process(args + ["--executor", "ray"], hide_ray=True)
    assert r.returncode == 1, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip() and ln != "NO_RAY"]
    assert len(lines) == 1 and "pip install 'fourfold[ray]'" in lines[0], r.stderr
    plain = _cli_in_process(args, hide_ray=False)
    assert plain.returncode == 0, plain.stderr
    assert "NO_RAY" in plain.stderr, "a local run must not import ray"
    assert len(_rows(tmp_path / "r.db")) == 20


def test_replica_with_other_identity_is_refused(ray_cluster, latency_server, qa_file, tmp_path):
    """The driver's OPENAI_BASE_URL is not the workers' (no URL in the spec): their model
    is another model, and answers keyed with the driver's identity would be mislabelled."""
    assert "OPENAI_BASE_URL" not in os.environ
    server = latency_server("--delay-ms", "1")
    args = ["run", "--model", "openai/latency-model", "--cases", str(qa_file(20)), "--cell", "text/generalizability",
            "--store", str(tmp_path / "r.db"), "--no-report", "--no-progress",
            *_ray(ray_cluster, "--ray-replicas", "1", "--ray-cpus-per-replica", "0.5")]
    r = fourfold(*args, env={"OPENAI_BASE_URL": server.base_url}, check=False)
    assert r.returncode == 1, r.stderr
    assert "is not the driver's" in r.stderr and "give every node the same weights and settings" in r.stderr
    assert _rows(tmp_path / "r.db") == [], "nothing answered by the wrong model is stored"
    assert server.stats()["requests_total"] == 0


@pytest.mark.parametrize("via", ["gcs", "client"])
def test_media_put_once_and_read_by_the_replica(ray_cluster, latency_server, tmp_path, via):
    """An image goes into the object store once (by path) however many calls use it;
    the object holds the file's bytes, and the replica answers from it. The same
    through Ray Client (``ray://``), where the reference is the client's proxy of it."""
    if via == "client" and not ray_cluster.client_address:
        missing_part("ray's client part is not installed (grpcio)", "pip install 'fourfold[ray]'")
    import asyncio

    import ray

    from conftest import red_rectangle_case
    from fourfold.models import ChatMessage, ChatPart, GenerationSettings, create_backend
    from fourfold.run.ray_executor import RayOptions, connect, wrap

    server = latency_server("--delay-ms", "1")
    red_rectangle_case(tmp_path, 40, 60, "What colour?")
    picture = tmp_path / "red.png"
    address = ray_cluster.client_address if via == "client" else ray_cluster.address
    opts = RayOptions(address=address, replicas=1, cpus_per_replica=0.5)
    connect(opts)
    try:
        backend = wrap(create_backend(f"openai/latency-model@{server.base_url}#image"), opts)
        msgs = [ChatMessage("user", (ChatPart("image", path=picture), ChatPart("text", text="What colour?")))]

        async def twice() -> list:
            try:
                return [await backend.answer(f"c{i}", msgs, GenerationSettings()) for i in range(2)]
            finally:
                await backend.aclose()

        gens = asyncio.run(twice())
        assert all(g.text.startswith("ANSWER") for g in gens)
        assert list(backend.pool._media) == [picture], "one object for the picture, not one per call"
        assert ray.get(backend.pool._media[picture]) == picture.read_bytes()
        assert server.stats()["requests_total"] == 2
    finally:
        ray.shutdown()


def test_a_ray_client_server_that_fails_to_start_once_is_joined_again(monkeypatch):
    """The head starts a Ray Client server per driver, and on a loaded head that start can fail
    ("Starting Ray client server failed", seen in this suite): a ray:// join is tried again once,
    and a second failure is the one-line error. Only ``ray.init`` is stood in for; the address is
    a real listening socket, so the reachability check runs for real."""
    import socket

    import ray

    from fourfold.run import ray_executor
    from fourfold.run.ray_executor import ExecutorUnavailable, RayOptions, connect

    failure = ConnectionAbortedError("Initialization failure from server:\nTraceback (most recent call last):\n"
                                     "RuntimeError: Starting Ray client server failed. See ray_client_server_23000.err")
    calls: list[str] = []

    def init_failing(times: int):
        def init(address=None, **_kw):
            calls.append(address)
            if len(calls) <= times:
                raise failure

        return init

    monkeypatch.setattr(ray_executor.time, "sleep", lambda s: None)
    with socket.create_server(("127.0.0.1", 0)) as head:
        address = f"ray://127.0.0.1:{head.getsockname()[1]}"
        monkeypatch.setattr(ray, "init", init_failing(1))
        connect(RayOptions(address=address))
        assert calls == [address, address]
        calls.clear()
        monkeypatch.setattr(ray, "init", init_failing(2))
        with pytest.raises(ExecutorUnavailable, match="Starting Ray client server failed"):
            connect(RayOptions(address=address))
        assert len(calls) == ray_executor.CLIENT_JOIN_TRIES == 2
        calls.clear()
        monkeypatch.setattr(ray, "init", init_failing(1))
        with pytest.raises(ExecutorUnavailable, match="Starting Ray client server failed"):
            connect(RayOptions(address=address.removeprefix("ray://")))  # a node join is not retried
        assert len(calls) == 1
