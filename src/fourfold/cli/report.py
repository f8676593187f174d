"""``fourfold report``: report.md and report.html (or the scores as JSON) from a store."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .common import DEFAULT_OUT, UsageError, add_inline_limit, open_existing_store, print_json, write_report
from .judging import add_judge_arguments, judge


def add_parser(sub: Any) -> argparse.ArgumentParser:
    rep = sub.add_parser("report", help="write report.md and report.html from a store")
    rep.add_argument("--store", metavar="PATH", help=f"default {DEFAULT_OUT}/results.db")
    rep.add_argument("--out", metavar="DIR", default=DEFAULT_OUT)
    rep.add_argument("--json", action="store_true", help="print the scores as JSON to stdout")
    rep.add_argument("--prices", metavar="FILE",
                     help="price table (TOML, USD per 1M tokens) for the cost column, instead of fourfold's own")
    rep.add_argument("--ties", choices=("mean", "min"), default="mean",
                     help="relative score: tied responses share the mean of their ranks (default, as the study's "
                          "formula) or all take the best one (min); the report says which")
    add_inline_limit(rep)
    add_judge_arguments(rep)
    return rep


def handle(args: argparse.Namespace) -> int:
    from ..report import INLINE_LIMIT
    from ..score.usage import PriceFileError, load_prices

    limit = INLINE_LIMIT if args.inline_limit is None else args.inline_limit
    try:
        prices = load_prices(args.prices)
    except PriceFileError as e:
        raise UsageError(f"--prices: {e}") from None
    # judging writes verdicts; a plain report only reads (a read-only store is fine)
    store = open_existing_store(args, readonly=not args.judge, check=True)
    if args.judge:
        judge(store, args)
    if args.json:
        from ..report import scores_json

        print_json(scores_json(store, prices, args.ties, limit))
    else:
        write_report(store, Path(args.out), prices, args.ties, inline_limit=limit)
    store.close()
    return 0
