"""``fourfold annotate``: human judging in the browser (annotators, assignments, the web app, agreement)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .common import DEFAULT_OUT, UsageError, open_existing_store, print_json, store_path


def add_parser(sub: Any) -> argparse.ArgumentParser:
    a = sub.add_parser("annotate", help="human judging in the browser: annotators, assignments, the web app")
    asub = a.add_subparsers(dest="annotate_command", required=True, metavar="ACTION")
    aa = asub.add_parser("add-annotator", help="create an annotator and print a personal login link")
    aa.add_argument("name")
    aa.add_argument("--lead", action="store_true", help="may settle disagreements and see agreement statistics")
    aa.add_argument("--rotate", action="store_true", help="issue a new link for an existing annotator")
    aa.set_defaults(annotate_action=_add_annotator)
    asg = asub.add_parser("assign", help="give each case to k annotators, balanced (resumable)")
    asg.add_argument("-k", type=int, default=3, help="annotators per case (default 3, as in the report)")
    asg.add_argument("--cells", metavar="LIST")
    asg.set_defaults(annotate_action=_assign)
    sv = asub.add_parser("serve", help="serve the annotation app on 127.0.0.1")
    sv.add_argument("--host", default="127.0.0.1")
    sv.set_defaults(annotate_action=_serve)
    asub.add_parser("stats", help="agreement statistics per cell as JSON").set_defaults(annotate_action=_stats)
    for sp in (aa, asg, sv, *asub.choices.values()):
        if not any(x.dest == "store" for x in sp._actions):
            sp.add_argument("--store", metavar="PATH", help=f"default {DEFAULT_OUT}/results.db")
    for sp in (aa, sv):
        sp.add_argument("--port", type=int, default=8765)
    return a


def handle(args: argparse.Namespace) -> int:
    from ..store import human

    store = open_existing_store(args)
    try:
        args.annotate_action(store, args)
    except (human.AnnotationError, ValueError) as e:
        raise UsageError(str(e)) from None
    store.close()
    return 0


def _add_annotator(store: Any, args: argparse.Namespace) -> None:
    from ..store import human
    from ..web import login_url

    token = human.add_annotator(store, args.name, True if args.lead else None, rotate=args.rotate)
    sys.stdout.write(login_url(token, "127.0.0.1", args.port) + "\n")
    sys.stderr.write(f"{args.name}: personal link above (shown once; only its hash is stored)\n")


def _assign(store: Any, args: argparse.Namespace) -> None:
    from ..cases import select_cells
    from ..score.assignment import assign

    cells = select_cells(args.cells) if args.cells else None
    added = assign(store, k=args.k, cells=cells)
    sys.stderr.write(f"{added} assignment(s) added\n")


def _serve(store: Any, args: argparse.Namespace) -> None:
    from ..web import serve

    store.close()
    sys.stderr.write(f"annotation app on http://{args.host}:{args.port}/ (log in with a personal link)\n")
    serve(store_path(args), host=args.host, port=args.port)


def _stats(store: Any, args: argparse.Namespace) -> None:
    from ..score.agreement import agreement_report

    print_json({cell: s.to_json() for cell, s in agreement_report(store).items()}, default=str)
