"""``fourfold export STORE... --format csv|jsonl|parquet --out FILE``: per-case results for other tools.

One row per model and case (the merged stores' effective results), columns as
``docs/export-schema.md`` lists them; the row's definition is ``publish.schema``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .common import UsageError

_FORMATS = ("csv", "jsonl", "parquet")


class ExtraMissing(UsageError):
    """An optional extra this format needs is not installed: one line naming the pip command, exit code 1."""

    exit_code = 1


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser("export", help="per-case results as CSV, JSONL or Parquet (schema: docs/export-schema.md)")
    p.add_argument("stores", nargs="+", metavar="STORE", help="results.db files, merged (the newer answer counts)")
    p.add_argument("--format", choices=_FORMATS, default=None,
                   help="default: from the --out suffix (.csv, .jsonl, .parquet)")
    p.add_argument("--out", metavar="FILE", required=True, type=Path)
    return p


def _format(args: argparse.Namespace) -> str:
    if args.format:
        return args.format
    suffix = args.out.suffix.lstrip(".").lower()
    if suffix not in _FORMATS:
        raise UsageError(f"--out {args.out}: say which format with --format csv|jsonl|parquet "
                         "(or end the file name in .csv, .jsonl or .parquet)")
    return suffix


def handle(args: argparse.Namespace) -> int:
    fmt = _format(args)
    for s in args.stores:
        if not Path(s).is_file():
            raise UsageError(f"{s}: no such store (pass results.db files written by `fourfold run`)")
    from ..publish.export import ParquetUnavailable, write_export
    from ..publish.schema import export_rows
    from ..score.collection import collect

    col = collect(args.stores)
    tmp = args.out.with_name(args.out.name + ".partial")
    try:
        n = write_export(export_rows(col), tmp, fmt)  # type: ignore[arg-type]
        tmp.replace(args.out)  # a reader never sees half a file
    except ParquetUnavailable as e:
        raise ExtraMissing(str(e)) from None
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise UsageError(f"--out {args.out}: cannot write the export ({e.strerror or e})") from None
    sys.stderr.write(f"export: {args.out} ({n} rows, {len(col.models)} models, {fmt})\n")
    return 0
