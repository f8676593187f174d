#!/usr/bin/env python3
"""Embedded-model bench: ``fourfold run`` with its defaults (the embedded model on
the default suite), from launch to exit. The harness's own share is the wall
time not spent inside generation calls (sum of per-case model latency, which
the runner records around each backend call).

    python bench/embedded.py [--limit N]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--limit", type=int, help="cases per cell (default: the whole default suite)")
    args = ap.parse_args()
    script = Path(sys.executable).parent / "fourfold"
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [str(script) if script.exists() else "fourfold", "run", "--out", tmp, "--no-progress"]
        if args.limit:
            cmd += ["--limit", str(args.limit)]
        t0 = time.time()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.time() - t0
        if proc.returncode != 0:
            print(proc.stderr, file=sys.stderr)
            return 1
        con = sqlite3.connect(Path(tmp) / "results.db")
        n, gen_s, toks = con.execute(
            "SELECT COUNT(*), SUM(latency_s), SUM(completion_tokens) FROM results WHERE status='ok'").fetchone()
        verdicts = dict(con.execute("SELECT verdict, COUNT(*) FROM results GROUP BY verdict").fetchall())
    harness = wall - gen_s
    print(json.dumps({"cases": n, "wall_s": round(wall, 1), "generation_s": round(gen_s, 1),
                      "harness_s": round(harness, 2), "harness_share": round(harness / wall, 4),
                      "completion_tokens": toks, "tokens_per_s": round(toks / gen_s, 1), "verdicts": verdicts}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
