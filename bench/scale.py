#!/usr/bin/env python3
"""Scale bench (issue 12): fourfold at 100,000 and 1,000,000 generic cases against the
shared fixed-latency server, by hand (minutes; not part of the test suite).

For each N: makes the data set (../shared/bench/make_dataset.py), runs
``fourfold run --no-report`` at the given concurrency, then the bare aiohttp client
(../shared/bench/loadgen.py) on the same server and data, interleaved so both see
the same machine. Each process's own peak RSS and CPU come from ``wait4`` (not
the children's maximum, which would mix in the data-set maker and loadgen).
``--report`` also times ``fourfold report`` on the store the run filled; ``--compact``
times ``fourfold store stats`` and ``compact`` on it.

    python bench/scale.py --n 100000                       # the issue's N, 10 ms, concurrency 256
    python bench/scale.py --n 1000000 --repeats 1 --no-loadgen
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from _common import SHARED, fourfold_script, get_json, latency_server, make_dataset, precompile  # noqa: E402


def timed(cmd: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    """Wall, CPU and peak RSS of one process (its own rusage, through wait4)."""
    t0 = time.time()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, ru = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.time() - t0
    if proc.returncode != 0:
        sys.stderr.write(err.decode(errors="replace")[-3000:])
        raise SystemExit(f"{cmd[:3]} exited {proc.returncode}")
    return {"wall_s": round(wall, 2), "cpu_s": round(ru.ru_utime + ru.ru_stime, 2),
            "peak_rss_mb": round(ru.ru_maxrss / 1024, 1), "t0": t0}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, action="append", help="cases (repeatable; default 100000)")
    ap.add_argument("--concurrency", type=int, default=256)
    ap.add_argument("--delay-ms", type=float, default=10)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--no-loadgen", action="store_true", help="skip the bare client (1,000,000: it holds every sample)")
    ap.add_argument("--report", action="store_true", help="also time `fourfold report` on the filled store")
    ap.add_argument("--compact", action="store_true", help="also time `fourfold store stats` and `compact`")
    args = ap.parse_args()
    precompile()  # as throughput.py: time fourfold, not the compiler
    with latency_server(args.delay_ms) as base, tempfile.TemporaryDirectory() as tmp:
        for n in args.n or [100_000]:
            _bench_n(args, n, Path(tmp), base)
    return 0


def _bench_n(args: argparse.Namespace, n: int, tmp: Path, base: str) -> None:
    data = make_dataset(n, tmp / f"qa-{n}.jsonl")
    for i in range(args.repeats):
        out = tmp / f"run-{n}-{i}"
        get_json(f"{base}/stats/reset", "POST")
        row = timed([fourfold_script(), "run", "--model", f"openai/latency-model@{base}/v1", "--cases", str(data),
                     "--cell", "text/generalizability", "--concurrency", str(args.concurrency),
                     "--store", str(out / "results.db"), "--out", str(out), "--no-progress", "--no-report"])
        st = get_json(f"{base}/stats")
        con = sqlite3.connect(out / "results.db")
        good = con.execute("SELECT COUNT(*) FROM results WHERE verdict='good'").fetchone()[0]
        con.close()
        row.update(what="fourfold run", n=n, c=args.concurrency, startup_s=round(st["first_request_at"] - row.pop("t0"), 2),
                   cpu_ms_per_case=round(row["cpu_s"] * 1000 / n, 3), requests=st["requests_total"], accuracy=good / n)
        if not args.no_loadgen:
            get_json(f"{base}/stats/reset", "POST")
            floor = timed([sys.executable, str(SHARED / "loadgen.py"), "--base-url", f"{base}/v1", "--data", str(data),
                           "-c", str(args.concurrency)])
            row.update(loadgen_wall_s=floor["wall_s"], loadgen_rss_mb=floor["peak_rss_mb"],
                       throughput_vs_loadgen=round(floor["wall_s"] / row["wall_s"], 3))
        print(json.dumps(row), flush=True)
        if args.report and i == 0:
            rep = timed([fourfold_script(), "report", "--store", str(out / "results.db"), "--out", str(out)])
            rep.pop("t0")
            sizes = {p.name: round(p.stat().st_size / 1e6, 2) for p in out.glob("report.*")}
            print(json.dumps({"what": "fourfold report", "n": n, **rep, "files_mb": sizes}), flush=True)
        if args.compact and i == 0:
            for op in ("stats", "compact"):
                r = timed([fourfold_script(), "store", op, "--store", str(out / "results.db")])
                r.pop("t0")
                print(json.dumps({"what": f"fourfold store {op}", "n": n, **r}), flush=True)


if __name__ == "__main__":
    sys.exit(main())
