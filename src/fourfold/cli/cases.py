"""``fourfold cases``: list, show, validate, count, generate, import and perturb cases."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .common import UsageError, console, load, print_json


def add_parser(sub: Any) -> argparse.ArgumentParser:
    c = sub.add_parser("cases", help="list, show, validate and count cases")
    csub = c.add_subparsers(dest="cases_command", required=True, metavar="ACTION")
    cl = csub.add_parser("list", help="one line per case")
    cl.set_defaults(cases_action=_list)
    cs = csub.add_parser("show", help="one case in full")
    cs.add_argument("id")
    cs.set_defaults(cases_action=_show)
    cv = csub.add_parser("validate", help="check case files; exit 2 with file:line: field: message on errors")
    cv.add_argument("paths", nargs="+", metavar="PATH")
    cv.set_defaults(cases_action=_validate)
    ct = csub.add_parser("stats", help="counts per cell, category and reference kind")
    ct.add_argument("--json", action="store_true")
    ct.set_defaults(cases_action=_stats)
    csub.add_parser("schema", help="print the case JSON Schema").set_defaults(cases_action=_schema)
    _add_generate(csub)
    _add_import(csub)
    _add_perturb(csub)
    for sp in (cl, cs, ct):
        sp.add_argument("--cases", action="append", metavar="PATH|SUITE")
        sp.add_argument("--cell", metavar="CELL", help="cell for generic {id,input,target} JSONL")
    for sp in (cl, ct):
        sp.add_argument("--cells", metavar="LIST")
    cv.add_argument("--cell", metavar="CELL", help="cell for generic {id,input,target} JSONL")
    return c


def _add_generate(csub: Any) -> None:
    cg = csub.add_parser("generate", help="write fresh procedurally generated cases with exact answers")
    cg.add_argument("--cell", metavar="CELL", help="required unless --list")
    cg.add_argument("--n", type=int, default=10, metavar="N", help="number of cases (default 10)")
    cg.add_argument("--seed", type=int, default=0)
    cg.add_argument("--out", metavar="DIR", help="required unless --list")
    cg.add_argument("--generator", action="append", metavar="NAME", help="only these generators (repeatable)")
    cg.add_argument("--list", action="store_true", help="list the generators and exit")
    cg.set_defaults(cases_action=_generate)


def _add_import(csub: Any) -> None:
    ci = csub.add_parser("import", help="map someone else's data set onto the grid")
    ci.add_argument("path", metavar="PATH")
    ci.add_argument("--format", choices=["bigbench", "humaneval", "jsonl", "csv"], help="default: detected")
    ci.add_argument("--cell", metavar="CELL")
    ci.add_argument("--map", metavar="FIELD=COLUMN,...", help="column mapping for jsonl/csv, e.g. input=question,target=answer")
    ci.add_argument("--kind", default="exact", help="reference kind for jsonl/csv (default exact)")
    ci.add_argument("--category", metavar="CATEGORY")
    ci.add_argument("--out", required=True, metavar="OUT.jsonl")
    ci.add_argument("--overwrite", action="store_true")
    ci.add_argument("--literal-choices", action="store_true",
                    help="BIG-bench: keep append_choices_to_input: false literally (default: show the options, lettered)")
    ci.set_defaults(cases_action=_import)


def _add_perturb(csub: Any) -> None:
    cp = csub.add_parser("perturb", help="derive robustness variants of image and video cases")
    cp.add_argument("--cases", action="append", metavar="PATH|SUITE")
    cp.add_argument("--cells", metavar="LIST")
    cp.add_argument("--perturbation", action="append", metavar="SPEC",
                    help="e.g. noise, rain, fog, overexpose, backlight, text_noise, blank, or noise:sigma=40+rain (repeatable)")
    cp.add_argument("--seed", type=int, default=0)
    cp.add_argument("--out", required=True, metavar="DIR")
    cp.set_defaults(cases_action=_perturb)


def handle(args: argparse.Namespace) -> int:
    return args.cases_action(args)


def _schema(args: argparse.Namespace) -> int:
    from ..cases import case_json_schema

    print_json(case_json_schema())
    return 0


def _validate(args: argparse.Namespace) -> int:
    cases = load(args.paths, args.cell)
    _verify_generated(cases)
    sys.stdout.write(f"ok: {len(cases)} cases in {len(args.paths)} source(s)\n")
    return 0


def _list(args: argparse.Namespace) -> int:
    for lc in load(args.cases, args.cell, args.cells):
        text = " ".join(lc.case.prompt_text().split())
        sys.stdout.write(f"{lc.case.id}\t{lc.case.cell}\t{lc.case.category}\t"
                         f"{lc.case.reference.summary()}\t{text[:70]}\n")
    return 0


def _show(args: argparse.Namespace) -> int:
    cases = load(args.cases, args.cell)
    for lc in cases:
        if lc.case.id == args.id:
            data = lc.case.model_dump(mode="json", exclude_none=True)
            data["_source"] = f"{lc.file}:{lc.line}"
            print_json(data, ensure_ascii=False)
            return 0
    from ..registry import with_hint

    raise UsageError(with_hint(f"no case with id {args.id!r}", args.id, [lc.case.id for lc in cases], n=3))


def _verify_generated(cases: list[Any]) -> None:
    """Re-derive every generated case's answer from its media (counting the drawn
    shapes again, re-simulating collisions...): a generator bug must not ship."""
    generated = [lc for lc in cases if (lc.case.metadata.model_extra or {}).get("generator")]
    if not generated:
        return
    from ..cases import CaseError, CaseFileError
    from ..cases.generators import verify_case

    errors = []
    for lc in generated:
        for problem in verify_case(lc.case.model_dump(mode="json"), lc.base):
            errors.append(CaseError(lc.file, lc.line, "metadata.ground_truth", problem))
    if errors:
        raise UsageError(str(CaseFileError(errors)))


def _generate(args: argparse.Namespace) -> int:
    from ..cases import CELLS
    from ..cases.generators import generate, generators

    if args.list:
        for g in generators():
            sys.stdout.write(f"{g.cell}\t{g.name}\t{'verified' if g.verify else ''}\n")
        return 0
    if not args.cell or not args.out:
        raise UsageError("cases generate needs --cell and --out (or --list)")
    if args.cell not in CELLS:
        raise UsageError(f"--cell: unknown cell {args.cell!r} (cells: {', '.join(CELLS)})")
    if args.n < 1:
        raise UsageError("--n must be at least 1")
    names = {g.name for g in generators(args.cell)}
    for g in args.generator or []:
        if g not in names:
            raise UsageError(f"--generator: no generator {g!r} for {args.cell} (has: {', '.join(sorted(names)) or 'none'})")
    from rich.progress import Progress

    try:
        with Progress(console=console(stderr=True), transient=True) as progress:
            task = progress.add_task(f"generating {args.cell}", total=args.n)
            path = generate(args.cell, args.n, args.seed, Path(args.out), only=args.generator,
                            progress=lambda k: progress.update(task, completed=k))
    except ValueError as e:
        raise UsageError(str(e)) from None
    sys.stderr.write(f"wrote {args.n} cases to {path}\n")
    return 0


def _import(args: argparse.Namespace) -> int:
    from ..cases import CaseFileError
    from ..cases.importers import import_file, parse_mapping, write_cases

    try:
        mapping = parse_mapping(args.map) if args.map else None
        cases = import_file(Path(args.path), fmt=args.format, cell=args.cell, mapping=mapping,
                            reference_kind=args.kind, category=args.category,
                            literal_choices=args.literal_choices)
        out = write_cases(cases, Path(args.out), overwrite=args.overwrite)
    except CaseFileError as e:
        raise UsageError(str(e)) from None
    except (ValueError, FileExistsError, FileNotFoundError) as e:
        raise UsageError(str(e)) from None
    sys.stderr.write(f"imported {len(cases)} cases to {out}\n")
    return 0


def _perturb(args: argparse.Namespace) -> int:
    import json

    from ..cases.media.perturb import derive_variants, parse_perturbation

    specs = args.perturbation or ["noise", "rain", "fog", "overexpose", "backlight", "text_noise"]
    for spec in specs:
        try:
            parse_perturbation(spec)
        except ValueError as e:
            raise UsageError(f"--perturbation: {e}") from None
    cases = [lc for lc in load(args.cases, None, args.cells) if lc.case.media()]
    if not cases:
        raise UsageError("no image or video case selected")
    out = Path(args.out)
    media_dir = out / "media"
    lines = []
    for lc in cases:
        data = lc.case.model_dump(mode="json", exclude_none=True)
        try:  # media resolve against the case's own folder; variants point into --out
            variants = derive_variants(data, lc.base, specs, args.seed, media_dir, relative_to=out)
        except (ValueError, OSError) as e:
            raise UsageError(f"{lc.file}:{lc.line}: {e}") from None
        lines.extend(json.dumps(v, ensure_ascii=False, sort_keys=True) for v in variants)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "cases.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    sys.stderr.write(f"wrote {len(lines)} variants of {len(cases)} cases to {path}\n")
    return 0


def _stats(args: argparse.Namespace) -> int:
    from collections import Counter, defaultdict

    cases = load(args.cases, args.cell, args.cells)
    per_cell: dict[str, Counter[str]] = defaultdict(Counter)
    per_cat: dict[str, Counter[str]] = defaultdict(Counter)
    kinds: dict[str, Counter[str]] = defaultdict(Counter)
    media: Counter[str] = Counter()
    for lc in cases:
        c = lc.case
        per_cell[c.cell]["cases"] += 1
        per_cat[c.cell][c.category] += 1
        kinds[c.cell][c.reference.kind] += 1
        for part in c.media():
            try:
                media[c.cell] += lc.media_path(part).stat().st_size
            except OSError:
                pass
    data = {cell: {"cases": per_cell[cell]["cases"], "categories": dict(per_cat[cell]),
                   "reference_kinds": dict(kinds[cell]), "media_bytes": media[cell]} for cell in per_cell}
    if args.json:
        print_json({"total": len(cases), "cells": data})
        return 0
    from rich.table import Table

    t = Table(title=f"{len(cases)} cases")
    for col in ("cell", "cases", "categories", "reference kinds", "media"):
        t.add_column(col)
    for cell, d in data.items():
        t.add_row(cell, str(d["cases"]), ", ".join(f"{k} {v}" for k, v in sorted(d["categories"].items())),
                  ", ".join(f"{k} {v}" for k, v in sorted(d["reference_kinds"].items())),
                  f"{d['media_bytes'] / 1e6:.1f} MB" if d["media_bytes"] else "")
    console().print(t)
    return 0
