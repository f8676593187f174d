"""``fourfold store stats|compact``: what a store holds, and giving its free pages back."""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

from .common import DEFAULT_OUT, UsageError, console, open_existing_store, print_json, store_path


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser("store", help="a store's sizes and row counts (stats), or compact it (compact)")
    ops = p.add_subparsers(dest="op", required=True, metavar="OP")
    st = ops.add_parser("stats", help="file and WAL size, pages, rows per table, results per model and status")
    st.add_argument("--store", metavar="PATH", help=f"default {DEFAULT_OUT}/results.db")
    st.add_argument("--json", action="store_true", help="print the figures as JSON")
    st.add_argument("--bytes", action="store_true", help="also the bytes each table and index takes (reads every page)")
    co = ops.add_parser("compact", help="checkpoint and VACUUM into a new file, then replace the store "
                                        "(refused while a run or another writer uses it)")
    co.add_argument("--store", metavar="PATH", help=f"default {DEFAULT_OUT}/results.db")
    return p


def handle(args: argparse.Namespace) -> int:
    return _stats(args) if args.op == "stats" else _compact(args)


def _stats(args: argparse.Namespace) -> int:
    from ..store.maintenance import stats

    store = open_existing_store(args, readonly=True)
    try:
        s = stats(store.db, store.path, table_bytes=args.bytes)
    finally:
        store.close()
    if args.json:
        print_json({**dataclasses.asdict(s), "free_bytes": s.free_bytes})
        return 0
    out = console()
    out.print(f"{s.path}: {_mb(s.file_bytes)} file + {_mb(s.wal_bytes)} WAL; {s.page_count:,} pages of "
              f"{s.page_size:,} B, {s.freelist_count:,} free ({_mb(s.free_bytes)}: `fourfold store compact` "
              "gives them back)")
    out.print("rows: " + ", ".join(f"{t} {n:,}" for t, n in s.rows.items()))
    out.print("results by status: " + (", ".join(f"{k} {n:,}" for k, n in s.statuses.items()) or "none"))
    if s.table_bytes:
        out.print("bytes: " + ", ".join(f"{t} {_mb(n)}" for t, n in s.table_bytes.items()), markup=False)
    for model, n in s.models.items():
        out.print(f"  {model}: {n:,} result(s)", markup=False, highlight=False)
    if s.runs_running or s.live_claims:
        out.print(f"{s.runs_running} run(s) not marked finished, {s.live_claims:,} live claim(s): a run may be "
                  "using the store")
    return 0


def _compact(args: argparse.Namespace) -> int:
    from ..store.maintenance import StoreBusy, compact

    path = store_path(args)
    if not path.exists():
        raise UsageError(f"{path}: no such store")
    open_existing_store(args, readonly=True, check=True).close()  # a fourfold store, and not damaged
    try:
        done = compact(path)
    except StoreBusy as e:
        raise UsageError(str(e)) from None
    console(stderr=True).print(f"{path}: {_mb(done.before_bytes)} -> {_mb(done.after_bytes)}; "
                               f"{done.rows.get('results', 0):,} results kept", markup=False, highlight=False)
    return 0


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"
