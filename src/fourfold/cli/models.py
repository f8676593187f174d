"""``fourfold models``: the backends, the embedded default and what each accepts."""

from __future__ import annotations

import argparse
from typing import Any

from .common import console, print_json


def add_parser(sub: Any) -> argparse.ArgumentParser:
    m = sub.add_parser("models", help="list the backends, the embedded default and what each accepts")
    m.add_argument("--json", action="store_true")
    return m


def handle(args: argparse.Namespace) -> int:
    from ..models import DEFAULT_MODEL, backend_infos

    infos = backend_infos()
    if args.json:
        print_json({"default": DEFAULT_MODEL, "backends": [b.__dict__ for b in infos]})
        return 0
    from rich.markup import escape
    from rich.table import Table

    t = Table(title=f"model backends (default: {DEFAULT_MODEL})")
    for col in ("spec", "accepts", "what", "needs"):
        t.add_column(col, overflow="fold")
    for b in infos:
        needs = f"[yellow]{escape(b.install or '')}[/]" if not b.installed else "installed" if b.extra else "built in"
        t.add_row(escape(b.syntax), b.accepts, b.description, needs)
    console().print(t)
    return 0
