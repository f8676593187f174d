#!/usr/bin/env python3
"""Report scale bench (issue 12): ``fourfold report`` on 100,000 and 1,000,000 results, by hand.

The store is synthesized directly through the store's own API (``Store.put_cases``,
``put_results``, ``put_judgement``, ``put_ranking``), no model runs: ``--models``
models answer ``N / models`` choice cases spread over the 12 cells, with per-model
skill (so the leaderboards differ), errors, token counts, perturbed variants
(robustness), judge-model verdicts on 1 % of the results and judge rankings on 1 %
of the cases. Then ``fourfold report`` (and ``report --json``) runs in a subprocess,
and its wall time, CPU and peak RSS come from ``wait4`` (``bench/scale.py``'s ``timed``).

    python bench/report_scale.py --n 100000 --n 1000000     # the issue's sizes
    python bench/report_scale.py --n 1000000 --keep /tmp/r1m  # keep the store to look at
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from scale import timed  # noqa: E402

from fourfold.cases.taxonomy import CATEGORIES, CELLS  # noqa: E402
from fourfold.store import ResultRow, Store  # noqa: E402

BATCH = 50_000
#: The CLI in this interpreter (PYTHONPATH decides which source tree).
FOURFOLD = [sys.executable, "-m", "fourfold.cli"]


def _case(i: int, rng: random.Random) -> tuple[str, str, str, str, str | None, str | None, str]:
    cell = CELLS[i % len(CELLS)]
    category = CATEGORIES[cell][(i // len(CELLS)) % len(CATEGORIES[cell])]
    case_id = f"case-{i:07d}"
    meta = {"perturbation": "typos", "original": f"case-{i - 1:07d}"} if i % 10 == 9 else {}
    options = ["yes", "no", "maybe", "never"][: 2 + i % 3]
    data = {"id": case_id, "cell": cell, "category": category, "metadata": meta,
            "input": [{"role": "user", "content": [{"type": "text", "text": f"Question {i}: {rng.random()}?"}]}],
            "reference": {"kind": "choice", "options": options, "answer": "A"}}
    return (f"hash-{i:07d}", case_id, cell, category, "bench", None, json.dumps(data))


def make_store(path: Path, n_results: int, n_models: int = 10, seed: int = 0) -> dict[str, float]:
    """``n_results`` results of ``n_models`` models over ``n_results // n_models`` cases."""
    rng = random.Random(seed)
    t0 = time.time()
    models = [f"bench/model-{k:02d}" for k in range(n_models)]
    store = Store(path)
    cases, rows = [], []
    for i in range(n_results // n_models):
        case = _case(i, rng)
        cases.append(case)
        h, case_id, cell, category = case[:4]
        for k, m in enumerate(models):
            failed = rng.random() < 0.01
            p = 0.85 - 0.04 * k
            verdict = ("error" if failed else "good" if rng.random() < p
                       else "unclear" if rng.random() < 0.1 else "bad")
            rows.append(ResultRow(
                key=f"{m}|{h}", model=m, model_identity="{}", settings="{}", case_id=case_id, case_hash=h, cell=cell,
                category=category, status="error" if failed else "ok", verdict=verdict,
                rationale="" if failed else f"rule says {verdict}", judge="" if failed else "rule:choice",
                response=None if failed else f"Answer {i}: B", error="timeout" if failed else None,
                prompt_tokens=None if failed else 20 + i % 7, completion_tokens=None if failed else 3,
                created_at=1.7e9 + i))
        if len(rows) >= BATCH:
            _flush(store, cases, rows, rng)
            cases, rows = [], []
    _flush(store, cases, rows, rng)
    store.close()
    return {"make_store_s": round(time.time() - t0, 1), "store_mb": round(path.stat().st_size / 1e6, 1)}


def _flush(store: Store, cases: list, rows: list[ResultRow], rng: random.Random) -> None:
    """Write a batch, with judge verdicts on 1 % of its results and rankings on 1 % of its cases."""
    store.put_cases(cases)
    store.put_results(rows)
    for r in rows:
        if r.status == "ok" and rng.random() < 0.01:
            store.put_judgement(cache_key=f"j|{r.key}", result_key=r.key, judge="bench/judge", judge_identity="{}",
                                template="t1", verdict=rng.choice(["good", "bad", "unclear"]), rationale="judged",
                                raw=[], votes={})
    models = sorted({r.model for r in rows})
    for h, case_id, cell, *_ in cases:
        if rng.random() < 0.01:
            ranks = {m: float(rng.randrange(1, len(models) + 1)) for m in models}
            store.put_ranking(cache_key=f"r|{h}", case_hash=h, case_id=case_id, cell=cell, judge="bench/judge",
                              template="rank1", ranks=ranks, raw=[])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, action="append", help="results (repeatable; default 100000)")
    ap.add_argument("--models", type=int, default=10)
    ap.add_argument("--keep", metavar="DIR", help="write the stores and reports here and keep them")
    ap.add_argument("--no-json", action="store_true", help="skip timing `report --json`")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(args.keep or tmp)
        root.mkdir(parents=True, exist_ok=True)
        for n in args.n or [100_000]:
            store = root / f"results-{n}.db"
            made = {} if store.exists() else make_store(store, n, args.models)
            out = root / f"out-{n}"
            rep = timed([*FOURFOLD, "report", "--store", str(store), "--out", str(out)])
            rep.pop("t0")
            sizes = {p.name: round(p.stat().st_size / 1e6, 2) for p in out.glob("report.*")}
            print(json.dumps({"what": "fourfold report", "n": n, **made, **rep, "files_mb": sizes,
                              "loadavg": [round(x, 2) for x in os.getloadavg()]}), flush=True)
            if not args.no_json:
                js = timed([*FOURFOLD, "report", "--store", str(store), "--json"])
                js.pop("t0")
                print(json.dumps({"what": "fourfold report --json", "n": n, **js,
                                  "loadavg": [round(x, 2) for x in os.getloadavg()]}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
