"""``fourfold compare``: two models side by side, case by case, as a judge model sees them (win/tie/loss)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .common import DEFAULT_OUT, UsageError, create_backend, open_existing_store, print_json, run_async, store_path


def add_parser(sub: Any) -> argparse.ArgumentParser:
    cmp_ = sub.add_parser("compare", help="pairwise comparison of two models by a judge (win/tie/loss)")
    cmp_.add_argument("model_a")
    cmp_.add_argument("model_b")
    cmp_.add_argument("--judge", required=True, metavar="SPEC")
    cmp_.add_argument("--store", metavar="PATH", help=f"default {DEFAULT_OUT}/results.db")
    cmp_.add_argument("--cells", metavar="LIST")
    cmp_.add_argument("--json", action="store_true")
    return cmp_


def handle(args: argparse.Namespace) -> int:
    from ..cases import select_cells
    from ..run.judging import compare_models

    store = open_existing_store(args, missing_hint="")
    judge = create_backend(args.judge)
    try:
        cells = select_cells(args.cells) if args.cells else None
    except ValueError as e:
        raise UsageError(str(e)) from None
    known = store.models()
    for m in (args.model_a, args.model_b):
        if m not in known:
            raise UsageError(f"model {m!r} is not in {store_path(args)} (models: {', '.join(known)})")
    result = run_async(compare_models(store, judge, args.model_a, args.model_b, cells=cells))
    if args.json:
        print_json(result)
    else:
        for cell, r in result.items():
            sys.stdout.write(f"{cell}\t{args.model_a} vs {args.model_b}\twin {r['win']:.0%}\ttie {r['tie']:.0%}"
                             f"\tloss {r['loss']:.0%}\tn={r['n']}\n")
    store.close()
    return 0
