"""The ``fourfold`` command. The only package that knows every stage.

One module per command, each with ``add_parser(subparsers)`` and
``handle(args) -> int``; ``main`` builds the parser from ``COMMANDS`` and calls
the handler the parsed arguments carry. Imports are deferred to the handler that
needs them: ``fourfold --help`` imports no stage, and ``fourfold run`` against an
API must send its first request well within a second of launch.
"""

from __future__ import annotations

import argparse
import os
import sys

from . import annotate, cases, compare, export, findings, judges, models, plot, report, run, site, store
from .common import DEFAULT_OUT, DEFAULT_SUITE, EXIT_BAD_INPUT, UsageError, err, store_failure, version

__all__ = ["COMMANDS", "DEFAULT_OUT", "DEFAULT_SUITE", "EXIT_BAD_INPUT", "UsageError", "build_parser", "main"]

#: The commands in the order ``fourfold --help`` lists them.
COMMANDS = (run, report, site, plot, export, compare, findings, cases, annotate, judges, models, store)


class _Version(argparse._VersionAction):
    """``--version``, looked up only when asked for: importlib.metadata costs ``--help`` 10+ ms."""

    def __call__(self, parser: argparse.ArgumentParser, *args: object, **kw: object) -> None:
        self.version = f"fourfold {version()}"
        super().__call__(parser, *args, **kw)  # type: ignore[arg-type]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="fourfold", description=(
        "Evaluate LLMs and MLLMs on 4 modalities x 3 properties: 12 scores, a leaderboard, every verdict shown."))
    p.add_argument("--version", action=_Version)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(sub).set_defaults(handle=command.handle)
    return p


def main(argv: list[str] | None = None) -> int:
    # Start-up allocates a lot and frees little (imports, loaded cases): the cyclic
    # GC would scan it all again and again. ``fourfold run`` freezes it and turns GC back on.
    import gc

    gc.disable()
    args = build_parser().parse_args(argv)
    try:
        return args.handle(args)
    except UsageError as e:
        err(str(e))
        return e.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("\ninterrupted\n")
        return 130
    except BrokenPipeError:
        # `fourfold cases list | head` closes the pipe early; that's not an error.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as e:  # last: only the store's failures are turned into messages
        message = store_failure(e, args)
        if message is None:
            raise
        err(message)
        return EXIT_BAD_INPUT
