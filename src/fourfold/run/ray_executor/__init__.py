"""``fourfold run --executor ray``: model replicas as Ray actors, one driver that writes.

Why this shape: the runner already knows how to make a run exactly-once (keys,
claims, one writer) and resumable; what a cluster adds is more places to
generate. So each backend is wrapped (``RayBackend``) and only its generation
goes out to actors; the run, the store and the report are a local run's. A
local backend (llama.cpp, transformers) gets one replica per actor with the
CPUs/GPUs it declares; an API backend gets async actors that the driver's
rate limit and concurrency gate feed (the limit is per model, shared by all).

ray is an optional extra (``fourfold[ray]``): nothing imports it until
``connect`` is called.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass
from typing import Any

from ...models import ModelBackend
from .pool import RayBackend, ReplicaPool, actor_class

INSTALL_HINT = "pip install 'fourfold[ray]'"
#: Async calls one API replica takes at once (the driver's --concurrency is the real bound).
API_SLOTS = 1000


class ExecutorUnavailable(Exception):
    """Ray cannot be used (not installed, cluster unreachable): one line, exit 1."""


@dataclass(frozen=True)
class RayOptions:
    #: ``auto``, ``HOST:PORT``, ``ray://HOST:PORT``; None: RAY_ADDRESS, else a new local Ray.
    address: str | None = None
    #: Replicas per model; None: as many as the cluster holds (API models: one per node).
    replicas: int | None = None
    cpus_per_replica: float = 1.0
    gpus_per_replica: float = 0.0
    #: Times Ray restarts a dead replica's actor (elsewhere if its node is gone).
    max_restarts: int = 3


#: Joins tried through Ray Client (``ray://``) before its server's failure is the error.
CLIENT_JOIN_TRIES = 2


def connect(opts: RayOptions) -> None:
    """Join the cluster (or start a local one); an unreachable one is a one-line error."""
    try:
        import ray
    except ImportError:
        raise ExecutorUnavailable(f"--executor ray needs the ray extra: {INSTALL_HINT}") from None
    if ray.is_initialized():
        return
    target = opts.address or os.environ.get("RAY_ADDRESS")
    if target not in (None, "", "auto", "local"):
        _check_reachable(target)
    # a new local Ray: no dashboard (a dozen processes and about 1 GB for nothing here)
    local = {"include_dashboard": False} if target in (None, "", "local") else {}
    # Ray Client's head starts a server process for each driver that joins; on a loaded head that start can
    # fail once ("Initialization failure from server"), and a second join gets a new one on another port
    tries = CLIENT_JOIN_TRIES if str(target).startswith("ray://") else 1
    for attempt in range(1, tries + 1):
        try:
            ray.init(address=opts.address, log_to_driver=False, logging_level="ERROR", configure_logging=False,
                     **local)
            return
        except Exception as e:  # ConnectionError, an auth mismatch, a version mismatch, Ray Client's server failing
            if attempt < tries and "Initialization failure from server" in str(e):
                ray.shutdown()
                time.sleep(2.0)
                continue
            raise ExecutorUnavailable(f"cannot join the Ray cluster at {target or 'a new local Ray'}: "
                                      f"{_one_line(e)}") from None


def _one_line(e: Exception) -> str:
    """The error's first line; Ray Client puts the cause under a heading ("Initialization
    failure from server:") followed by the server's traceback, whose last line says it."""
    lines = [ln.strip() for ln in str(e).strip().splitlines() if ln.strip()] or [type(e).__name__]
    line = lines[0]
    if line.endswith(":") and len(lines) > 1:
        line = f"{line} {lines[-1]}"
    return line[:300]


def _check_reachable(address: str) -> None:
    """Ray itself retries an unreachable address for minutes; a TCP connect says at once."""
    hostport = address.removeprefix("ray://").rstrip("/")
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        raise ExecutorUnavailable(f"--address {address!r}: expected auto, HOST:PORT or ray://HOST:PORT")
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
    except OSError as e:
        raise ExecutorUnavailable(f"cannot reach the Ray cluster at {address}: {e.strerror or e}; "
                                  "start it (ray start --head) or fix --address") from None


def _is_api(backend: ModelBackend) -> bool:
    from ...models.http import HttpBackend

    return isinstance(backend, HttpBackend)


def replica_count(backend: ModelBackend, opts: RayOptions) -> int:
    """As many as asked, else as many as the cluster's resources hold (at least one)."""
    if opts.replicas is not None:
        return opts.replicas
    import ray

    if _is_api(backend):
        return max(1, sum(1 for n in ray.nodes() if n.get("Alive")))
    total = ray.cluster_resources()
    if opts.gpus_per_replica > 0:
        return max(1, int(total.get("GPU", 0) // opts.gpus_per_replica))
    if opts.cpus_per_replica > 0:
        return max(1, int(total.get("CPU", 0) // opts.cpus_per_replica))
    return 1


def wrap(backend: ModelBackend, opts: RayOptions) -> RayBackend:
    """``backend`` answered by Ray actors (``connect`` first)."""
    n = replica_count(backend, opts)
    per_replica = backend.max_concurrency  # llama.cpp: 1; transformers batches, API: async
    options: dict[str, Any] = {
        "num_cpus": opts.cpus_per_replica, "num_gpus": opts.gpus_per_replica,
        "max_restarts": opts.max_restarts, "max_task_retries": 0,
        # ready() and a cancel must get through while the replica generates
        "max_concurrency": (per_replica or API_SLOTS) + 2,
    }
    cls = actor_class().options(**options)
    pool = ReplicaPool(backend.spec, [cls.remote(backend.spec) for _ in range(n)], coalesce=per_replica is None)
    return RayBackend(backend, pool, per_replica)


def shutdown() -> None:
    """Leave the cluster (a local Ray started by ``connect`` stops with it)."""
    import ray

    if ray.is_initialized():
        ray.shutdown()


__all__ = ["INSTALL_HINT", "ExecutorUnavailable", "RayBackend", "RayOptions", "connect", "replica_count", "shutdown",
           "wrap"]
