"""What every command shares: defaults, the usage error (exit code 2) and its
printing, case loading, the store path, the event loop, the console, the report.

Nothing heavy is imported at module level: ``fourfold --help`` imports this.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

DEFAULT_OUT = "fourfold-out"
DEFAULT_SUITE = "landscape"
EXIT_BAD_INPUT = 2


class UsageError(Exception):
    """Bad input from the user: printed without a traceback, exit code 2."""

    exit_code = EXIT_BAD_INPUT


class ModelUnusable(UsageError):
    """A model that cannot run here (its extra is not installed, no API key):
    one line naming the fix, exit code 1, nothing run or recorded."""

    exit_code = 1


def err(msg: str) -> None:
    sys.stderr.write(f"fourfold: error: {msg}\n")


def version() -> str:
    try:
        from importlib.metadata import version

        return version("fourfold")
    except Exception:
        return "0+unknown"


def store_path(args: argparse.Namespace) -> Path:
    return Path(args.store) if args.store else Path(args.out if hasattr(args, "out") else DEFAULT_OUT) / "results.db"


def load(sources: list[str] | None, cell: str | None = None, cells_expr: str | None = None,
         limit: int | None = None) -> list[Any]:
    from ..cases import CaseFileError, load_cases, select_cells

    try:
        cells = select_cells(cells_expr) if cells_expr else None
    except ValueError as e:
        raise UsageError(f"--cells: {e}") from None
    try:
        return load_cases(sources or [DEFAULT_SUITE], cell=cell, cells=cells, limit=limit)
    except CaseFileError as e:
        raise UsageError(str(e)) from None


def run_async(coro: Any) -> Any:
    """asyncio.run with SIGTERM treated like Ctrl-C, so the writer flushes."""
    import asyncio
    import signal

    try:
        import uvloop  # type: ignore[import-not-found]

        loop_factory = uvloop.new_event_loop
    except ImportError:
        loop_factory = None
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        loop = runner.get_loop()
        task_holder: dict[str, asyncio.Task[Any]] = {}

        async def main() -> Any:
            task_holder["t"] = asyncio.current_task()  # type: ignore[assignment]
            return await coro

        def on_term() -> None:
            t = task_holder.get("t")
            if t:
                t.cancel()
        try:
            loop.add_signal_handler(signal.SIGTERM, on_term)
        except (NotImplementedError, RuntimeError):
            pass
        try:
            return runner.run(main())
        except asyncio.CancelledError:
            raise KeyboardInterrupt from None


def console(stderr: bool = False) -> Any:
    """rich console; 120 columns when not a terminal so logs keep whole cell names."""
    from rich.console import Console

    c = Console(stderr=stderr)
    return c if c.is_terminal else Console(stderr=stderr, width=120)


def print_json(data: Any, **kw: Any) -> None:
    """Indented JSON and a newline on stdout, as every ``--json`` prints."""
    import json

    json.dump(data, sys.stdout, indent=2, **kw)
    sys.stdout.write("\n")


def check_out_dir(out: Path) -> None:
    """``--out`` must be a folder this process can write (made if missing)."""
    import tempfile

    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as e:
        raise UsageError(f"--out {out}: cannot write the report there ({e.strerror or e})") from None


def add_inline_limit(parser: argparse.ArgumentParser) -> None:
    """``--inline-limit`` of the commands that write the report (``run``, ``report``)."""
    parser.add_argument("--inline-limit", metavar="N", type=_at_least_zero, default=None,
                        help="past N results, report.md and report.html list no case (the scores and tables still "
                             "cover all; the leaderboard site, `fourfold site`, lists every case); default 5000")


def _at_least_zero(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if n < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {n}")
    return n


def write_report(store: Any, out: Path, prices: Any = None, ties: str = "mean", inline_limit: int | None = None,
                 ahead: Any = None) -> None:
    """``prices``: a ``score.usage.PriceTable`` (None: the packaged one); ``ties``: how relative scores rank ties;
    ``inline_limit``: past it the report lists no case (None: ``report.INLINE_LIMIT``); ``ahead``: case views
    made during the run (``report.prepared``)."""
    from ..report import INLINE_LIMIT, build_report

    check_out_dir(out)
    try:
        files = build_report(store, out, prices=prices, ties=ties,  # type: ignore[arg-type]
                             inline_limit=INLINE_LIMIT if inline_limit is None else inline_limit, ahead=ahead)
    except OSError as e:
        where = e.filename or out
        raise UsageError(f"--out {out}: cannot write the report ({where}: {e.strerror or e}); the results are "
                         "stored: run `fourfold report --out DIR` with a writable DIR") from None
    sys.stderr.write(f"report: {files.markdown}  {files.html}\n")


def open_existing_store(args: argparse.Namespace, missing_hint: str = " (run `fourfold run` first, or pass --store)",
                        **kw: Any) -> Any:
    """The store ``--store`` names, which must exist: a usage error otherwise."""
    from ..store import Store

    path = store_path(args)
    if not path.exists():
        raise UsageError(f"{path}: no such store{missing_hint}")
    return Store(path, **kw)


def create_backend(spec: str, prefix: str = "") -> Any:
    """A model backend from its spec; a bad spec is a usage error (``prefix`` names the flag)."""
    from ..models import BackendUnusable, ModelSpecError, PermanentError
    from ..models import create_backend as create

    try:
        return create(spec)
    except BackendUnusable as e:
        raise ModelUnusable(f"{prefix}{e}") from None
    except (ModelSpecError, PermanentError) as e:
        raise UsageError(f"{prefix}{e}") from None


def store_failure(e: Exception, args: argparse.Namespace) -> str | None:
    """What to tell the user when the store fails under a command (damage found
    while reading, a write refused): the file and what to do, not a traceback."""
    import sqlite3

    from ..store import StoreError, describe_error

    if isinstance(e, StoreError):
        return str(e)
    from ..score import UnknownCellError  # imported on a failure only

    if isinstance(e, UnknownCellError):  # a result in a cell that is none of the 12 (report, site, plot)
        stores = getattr(args, "stores", None) or ([store_path(args)] if hasattr(args, "store") else [])
        return f"{', '.join(map(str, stores)) or 'the store'}: cannot score it: {e}"
    if isinstance(e, sqlite3.Error) and hasattr(args, "store"):
        return str(describe_error(store_path(args), e, "use the store"))
    return None
