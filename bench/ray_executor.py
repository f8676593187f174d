#!/usr/bin/env python3
"""Ray executor bench (issue 12), by hand: what ``--executor ray`` costs and gives on one machine.

Starts a local two-node Ray cluster (``ray.cluster_utils``: a head and a second node,
2 logical CPUs each, no dashboard) and the shared fixed-latency server, then, in
each repeat and interleaved so every variant sees the same machine:

* N generic cases through ``openai/latency-model``: the local executor, then Ray
  with 1, 2 and 4 API replicas (0.5 CPU each, so 4 fit) at the same --concurrency;
* a few text cases through the embedded model: in process (2 threads), Ray with 1
  replica of 2 CPUs, 1 replica of 1 CPU (one llama.cpp thread: the control for the
  next), and 2 replicas of 1 CPU each.

Each variant gets a fresh store. Reported: the process's wall time (joining the
cluster and starting actors included), the run's own time (``run ...: S s``, from
the first request to the last result), and each one's ratio to the local executor.

    python bench/ray_executor.py                      # 5000 cases, 20 ms, concurrency 128, 2 repeats
    python bench/ray_executor.py --n 20000 --delay-ms 10 --concurrency 256
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from _common import ROOT, latency_server, make_dataset  # noqa: E402

RUN_TIME = re.compile(r"run \S+: ([0-9.]+) s")


def cluster(tmp: str) -> Any:
    from ray.cluster_utils import Cluster

    c = Cluster(initialize_head=True, head_node_args={"num_cpus": 2, "include_dashboard": False,
                                                      "object_store_memory": 100 * 2**20})
    c.add_node(num_cpus=2, object_store_memory=100 * 2**20)
    c.wait_for_nodes()
    return c


def fourfold(args: list[str], env: dict[str, str]) -> dict[str, float]:
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "fourfold.cli", *args], capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"fourfold {' '.join(args[:6])}... exited {p.returncode}\n{p.stderr[-3000:]}")
    m = RUN_TIME.search(p.stderr)
    return {"wall_s": round(wall, 2), "run_s": float(m.group(1)) if m else float("nan")}


def variants(args: argparse.Namespace, address: str) -> list[tuple[str, str, list[str]]]:
    """(group, name, extra CLI arguments) of every variant, local first in each group."""
    ray = ["--executor", "ray", "--address", address]
    out = [] if args.no_api else [("api", "local", [])]
    out += [] if args.no_api else [("api", f"ray x{k}", [*ray, "--ray-replicas", str(k), "--ray-cpus-per-replica", "0.5"])
                                   for k in (1, 2, 4)]
    if not args.no_embedded:
        out += [("embedded", "local", []),
                ("embedded", "ray x1 (2 cpu)", [*ray, "--ray-replicas", "1", "--ray-cpus-per-replica", "2"]),
                ("embedded", "ray x1 (1 cpu)", [*ray, "--ray-replicas", "1", "--ray-cpus-per-replica", "1"]),
                ("embedded", "ray x2 (1 cpu each)", [*ray, "--ray-replicas", "2", "--ray-cpus-per-replica", "1"])]
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--delay-ms", type=float, default=20)
    ap.add_argument("--concurrency", type=int, default=128)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--embedded-limit", type=int, default=2, help="cases per text cell for the embedded model")
    ap.add_argument("--max-tokens", type=int, default=48)
    ap.add_argument("--no-embedded", action="store_true")
    ap.add_argument("--no-api", action="store_true")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="ffrb", dir="/tmp")
    env = {**os.environ, "RAY_AUTH_MODE": "disabled", "RAY_TMPDIR": tmp,
           "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    os.environ.update({k: env[k] for k in ("RAY_AUTH_MODE", "RAY_TMPDIR", "PYTHONPATH")})
    try:
        with latency_server(args.delay_ms) as base:
            table(measure(args, tmp, env, base), args)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


def measure(args: argparse.Namespace, tmp: str, env: dict[str, str], base: str
            ) -> dict[tuple[str, str], list[dict[str, float]]]:
    """Every variant, ``args.repeats`` times, interleaved; each with a fresh store."""
    data = make_dataset(args.n, Path(tmp) / "qa.jsonl")
    c = cluster(tmp)
    try:
        api = ["run", "--model", f"openai/latency-model@{base}/v1", "--cases", str(data),
               "--cell", "text/generalizability", "--concurrency", str(args.concurrency), "--no-report", "--no-progress"]
        emb = ["run", "--cells", "text", "--limit", str(args.embedded_limit), "--max-tokens", str(args.max_tokens),
               "--no-report", "--no-progress"]
        results: dict[tuple[str, str], list[dict[str, float]]] = {}
        for rep in range(args.repeats):
            for i, (group, name, extra) in enumerate(variants(args, c.address)):
                store = Path(tmp) / f"s{rep}-{i}.db"
                r = fourfold([*(api if group == "api" else emb), "--store", str(store), *extra], env)
                results.setdefault((group, name), []).append(r)
                print(json.dumps({"group": group, "variant": name, "repeat": rep, **r}), flush=True)
        return results
    finally:
        c.shutdown()


def table(results: dict[tuple[str, str], list[dict[str, float]]], args: argparse.Namespace) -> None:
    """Medians per variant, and the ratio of the local executor's time to each (above 1: faster than local)."""
    print(f"\nN={args.n} at {args.delay_ms:g} ms, concurrency {args.concurrency}; embedded: text cells, "
          f"--limit {args.embedded_limit}, --max-tokens {args.max_tokens}; {args.repeats} repeat(s), medians\n")
    print("| group | variant | process wall s | run s | speed vs local (run) | speed vs local (wall) |")
    print("|---|---|---:|---:|---:|---:|")
    for (group, name), rs in results.items():
        wall = statistics.median(r["wall_s"] for r in rs)
        run = statistics.median(r["run_s"] for r in rs)
        local = results[(group, "local")]
        lw, lr = (statistics.median(r[k] for r in local) for k in ("wall_s", "run_s"))
        print(f"| {group} | {name} | {wall:.2f} | {run:.2f} | {lr / run:.2f} | {lw / wall:.2f} |")


if __name__ == "__main__":
    raise SystemExit(main())
