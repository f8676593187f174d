"""``fourfold run --executor ray``: the flags, and the backends wrapped as Ray actors.

Kept apart from ``cli/run.py`` so a plain install never imports ray: the flags
cost nothing, and ``fourfold.run.ray_executor`` imports ray only in ``connect``.
"""

from __future__ import annotations

import argparse
from typing import Any

from .common import ModelUnusable, UsageError


def add_ray_arguments(r: argparse.ArgumentParser) -> None:
    g = r.add_argument_group("executor (where models answer; the store, keys and report are the same)")
    g.add_argument("--executor", choices=("local", "ray"), default="local",
                   help="local: in this process (default); ray: model replicas as Ray actors (fourfold[ray])")
    g.add_argument("--address", metavar="auto|HOST:PORT|ray://HOST:PORT",
                   help="Ray cluster to join (default: RAY_ADDRESS, else a new Ray on this machine)")
    g.add_argument("--ray-replicas", type=int, metavar="N",
                   help="replicas (actors) per model (default: as many as the cluster's CPUs/GPUs hold; "
                        "API models: one per node)")
    g.add_argument("--ray-cpus-per-replica", type=float, default=1.0, metavar="C",
                   help="CPUs each replica declares (default 1; llama.cpp uses that many threads)")
    g.add_argument("--ray-gpus-per-replica", type=float, default=0.0, metavar="G",
                   help="GPUs each replica declares (default 0; e.g. 1 for an hf/ model per GPU)")


def ray_backends(args: argparse.Namespace, backends: list[Any]) -> list[Any]:
    """The backends answered by Ray actors; a missing extra or an unreachable
    cluster is one line and exit 1, before the store is opened."""
    if args.executor != "ray":
        for flag in ("address", "ray_replicas"):
            if getattr(args, flag) is not None:
                raise UsageError(f"--{flag.replace('_', '-')} is for --executor ray")
        return backends
    if args.ray_replicas is not None and args.ray_replicas < 1:
        raise UsageError("--ray-replicas must be at least 1")
    if args.ray_cpus_per_replica < 0 or args.ray_gpus_per_replica < 0:
        raise UsageError("--ray-cpus-per-replica and --ray-gpus-per-replica must be 0 or more")
    from ..run.ray_executor import ExecutorUnavailable, RayOptions, connect, wrap

    opts = RayOptions(address=args.address, replicas=args.ray_replicas, cpus_per_replica=args.ray_cpus_per_replica,
                      gpus_per_replica=args.ray_gpus_per_replica)
    try:
        connect(opts)
    except ExecutorUnavailable as e:
        raise ModelUnusable(str(e)) from None
    return [wrap(b, opts) for b in backends]
