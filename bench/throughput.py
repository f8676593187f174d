#!/usr/bin/env python3
"""Throughput bench: fourfold against the shared fixed-latency server.

Starts ../shared/bench/latency_server.py, makes the N-case generic data set,
then times ``fourfold run`` from launch to exit, reading the server's /stats
for the start-up (launch -> first request) and /proc accounting for CPU and
peak RSS. Prints one JSON line per repeat and a summary.

    python bench/throughput.py [--n 2000] [--concurrency 64] [--delay-ms 100] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import SHARED, fourfold_script, get_json, latency_server, make_dataset, precompile  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--delay-ms", type=float, default=100)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-report", action="store_true", help="pass --no-report: results stored, no report written")
    args = ap.parse_args()
    precompile()
    results = []
    floor: list[float] = []
    floor_startup: list[float] = []
    with latency_server(args.delay_ms) as base, tempfile.TemporaryDirectory() as tmp:
        data = make_dataset(args.n, Path(tmp) / "qa.jsonl")
        ideal = args.n * args.delay_ms / 1000 / args.concurrency
        for i in range(args.repeats):
            get_json(f"{base}/stats/reset", "POST")
            out = Path(tmp) / f"run{i}"
            cmd = [fourfold_script(), "run", "--model", f"openai/latency-model@{base}/v1",
                   "--cases", str(data), "--cell", "text/generalizability", "--concurrency", str(args.concurrency),
                   "--store", str(out / "results.db"), "--out", str(out), "--no-progress"]
            if args.no_report:
                cmd.append("--no-report")
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.time()
            proc = subprocess.run(cmd, capture_output=True, text=True)
            wall = time.time() - t0
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if proc.returncode != 0:
                print(proc.stderr, file=sys.stderr)
                return 1
            st = get_json(f"{base}/stats")
            cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            con = sqlite3.connect(out / "results.db")
            good = con.execute("SELECT COUNT(*) FROM results WHERE verdict='good'").fetchone()[0]
            con.close()
            row = {"n": args.n, "c": args.concurrency, "wall_s": round(wall, 3), "ideal_over_wall": round(ideal / wall, 3),
                   "startup_s": round(st["first_request_at"] - t0, 3), "cpu_s": round(cpu, 3),
                   "cpu_ms_per_case": round(cpu * 1000 / args.n, 3), "peak_rss_mb": round(after.ru_maxrss / 1024, 1),
                   "requests": st["requests_total"], "accuracy": good / args.n}
            results.append(row)
            print(json.dumps(row), flush=True)
            # the floor, interleaved so both see the same machine: the bare aiohttp client
            get_json(f"{base}/stats/reset", "POST")
            t0 = time.time()
            subprocess.run([sys.executable, str(SHARED / "loadgen.py"), "--base-url", f"{base}/v1",
                            "--data", str(data), "-c", str(args.concurrency)], capture_output=True, check=True)
            floor.append(time.time() - t0)
            floor_startup.append(get_json(f"{base}/stats")["first_request_at"] - t0)
    ideal = args.n * args.delay_ms / 1000 / args.concurrency
    print(f"floor (bare aiohttp loadgen.py, same server, interleaved): best wall {min(floor):.3f} s, "
          f"ideal/wall {ideal / min(floor):.3f}, start-up {min(floor_startup):.3f} s")
    print(f"fourfold / floor: {min(floor) / min(r['wall_s'] for r in results):.3f} (best walls)")
    best = max(results, key=lambda r: r["ideal_over_wall"])
    print(f"best of {len(results)}: wall {best['wall_s']} s, ideal/wall {best['ideal_over_wall']}, start-up "
          f"{best['startup_s']} s, CPU {best['cpu_ms_per_case']} ms/case, peak RSS {best['peak_rss_mb']} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
