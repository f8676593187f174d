"""The ``fourfold`` command. The only module that knows every stage.

Imports are deferred to the subcommand that needs them: ``fourfold run``
against an API must send its first request well within a second of launch.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

DEFAULT_OUT = "fourfold-out"
DEFAULT_SUITE = "landscape"
EXIT_BAD_INPUT = 2


class UsageError(Exception):
    """Bad input from the user: printed without a traceback, exit code 2."""


def _err(msg: str) -> None:
    sys.stderr.write(f"fourfold: error: {msg}\n")


# ----------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="fourfold", description=(
        "Evaluate LLMs and MLLMs on 4 modalities x 3 properties: 12 scores, a leaderboard, every verdict shown."))
    p.add_argument("--version", action="version", version=f"fourfold {_version()}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    r = sub.add_parser("run", help="run models on cases, judge, store, and write the report")
    r.add_argument("--model", action="append", metavar="SPEC",
                   help="model spec, repeatable (default: smollm2, the embedded model); see `fourfold models`")
    r.add_argument("--cases", action="append", metavar="PATH|SUITE",
                   help=f"case file, folder or built-in suite, repeatable (default: {DEFAULT_SUITE})")
    r.add_argument("--cell", metavar="CELL", help="cell for generic {id,input,target} JSONL, e.g. text/generalizability")
    r.add_argument("--cells", metavar="LIST", help="only these cells: e.g. text/causality,code (a modality or property selects a row or column)")
    r.add_argument("--concurrency", type=int, default=8, metavar="N", help="requests in flight per model (default 8)")
    r.add_argument("--limit", type=int, metavar="N", help="at most N cases per cell")
    r.add_argument("--store", metavar="PATH", help=f"SQLite results store (default {DEFAULT_OUT}/results.db)")
    r.add_argument("--out", metavar="DIR", default=DEFAULT_OUT, help=f"report folder (default {DEFAULT_OUT})")
    r.add_argument("--max-tokens", type=int, default=256, help="generation limit per answer (default 256)")
    r.add_argument("--temperature", type=float, default=0.0, help="default 0: greedy, as the report used")
    r.add_argument("--seed", type=int, default=1234)
    r.add_argument("--frames", type=int, default=16, help="frames sampled from a video for image models (default 16)")
    r.add_argument("--retries", type=int, default=5, metavar="N",
                   help="retries of a failed call (timeout, 429, 5xx) before the case is stored as error; "
                        "0: one attempt (default 5)")
    r.add_argument("--timeout", type=float, default=300.0, help="seconds per model call")
    r.add_argument("--max-answer-chars", type=int, default=100_000, metavar="N",
                   help="answers are stored and judged up to N characters, the rest cut and marked (default 100000)")
    r.add_argument("--no-progress", action="store_true", help="no progress bar")
    r.add_argument("--no-report", action="store_true", help="skip writing report.md/report.html")
    r.add_argument("--allow-weak-sandbox", action="store_true",
                   help="where bubblewrap does not work, run unit tests in the weak sandbox instead of leaving "
                        "them unjudged")

    rep = sub.add_parser("report", help="write report.md and report.html from a store")
    rep.add_argument("--store", metavar="PATH", help=f"default {DEFAULT_OUT}/results.db")
    rep.add_argument("--out", metavar="DIR", default=DEFAULT_OUT)
    rep.add_argument("--json", action="store_true", help="print the scores as JSON to stdout")
    for sp in (r, rep):
        g = sp.add_argument_group("judge models (decide what rules cannot)")
        g.add_argument("--judge", action="append", metavar="SPEC",
                       help="judge model spec, any backend (repeat for a majority vote), e.g. smollm2 or openai/gpt-4o")
        g.add_argument("--judge-samples", type=int, default=1, metavar="K", help="self-consistency: K samples, majority")
        g.add_argument("--judge-cell", action="append", metavar="CELL=SPEC", help="a different judge for one cell")
        g.add_argument("--judge-all", action="store_true", help="also judge cases a rule already decided")
        g.add_argument("--rank", action="store_true",
                       help="listwise ranking of all models' responses per case (relative scores from real ranks)")

    cmp_ = sub.add_parser("compare", help="pairwise comparison of two models by a judge (win/tie/loss)")
    cmp_.add_argument("model_a")
    cmp_.add_argument("model_b")
    cmp_.add_argument("--judge", required=True, metavar="SPEC")
    cmp_.add_argument("--store", metavar="PATH", help=f"default {DEFAULT_OUT}/results.db")
    cmp_.add_argument("--cells", metavar="LIST")
    cmp_.add_argument("--json", action="store_true")

    c = sub.add_parser("cases", help="list, show, validate and count cases")
    csub = c.add_subparsers(dest="cases_command", required=True, metavar="ACTION")
    cl = csub.add_parser("list", help="one line per case")
    cs = csub.add_parser("show", help="one case in full")
    cs.add_argument("id")
    cv = csub.add_parser("validate", help="check case files; exit 2 with file:line: field: message on errors")
    cv.add_argument("paths", nargs="+", metavar="PATH")
    ct = csub.add_parser("stats", help="counts per cell, category and reference kind")
    ct.add_argument("--json", action="store_true")
    csub.add_parser("schema", help="print the case JSON Schema")
    cg = csub.add_parser("generate", help="write fresh procedurally generated cases with exact answers")
    cg.add_argument("--cell", metavar="CELL", help="required unless --list")
    cg.add_argument("--n", type=int, default=10, metavar="N", help="number of cases (default 10)")
    cg.add_argument("--seed", type=int, default=0)
    cg.add_argument("--out", metavar="DIR", help="required unless --list")
    cg.add_argument("--generator", action="append", metavar="NAME", help="only these generators (repeatable)")
    cg.add_argument("--list", action="store_true", help="list the generators and exit")
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
    cp = csub.add_parser("perturb", help="derive robustness variants of image and video cases")
    cp.add_argument("--cases", action="append", metavar="PATH|SUITE")
    cp.add_argument("--cells", metavar="LIST")
    cp.add_argument("--perturbation", action="append", metavar="SPEC",
                    help="e.g. noise, rain, fog, overexpose, backlight, text_noise, blank, or noise:sigma=40+rain (repeatable)")
    cp.add_argument("--seed", type=int, default=0)
    cp.add_argument("--out", required=True, metavar="DIR")
    for sp in (cl, cs, ct):
        sp.add_argument("--cases", action="append", metavar="PATH|SUITE")
        sp.add_argument("--cell", metavar="CELL", help="cell for generic {id,input,target} JSONL")
    for sp in (cl, ct):
        sp.add_argument("--cells", metavar="LIST")
    cv.add_argument("--cell", metavar="CELL", help="cell for generic {id,input,target} JSONL")

    a = sub.add_parser("annotate", help="human judging in the browser: annotators, assignments, the web app")
    asub = a.add_subparsers(dest="annotate_command", required=True, metavar="ACTION")
    aa = asub.add_parser("add-annotator", help="create an annotator and print a personal login link")
    aa.add_argument("name")
    aa.add_argument("--lead", action="store_true", help="may settle disagreements and see agreement statistics")
    aa.add_argument("--rotate", action="store_true", help="issue a new link for an existing annotator")
    asg = asub.add_parser("assign", help="give each case to k annotators, balanced (resumable)")
    asg.add_argument("-k", type=int, default=3, help="annotators per case (default 3, as in the report)")
    asg.add_argument("--cells", metavar="LIST")
    sv = asub.add_parser("serve", help="serve the annotation app on 127.0.0.1")
    sv.add_argument("--host", default="127.0.0.1")
    asub.add_parser("stats", help="agreement statistics per cell as JSON")
    for sp in (aa, asg, sv, *asub.choices.values()):
        if not any(x.dest == "store" for x in sp._actions):
            sp.add_argument("--store", metavar="PATH", help=f"default {DEFAULT_OUT}/results.db")
    for sp in (aa, sv):
        sp.add_argument("--port", type=int, default=8765)

    jd = sub.add_parser("judges", help="measure the rule judges (and a judge model) against labelled verdicts")
    jsub = jd.add_subparsers(dest="judges_command", required=True, metavar="ACTION")
    jc = jsub.add_parser("check", help="run the labelled verdict corpus: accuracy per kind, confusion, Cohen's kappa")
    jc.add_argument("--judge", metavar="SPEC", help="also a judge model, alone and deciding what rules leave unclear")
    jc.add_argument("--corpus", metavar="PATH", help="a corpus JSONL file (default: the one fourfold ships)")
    jc.add_argument("--kind", action="append", metavar="KIND", help="only this reference kind (repeatable)")
    jc.add_argument("--limit", type=int, metavar="N", help="at most N triples per kind")
    jc.add_argument("--misses", action="store_true", help="list every triple a judge got wrong")

    m = sub.add_parser("models", help="list the backends, the embedded default and what each accepts")
    m.add_argument("--json", action="store_true")
    return p


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("fourfold")
    except Exception:
        return "0+unknown"


# ----------------------------------------------------------------- commands


def _store_path(args: argparse.Namespace) -> Path:
    return Path(args.store) if args.store else Path(args.out if hasattr(args, "out") else DEFAULT_OUT) / "results.db"


def _load(sources: list[str] | None, cell: str | None = None, cells_expr: str | None = None,
          limit: int | None = None) -> list[Any]:
    from .cases import CaseFileError, load_cases, select_cells

    try:
        cells = select_cells(cells_expr) if cells_expr else None
    except ValueError as e:
        raise UsageError(f"--cells: {e}") from None
    try:
        return load_cases(sources or [DEFAULT_SUITE], cell=cell, cells=cells, limit=limit)
    except CaseFileError as e:
        raise UsageError(str(e)) from None


def cmd_run(args: argparse.Namespace) -> int:
    from .models import DEFAULT_MODEL, GenerationSettings, ModelSpecError, PermanentError, create_backend

    if args.concurrency < 1:
        raise UsageError("--concurrency must be at least 1")
    if args.limit is not None and args.limit < 1:
        raise UsageError("--limit must be at least 1")
    if args.retries < 0:
        raise UsageError("--retries must be 0 or more")
    if args.max_answer_chars < 1:
        raise UsageError("--max-answer-chars must be at least 1")
    if not args.timeout > 0:
        raise UsageError("--timeout must be more than 0 seconds")
    specs = args.model or [DEFAULT_MODEL]
    if len(set(specs)) != len(specs):
        raise UsageError("the same --model is given twice")
    try:
        backends = [create_backend(s) for s in specs]
    except (ModelSpecError, PermanentError) as e:
        raise UsageError(str(e)) from None
    cases = _load(args.cases, args.cell, args.cells, args.limit)
    if not cases:
        raise UsageError("no cases selected")
    if any(lc.case.reference.kind == "unit_tests" for lc in cases):
        from .judge.sandbox import allow_weak_sandbox, sandbox_description

        allow_weak_sandbox(args.allow_weak_sandbox)
        print(f"unit-test sandbox: {sandbox_description()}", file=sys.stderr, flush=True)
    try:
        settings = GenerationSettings(temperature=args.temperature, max_tokens=args.max_tokens, seed=args.seed,
                                      video_frames=args.frames)
    except ValueError as e:
        raise UsageError(f"generation settings: {e}") from None

    from .run import RunConfig, Runner
    from .store import Store, StoreError, StoreWriteError

    if not args.no_report:
        _check_out_dir(Path(args.out))  # before any request is paid for
    try:
        store = Store(_store_path(args), check=True)
    except StoreError as e:
        raise UsageError(str(e)) from None
    cfg = RunConfig(concurrency=args.concurrency, retries=args.retries, timeout_s=args.timeout, settings=settings,
                    progress=not args.no_progress, max_answer_chars=args.max_answer_chars)
    runner = Runner(store, cfg)
    # The loaded cases live for the whole run: keep the cyclic GC from rescanning them on every collection.
    import gc

    gc.freeze()
    gc.enable()
    summary = None
    interrupted = False
    try:
        summary = _run_async(runner.run(cases, backends, argv=sys.argv[1:]))
    except KeyboardInterrupt:
        interrupted = True
    except PermanentError as e:
        raise UsageError(str(e)) from None
    except StoreWriteError as e:  # disk full, I/O error: what was committed stays
        store.close()
        _err(str(e))
        return 1
    if interrupted or summary is None:
        store.close()
        sys.stderr.write("\ninterrupted: finished results are saved; run the same command again to resume\n")
        return 130
    _print_summary(summary, store)
    stopped = [ms for ms in summary.models if ms.stopped]
    for ms in stopped:
        _err(f"{ms.model}: stopped, no case can succeed: {ms.stopped}")
    if args.judge:
        gc.enable()
        _judge(store, args)
    gc.disable()  # what follows (the report) runs once and exits: collecting would only cost time
    if not args.no_report:
        _write_report(store, Path(args.out))
    store.close()
    return 1 if stopped else 0


def _run_async(coro: Any) -> Any:
    """asyncio.run with SIGTERM treated like Ctrl-C, so the writer flushes."""
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


def _judge_config(args: argparse.Namespace) -> Any:
    from .cases import CELLS
    from .models import ModelSpecError, PermanentError, create_backend
    from .run.judging import JudgingConfig

    cache: dict[str, Any] = {}

    def backend(spec: str) -> Any:
        if spec not in cache:
            try:
                cache[spec] = create_backend(spec)
            except (ModelSpecError, PermanentError) as e:
                raise UsageError(f"--judge: {e}") from None
        return cache[spec]

    per_cell: dict[str, list[Any]] = {}
    for item in args.judge_cell or []:
        cell, sep, spec = item.partition("=")
        if not sep or cell not in CELLS:
            raise UsageError(f"--judge-cell {item!r}: expected CELL=SPEC with a cell such as text/causality")
        per_cell.setdefault(cell, []).append(backend(spec))
    if args.judge_samples < 1:
        raise UsageError("--judge-samples must be at least 1")
    return JudgingConfig(judges=[backend(s) for s in args.judge], cell_judges=per_cell, samples=args.judge_samples,
                         judge_all=args.judge_all, rank=args.rank)


def _judge(store: Any, args: argparse.Namespace) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from .run.judging import judge_store

    cfg = _judge_config(args)

    async def go() -> Any:
        try:
            with Progress(TextColumn("judging"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                          console=_console(stderr=True), transient=True) as progress:
                task = progress.add_task("judging", total=None)
                return await judge_store(store, cfg, progress=lambda k, n: progress.update(task, completed=k, total=n))
        finally:
            for b in {id(b): b for b in [*cfg.judges, *(x for v in cfg.cell_judges.values() for x in v)]}.values():
                await b.aclose()

    s = _run_async(go())
    sys.stderr.write(f"judge: {s.judged} judged, {s.cached} already judged, {s.failed} failed"
                     + (f", {s.ranked} cases ranked" if cfg.rank else "") + "\n")


def cmd_annotate(args: argparse.Namespace) -> int:
    from .store import Store, human

    path = _store_path(args)
    if not path.exists():
        raise UsageError(f"{path}: no such store (run `fourfold run` first, or pass --store)")
    store = Store(path)
    action = args.annotate_command
    try:
        if action == "add-annotator":
            from .web import login_url

            token = human.add_annotator(store, args.name, True if args.lead else None, rotate=args.rotate)
            sys.stdout.write(login_url(token, "127.0.0.1", args.port) + "\n")
            sys.stderr.write(f"{args.name}: personal link above (shown once; only its hash is stored)\n")
        elif action == "assign":
            from .cases import select_cells

            cells = select_cells(args.cells) if args.cells else None
            added = human.assign(store, k=args.k, cells=cells)
            sys.stderr.write(f"{added} assignment(s) added\n")
        elif action == "serve":
            from .web import serve

            store.close()
            sys.stderr.write(f"annotation app on http://{args.host}:{args.port}/ (log in with a personal link)\n")
            serve(path, host=args.host, port=args.port)
            return 0
        elif action == "stats":
            from .score.agreement import agreement_report

            json.dump(agreement_report(store), sys.stdout, indent=2, default=str)
            sys.stdout.write("\n")
    except (human.AnnotationError, ValueError) as e:
        raise UsageError(str(e)) from None
    store.close()
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from .cases import select_cells
    from .models import ModelSpecError, PermanentError, create_backend
    from .run.judging import compare_models
    from .store import Store

    path = _store_path(args)
    if not path.exists():
        raise UsageError(f"{path}: no such store")
    store = Store(path)
    try:
        judge = create_backend(args.judge)
        cells = select_cells(args.cells) if args.cells else None
    except (ModelSpecError, PermanentError, ValueError) as e:
        raise UsageError(str(e)) from None
    known = store.models()
    for m in (args.model_a, args.model_b):
        if m not in known:
            raise UsageError(f"model {m!r} is not in {path} (models: {', '.join(known)})")
    result = _run_async(compare_models(store, judge, args.model_a, args.model_b, cells=cells))
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        for cell, r in result.items():
            sys.stdout.write(f"{cell}\t{args.model_a} vs {args.model_b}\twin {r['win']:.0%}\ttie {r['tie']:.0%}"
                             f"\tloss {r['loss']:.0%}\tn={r['n']}\n")
    store.close()
    return 0


def _print_summary(summary: Any, store: Any) -> None:
    from rich.table import Table

    from .cases import CELLS

    console = _console(stderr=True)
    t = Table(title=f"run {summary.run_id}: {summary.wall_s:.1f} s")
    for col in ("model", "cell", "new", "good", "unclear", "bad", "unjudged", "not eval.", "error"):
        t.add_column(col, justify="left" if col in ("model", "cell") else "right")
    for ms in summary.models:
        for cell in CELLS:
            c = ms.by_cell.get(cell)
            if not c:
                continue
            t.add_row(ms.model, cell, str(sum(c.values())), str(c["good"]), str(c["unclear"]), str(c["bad"]),
                      str(c["unjudged"]), str(c["not_evaluated"]), str(c["error"]))
    if t.row_count:
        console.print(t)
    for ms in summary.models:
        if ms.skipped:
            console.print(f"{ms.model}: {ms.skipped} case(s) already in the store, not sent again")
        if ms.elsewhere:
            console.print(f"{ms.model}: {ms.elsewhere} case(s) answered by another run on the same store, "
                          "not sent by this one")
    errors = sum(ms.errors for ms in summary.models)
    if errors:
        console.print(f"[yellow]{errors} case(s) failed after retries and are stored as error; "
                      "run the same command again to retry them[/yellow]")


def _console(stderr: bool = False) -> Any:
    """rich console; 120 columns when not a terminal so logs keep whole cell names."""
    from rich.console import Console

    c = Console(stderr=stderr)
    return c if c.is_terminal else Console(stderr=stderr, width=120)


def _check_out_dir(out: Path) -> None:
    """``--out`` must be a folder this process can write (made if missing)."""
    import tempfile

    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as e:
        raise UsageError(f"--out {out}: cannot write the report there ({e.strerror or e})") from None


def _write_report(store: Any, out: Path) -> None:
    from .report import build_report

    _check_out_dir(out)
    try:
        files = build_report(store, out)
    except OSError as e:
        where = e.filename or out
        raise UsageError(f"--out {out}: cannot write the report ({where}: {e.strerror or e}); the results are "
                         "stored: run `fourfold report --out DIR` with a writable DIR") from None
    sys.stderr.write(f"report: {files.markdown}  {files.html}\n")


def cmd_report(args: argparse.Namespace) -> int:
    from .store import Store, StoreError

    path = _store_path(args)
    if not path.exists():
        raise UsageError(f"{path}: no such store (run `fourfold run` first, or pass --store)")
    try:  # judging writes verdicts; a plain report only reads (a read-only store is fine)
        store = Store(path, readonly=not args.judge, check=True)
    except StoreError as e:
        raise UsageError(str(e)) from None
    if args.judge:
        _judge(store, args)
    if args.json:
        from .report import scores_json

        json.dump(scores_json(store), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        _write_report(store, Path(args.out))
    store.close()
    return 0


def cmd_cases(args: argparse.Namespace) -> int:
    action = args.cases_command
    if action == "schema":
        from .cases import case_json_schema

        json.dump(case_json_schema(), sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    if action == "validate":
        cases = _load(args.paths, args.cell)
        _verify_generated(cases)
        sys.stdout.write(f"ok: {len(cases)} cases in {len(args.paths)} source(s)\n")
        return 0
    if action == "generate":
        return _cases_generate(args)
    if action == "import":
        return _cases_import(args)
    if action == "perturb":
        return _cases_perturb(args)
    cases = _load(args.cases, args.cell, getattr(args, "cells", None))
    if action == "list":
        for lc in cases:
            text = " ".join(lc.case.prompt_text().split())
            sys.stdout.write(f"{lc.case.id}\t{lc.case.cell}\t{lc.case.category}\t"
                             f"{lc.case.reference.summary()}\t{text[:70]}\n")
        return 0
    if action == "show":
        for lc in cases:
            if lc.case.id == args.id:
                data = lc.case.model_dump(mode="json", exclude_none=True)
                data["_source"] = f"{lc.file}:{lc.line}"
                json.dump(data, sys.stdout, indent=2, ensure_ascii=False)
                sys.stdout.write("\n")
                return 0
        from .registry import with_hint

        raise UsageError(with_hint(f"no case with id {args.id!r}", args.id, [lc.case.id for lc in cases], n=3))
    if action == "stats":
        return _cases_stats(cases, args.json)
    raise UsageError(f"unknown action {action}")


def _verify_generated(cases: list[Any]) -> None:
    """Re-derive every generated case's answer from its media (counting the drawn
    shapes again, re-simulating collisions...): a generator bug must not ship."""
    generated = [lc for lc in cases if (lc.case.metadata.model_extra or {}).get("generator")]
    if not generated:
        return
    from .cases import CaseError, CaseFileError
    from .cases.generators import verify_case

    errors = []
    for lc in generated:
        for problem in verify_case(lc.case.model_dump(mode="json"), lc.base):
            errors.append(CaseError(lc.file, lc.line, "metadata.ground_truth", problem))
    if errors:
        raise UsageError(str(CaseFileError(errors)))


def _cases_generate(args: argparse.Namespace) -> int:
    from .cases import CELLS
    from .cases.generators import generate, generators

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
        with Progress(console=_console(stderr=True), transient=True) as progress:
            task = progress.add_task(f"generating {args.cell}", total=args.n)
            path = generate(args.cell, args.n, args.seed, Path(args.out), only=args.generator,
                            progress=lambda k: progress.update(task, completed=k))
    except ValueError as e:
        raise UsageError(str(e)) from None
    sys.stderr.write(f"wrote {args.n} cases to {path}\n")
    return 0


def _cases_import(args: argparse.Namespace) -> int:
    from .cases import CaseFileError
    from .cases.importers import import_file, parse_mapping, write_cases

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


def _cases_perturb(args: argparse.Namespace) -> int:
    from .cases.media.perturb import derive_variants, parse_perturbation

    specs = args.perturbation or ["noise", "rain", "fog", "overexpose", "backlight", "text_noise"]
    for spec in specs:
        try:
            parse_perturbation(spec)
        except ValueError as e:
            raise UsageError(f"--perturbation: {e}") from None
    cases = [lc for lc in _load(args.cases, None, args.cells) if lc.case.media()]
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


def _cases_stats(cases: list[Any], as_json: bool) -> int:
    from collections import Counter, defaultdict

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
    if as_json:
        json.dump({"total": len(cases), "cells": data}, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    from rich.table import Table

    t = Table(title=f"{len(cases)} cases")
    for col in ("cell", "cases", "categories", "reference kinds", "media"):
        t.add_column(col)
    for cell, d in data.items():
        t.add_row(cell, str(d["cases"]), ", ".join(f"{k} {v}" for k, v in sorted(d["categories"].items())),
                  ", ".join(f"{k} {v}" for k, v in sorted(d["reference_kinds"].items())),
                  f"{d['media_bytes'] / 1e6:.1f} MB" if d["media_bytes"] else "")
    _console().print(t)
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    from .models import DEFAULT_MODEL, backend_infos

    infos = backend_infos()
    if args.json:
        json.dump({"default": DEFAULT_MODEL, "backends": [b.__dict__ for b in infos]}, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    from rich.table import Table

    t = Table(title=f"model backends (default: {DEFAULT_MODEL})")
    for col in ("spec", "accepts", "what"):
        t.add_column(col)
    for b in infos:
        t.add_row(b.syntax, b.accepts, b.description)
    _console().print(t)
    return 0


def cmd_judges(args: argparse.Namespace) -> int:
    from .judge import check

    try:
        triples = check.select(check.load_corpus(Path(args.corpus)) if args.corpus else check.load_corpus(),
                               args.kind, args.limit)
    except (OSError, check.CorpusError) as e:
        raise UsageError(str(e)) from None
    if not triples:
        raise UsageError("no triples selected (see --kind)")
    console = _console()
    check.print_result(console, _run_async(check.check(triples)), misses=args.misses)
    if args.judge:
        from .models import ModelSpecError, PermanentError, create_backend

        try:
            backend = create_backend(args.judge)
        except (ModelSpecError, PermanentError) as e:
            raise UsageError(f"--judge: {e}") from None

        async def both() -> tuple[Any, Any]:
            try:
                model = check.judge_model_verdicter(backend)
                alone = await check.check(triples, model, name=f"judge {args.judge}")
                return alone, await check.check(triples, check.combined_verdicter(model),
                                                name=f"rules, then judge {args.judge} where unclear or weak")
            finally:
                await backend.aclose()

        for result in _run_async(both()):
            check.print_result(console, result, misses=args.misses)
    return 0


COMMANDS = {"run": cmd_run, "report": cmd_report, "cases": cmd_cases, "models": cmd_models, "compare": cmd_compare,
            "annotate": cmd_annotate, "judges": cmd_judges}


def main(argv: list[str] | None = None) -> int:
    # Start-up allocates a lot and frees little (imports, loaded cases): the cyclic
    # GC would scan it all again and again. ``cmd_run`` freezes it and turns GC back on.
    import gc

    gc.disable()
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except UsageError as e:
        _err(str(e))
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        sys.stderr.write("\ninterrupted\n")
        return 130
    except BrokenPipeError:
        # `fourfold cases list | head` closes the pipe early; that's not an error.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as e:  # last: only the store's failures are turned into messages
        message = _store_failure(e, args)
        if message is None:
            raise
        _err(message)
        return EXIT_BAD_INPUT


def _store_failure(e: Exception, args: argparse.Namespace) -> str | None:
    """What to tell the user when the store fails under a command (damage found
    while reading, a write refused): the file and what to do, not a traceback."""
    import sqlite3

    from .store import StoreError, describe_error

    if isinstance(e, StoreError):
        return str(e)
    if isinstance(e, sqlite3.Error) and hasattr(args, "store"):
        return str(describe_error(_store_path(args), e, "use the store"))
    return None


if __name__ == "__main__":
    sys.exit(main())
