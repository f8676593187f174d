#!/usr/bin/env python3
"""Report render bench: ``render(build_context(...))`` for 2,000 cases x 3 models
(the size of a full landscape run with three models), best of a few repeats.

Target: under 3 s on this project's 2-core machine. This was a unit test; a
speed target on a shared machine is a measurement, so it lives here and is run
by hand. Exits 1 when the best repeat misses the target.

    python bench/render.py [--cases 2000] [--repeat 3] [--target 3.0]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from fourfold.report import build_context, render  # noqa: E402
from fourfold.score import compute_scores  # noqa: E402
from fourfold.score.precedence import EffectiveResult  # noqa: E402
from fourfold.store import StoredCase  # noqa: E402

CELLS = ("text/generalizability", "code/trustworthiness", "image/causality", "video/generalizability")
VERDICTS = ("good", "bad", "unclear", "unjudged", "error")
MODELS = ("m1", "m2", "m3")


def _case(case_id: str, cell: str, answer: int) -> StoredCase:
    content: list[dict[str, Any]] = [{"type": "text", "text": f"Question {case_id}: what is it? <b>x</b>"}]
    if cell.startswith("image/"):
        content.append({"type": "image", "path": "red.png", "sha256": "0" * 64})
    data = {"id": case_id, "cell": cell, "category": "other", "input": [{"role": "user", "content": content}],
            "reference": {"kind": "numeric", "answer": answer}}
    return StoredCase(f"h{int(case_id[1:])}", case_id, cell, "other", None, "/nonexistent", json.dumps(data))


def workload(n: int) -> tuple[list[EffectiveResult], dict[str, StoredCase]]:
    """``n`` cases over four cells, every verdict kind, answers with code blocks."""
    cases: dict[str, StoredCase] = {}
    rows: list[EffectiveResult] = []
    for i in range(n):
        cell = CELLS[i % len(CELLS)]
        cases[f"h{i}"] = _case(f"c{i:04d}", cell, i)
        for j, m in enumerate(MODELS):
            rows.append(EffectiveResult(
                key=f"k{i}-{m}", model=m, case_id=f"c{i:04d}", case_hash=f"h{i}", cell=cell, category="other",
                status="ok", verdict=VERDICTS[(i + j) % 5], rationale="r", judge="rule",
                response="Answer:\n```python\nprint(1)\n```\n" * 4, served_model=m, latency_s=1.0))
    return rows, cases


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--target", type=float, default=3.0, help="seconds for the best repeat")
    args = ap.parse_args()
    rows, cases = workload(args.cases)
    compute_scores(rows)  # warm the scipy import: start-up is not what this measures
    times = []
    for _ in range(args.repeat):
        t = time.perf_counter()
        _, html = render(build_context(rows, cases))
        times.append(time.perf_counter() - t)
        assert html.count('class="case"') == args.cases
    best = min(times)
    print(json.dumps({"cases": args.cases, "models": len(MODELS), "best_s": round(best, 3),
                      "all_s": [round(x, 3) for x in times], "target_s": args.target, "met": best < args.target}))
    return 0 if best < args.target else 1


if __name__ == "__main__":
    sys.exit(main())
