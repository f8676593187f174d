"""The judge-model options ``run`` and ``report`` share, and the judge pass they start."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .common import UsageError, console, create_backend, run_async


def add_judge_arguments(sp: argparse.ArgumentParser) -> None:
    g = sp.add_argument_group("judge models (decide what rules cannot)")
    g.add_argument("--judge", action="append", metavar="SPEC",
                   help="judge model spec, any backend (repeat for a majority vote), e.g. smollm2 or openai/gpt-4o")
    g.add_argument("--judge-samples", type=int, default=1, metavar="K", help="self-consistency: K samples, majority")
    g.add_argument("--judge-cell", action="append", metavar="CELL=SPEC", help="a different judge for one cell")
    g.add_argument("--judge-all", action="store_true", help="also judge cases a rule already decided")
    g.add_argument("--rank", action="store_true",
                   help="listwise ranking of all models' responses per case (relative scores from real ranks)")


def judge_config(args: argparse.Namespace) -> Any:
    from ..cases import CELLS
    from ..run.judging import JudgingConfig

    cache: dict[str, Any] = {}

    def backend(spec: str) -> Any:
        if spec not in cache:
            cache[spec] = create_backend(spec, "--judge: ")
        return cache[spec]

    per_cell: dict[str, list[Any]] = {}
    for item in args.judge_cell or []:
        cell, sep, spec = item.partition("=")
        if not sep or cell not in CELLS:
            raise UsageError(f"--judge-cell {item!r}: expected CELL=SPEC with a cell such as text/causality")
        per_cell.setdefault(cell, []).append(backend(spec))
    if args.judge_samples < 1:
        raise UsageError("--judge-samples must be at least 1")
    return JudgingConfig(judges=[backend(s) for s in args.judge], cell_judges=per_cell, samples=args.judge_samples,
                         judge_all=args.judge_all, rank=args.rank)


def judge(store: Any, args: argparse.Namespace) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from ..run.judging import judge_store

    cfg = judge_config(args)

    async def go() -> Any:
        try:
            with Progress(TextColumn("judging"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                          console=console(stderr=True), transient=True) as progress:
                task = progress.add_task("judging", total=None)
                return await judge_store(store, cfg, progress=lambda k, n: progress.update(task, completed=k, total=n))
        finally:
            for b in {id(b): b for b in [*cfg.judges, *(x for v in cfg.cell_judges.values() for x in v)]}.values():
                await b.aclose()

    s = run_async(go())
    sys.stderr.write(f"judge: {s.judged} judged, {s.cached} already judged, {s.failed} failed"
                     + (f", {s.ranked} cases ranked" if cfg.rank else "") + "\n")
