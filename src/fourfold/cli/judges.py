"""``fourfold judges check``: the rule judges (and a judge model) measured against labelled verdicts."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .common import UsageError, console, create_backend, run_async


def add_parser(sub: Any) -> argparse.ArgumentParser:
    jd = sub.add_parser("judges", help="measure the rule judges (and a judge model) against labelled verdicts")
    jsub = jd.add_subparsers(dest="judges_command", required=True, metavar="ACTION")
    jc = jsub.add_parser("check", help="run the labelled verdict corpus: accuracy per kind, confusion, Cohen's kappa")
    jc.add_argument("--judge", metavar="SPEC", help="also a judge model, alone and deciding what rules leave unclear")
    jc.add_argument("--corpus", metavar="PATH", help="a corpus JSONL file (default: the one fourfold ships)")
    jc.add_argument("--kind", action="append", metavar="KIND", help="only this reference kind (repeatable)")
    jc.add_argument("--limit", type=int, metavar="N", help="at most N triples per kind")
    jc.add_argument("--misses", action="store_true", help="list every triple a judge got wrong")
    return jd


def handle(args: argparse.Namespace) -> int:
    from ..judge import check

    try:
        triples = check.select(check.load_corpus(Path(args.corpus)) if args.corpus else check.load_corpus(),
                               args.kind, args.limit)
    except (OSError, check.CorpusError) as e:
        raise UsageError(str(e)) from None
    if not triples:
        raise UsageError("no triples selected (see --kind)")
    out = console()
    check.print_result(out, run_async(check.check(triples)), misses=args.misses)
    if args.judge:
        backend = create_backend(args.judge, "--judge: ")

        async def both() -> tuple[Any, Any]:
            try:
                model = check.judge_model_verdicter(backend)
                alone = await check.check(triples, model, name=f"judge {args.judge}")
                return alone, await check.check(triples, check.combined_verdicter(model),
                                                name=f"rules, then judge {args.judge} where unclear or weak")
            finally:
                await backend.aclose()

        for result in run_async(both()):
            check.print_result(out, result, misses=args.misses)
    return 0
