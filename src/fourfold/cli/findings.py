"""``fourfold findings STORE...``: the conclusions the results support, tested, and what they cannot tell.

Markdown by default (it reads in a terminal and pastes into a paper draft or a
pull request), ``--json`` for machines. The statistics live in
``score.findings``; this module only reads the stores and prints.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .common import UsageError, print_json

if TYPE_CHECKING:
    from ..score.collection import Collection
    from ..score.findings import Finding, Findings

#: Case ids a Markdown line names before "(+N more)"; the JSON has them all.
_SHOWN_CASES = 8


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser("findings", help="claims the results support (paired tests, Holm-corrected), and what "
                                        "they cannot tell")
    p.add_argument("stores", nargs="+", metavar="STORE", help="result stores (results.db) to read together")
    p.add_argument("--json", action="store_true", help="print the findings as JSON")
    p.add_argument("--alpha", type=float, default=0.05, help="family-wise error rate (Holm); default 0.05")
    p.add_argument("--min-n", type=int, default=5, metavar="N",
                   help="do not test comparisons over fewer than N cases; default 5")
    p.add_argument("--disagreement", type=float, default=0.2, metavar="SHARE",
                   help="name cells where people overturned more than this share of automatic verdicts; default 0.2")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of the sampled bootstrap, used only for differences that are not multiples of 1/2 "
                        "(verdict differences always are: their interval is the exact bootstrap); default 0")
    return p


def _check(args: argparse.Namespace) -> None:
    if not 0 < args.alpha < 1:
        raise UsageError(f"--alpha {args.alpha:g}: must be between 0 and 1 (e.g. --alpha 0.05)")
    if args.min_n < 1:
        raise UsageError(f"--min-n {args.min_n}: must be at least 1 (e.g. --min-n 5)")
    if not 0 <= args.disagreement < 1:
        raise UsageError(f"--disagreement {args.disagreement:g}: must be a share in [0, 1) (e.g. 0.2)")
    for s in args.stores:
        if not Path(s).is_file():
            raise UsageError(f"{s}: no such store (give the results.db a `fourfold run` wrote)")


def handle(args: argparse.Namespace) -> int:
    _check(args)
    from ..score.collection import collect
    from ..score.findings import find
    from ..store import StoreError

    try:
        col = collect(args.stores)
    except StoreError as e:
        raise UsageError(str(e)) from None
    found = find(col.results, col.cases, alpha=args.alpha, min_n=args.min_n, seed=args.seed,
                 disagreement=args.disagreement)
    if args.json:
        print_json({"stores": [s.path for s in col.sources], "models": col.models, "results": len(col.results),
                    **found.to_json()})
    else:
        sys.stdout.write(markdown(found, col))
    return 0


def _line(f: Finding) -> str:
    """One finding as a Markdown list item. Model names, categories and case ids come from
    model specs and case files (untrusted): escaped so a Markdown renderer shows them as text."""
    from ..report.markdown import md_inline

    shown = ", ".join(md_inline(c) for c in f.cases[:_SHOWN_CASES])
    more = f" (+{len(f.cases) - _SHOWN_CASES} more)" if len(f.cases) > _SHOWN_CASES else ""
    return f"- {md_inline(f.statement)}" + (f" Cases: {shown}{more}." if shown else "") + "\n"


def markdown(found: Findings, col: Collection) -> str:
    """The findings as Markdown: how they were tested, the claims, what cannot be told, what is described."""
    head = (f"# Findings\n\n{len(col.sources)} store(s), {len(col.models)} model(s), {len(col.results)} results. "
            f"Paired exact sign (McNemar) tests on per-case verdicts, Holm-corrected over {found.tests} test(s) "
            f"at alpha={found.alpha:g}; 95% paired bootstrap intervals (exact: every resample of the cases); comparisons over "
            f"fewer than {found.min_n} cases are not tested.\n")
    parts = [head]
    for title, items, empty in (
            ("Claims the data supports", found.claims, "None: no difference or level survived the correction."),
            ("Cannot tell", found.cannot_tell, "Nothing."),
            ("Described (not tested)", found.described, "Nothing to describe.")):
        parts.append(f"\n## {title}\n\n" + ("".join(_line(f) for f in items) if items else f"{empty}\n"))
    return "".join(parts)
