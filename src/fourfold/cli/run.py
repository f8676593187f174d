"""``fourfold run``: models answer cases, rules (and judge models) judge, the store keeps it, the report is written."""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .ahead import ViewFeed, view_feed
from .common import (
    DEFAULT_OUT,
    DEFAULT_SUITE,
    UsageError,
    add_inline_limit,
    check_out_dir,
    console,
    create_backend,
    err,
    run_async,
    store_path,
    write_report,
)
from .executor import add_ray_arguments, ray_backends
from .judging import add_judge_arguments, judge


def add_parser(sub: Any) -> argparse.ArgumentParser:
    r = sub.add_parser("run", help="run models on cases, judge, store, and write the report")
    r.add_argument("--model", action="append", metavar="SPEC",
                   help="model spec, repeatable (default: smollm2, the embedded model); see `fourfold models`")
    r.add_argument("--cases", action="append", metavar="PATH|SUITE",
                   help=f"case file, folder or built-in suite, repeatable (default: {DEFAULT_SUITE})")
    r.add_argument("--cell", metavar="CELL", help="cell for generic {id,input,target} JSONL, e.g. text/generalizability")
    r.add_argument("--cells", metavar="LIST", help="only these cells: e.g. text/causality,code (a modality or property selects a row or column)")
    r.add_argument("--concurrency", type=_concurrency, default=8, metavar="N|auto",
                   help="requests in flight per model (default 8); auto: adapt per model, +1 while calls succeed, "
                        "halved on 429/overload, up to --max-concurrency")
    r.add_argument("--max-concurrency", type=int, default=256, metavar="N",
                   help="ceiling for --concurrency auto (default 256)")
    r.add_argument("--rate-limit", action="append", metavar="[BACKEND=]RPM",
                   help="at most RPM requests per minute to each model (of BACKEND only, e.g. anthropic=50); repeatable")
    r.add_argument("--token-limit", action="append", metavar="[BACKEND=]TPM",
                   help="at most TPM tokens per minute to each model (of BACKEND only); repeatable")
    r.add_argument("--prices", metavar="FILE",
                   help="price table (TOML, USD per 1M tokens) for the cost column, instead of fourfold's own")
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
    add_inline_limit(r)
    r.add_argument("--allow-weak-sandbox", action="store_true",
                   help="where bubblewrap does not work, run unit tests in the weak sandbox instead of leaving "
                        "them unjudged")
    add_judge_arguments(r)
    add_ray_arguments(r)
    return r


def _concurrency(text: str) -> int | str:
    if text.strip().lower() == "auto":
        return "auto"
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is neither a number nor 'auto'") from None


def _rate_limits(args: argparse.Namespace) -> dict[str, Any]:
    """``--rate-limit``/``--token-limit`` as ``RateLimits`` by backend (``""``: every model)."""
    from ..run import RateLimits

    per: dict[str, dict[str, float]] = {}
    for flag, field, values in (("--rate-limit", "rpm", args.rate_limit), ("--token-limit", "tpm", args.token_limit)):
        for text in values or []:
            kind, _, number = text.rpartition("=")
            try:
                value = float(number)
            except ValueError:
                value = -1.0
            if not value > 0 or value == float("inf"):
                raise UsageError(f"{flag} {text!r}: expected [BACKEND=]N with N > 0 per minute, e.g. {flag} 500 "
                                 f"or {flag} anthropic=50")
            per.setdefault(kind.strip(), {})[field] = value
    if per:
        from ..models import BACKENDS

        for kind in per:
            if kind and kind not in BACKENDS:
                raise UsageError(str(BACKENDS.unknown(kind, what=f"--rate-limit/--token-limit: unknown backend {kind!r}")))
    everyone = per.get("", {})  # a backend's own limits add to, and override, those for every model
    return {kind: RateLimits(**{**everyone, **v}) for kind, v in per.items()}


def _check_numbers(args: argparse.Namespace) -> None:
    if args.concurrency != "auto" and args.concurrency < 1:
        raise UsageError("--concurrency must be at least 1, or auto")
    if args.max_concurrency < 1:
        raise UsageError("--max-concurrency must be at least 1")
    if args.limit is not None and args.limit < 1:
        raise UsageError("--limit must be at least 1")
    if args.retries < 0:
        raise UsageError("--retries must be 0 or more")
    if args.max_answer_chars < 1:
        raise UsageError("--max-answer-chars must be at least 1")
    if not args.timeout > 0:
        raise UsageError("--timeout must be more than 0 seconds")
    _rate_limits(args)
    if args.prices:  # the user's table is checked before anything is sent; the packaged one is read at the end
        _prices(args)


def _prices(args: argparse.Namespace) -> Any:
    """The price table (``--prices`` or the packaged one); a bad file is a usage error."""
    from ..score.usage import PriceFileError, load_prices

    try:
        return load_prices(args.prices)
    except PriceFileError as e:
        raise UsageError(f"--prices: {e}") from None


def _prepare(args: argparse.Namespace) -> tuple[list[Any], list[Any], Any]:
    """Everything checked before the store is opened: the backends, the cases, the settings."""
    from ..models import DEFAULT_MODEL, GenerationSettings

    _check_numbers(args)
    specs = args.model or [DEFAULT_MODEL]
    if len(set(specs)) != len(specs):
        raise UsageError("the same --model is given twice")
    backends = [create_backend(s) for s in specs]
    cases = _open_cases(args)
    if not len(cases):
        raise UsageError("no cases selected")
    if "unit_tests" in cases.kinds:
        from ..judge.sandbox import allow_weak_sandbox, sandbox_description

        allow_weak_sandbox(args.allow_weak_sandbox)
        print(f"unit-test sandbox: {sandbox_description()}", file=sys.stderr, flush=True)
    try:
        settings = GenerationSettings(temperature=args.temperature, max_tokens=args.max_tokens, seed=args.seed,
                                      video_frames=args.frames)
    except ValueError as e:
        raise UsageError(f"generation settings: {e}") from None
    return backends, cases, settings


def _open_cases(args: argparse.Namespace) -> Any:
    """The cases as a ``CaseSource``: every record checked now, before anything is
    sent, then read again lazily as the run reaches them (memory stays flat)."""
    from ..cases import CaseFileError, select_cells
    from ..cases.stream import open_cases

    try:
        cells = select_cells(args.cells) if args.cells else None
    except ValueError as e:
        raise UsageError(f"--cells: {e}") from None
    try:
        return open_cases(args.cases or [DEFAULT_SUITE], cell=args.cell, cells=cells, limit=args.limit)
    except CaseFileError as e:
        raise UsageError(str(e)) from None


def handle(args: argparse.Namespace) -> int:
    from ..cases import CaseFileError
    from ..models import PermanentError

    backends, cases, settings = _prepare(args)
    backends = ray_backends(args, backends)

    from ..run import RunConfig, Runner
    from ..store import Store, StoreError, StoreWriteError

    if not args.no_report:
        check_out_dir(Path(args.out))  # before any request is paid for
    try:
        store = Store(store_path(args), check=True)
    except StoreError as e:
        raise UsageError(str(e)) from None
    auto = args.concurrency == "auto"
    cfg = RunConfig(concurrency=8 if auto else args.concurrency, retries=args.retries, timeout_s=args.timeout,
                    settings=settings, progress=not args.no_progress, max_answer_chars=args.max_answer_chars,
                    adaptive=auto, max_concurrency=args.max_concurrency, rate_limits=_rate_limits(args))
    ahead = view_feed(args, backends, cases)
    runner = Runner(store, cfg, on_stored=_on_stored(_warm_finish(not args.no_report), ahead))
    # What start-up loaded lives for the whole run: keep the cyclic GC from rescanning it on every collection.
    import gc

    gc.freeze()
    gc.enable()
    summary = None
    interrupted = False
    try:
        summary = run_async(runner.run(cases, backends, argv=sys.argv[1:]))
    except KeyboardInterrupt:
        interrupted = True
    except (PermanentError, CaseFileError) as e:  # a case file changed under the run
        raise UsageError(str(e)) from None
    except StoreWriteError as e:  # disk full, I/O error: what was committed stays
        store.close()
        err(str(e))
        return 1
    if interrupted or summary is None:
        store.close()
        sys.stderr.write("\ninterrupted: finished results are saved; run the same command again to resume\n")
        return 130
    return _finish(args, store, summary, ahead)


#: The interpreter's switch interval while the warm-up thread imports: an answer arriving
#: meanwhile waits at most this long for the event loop (5 ms by default).
SWITCH_S = 0.0005


def _on_stored(warm: threading.Thread, ahead: ViewFeed | None) -> Callable[[list[Any]], None]:
    """The runner's ``on_stored``: the first commit starts ``warm``, once the first
    requests are out (started before them, its imports competed with theirs for the
    interpreter: 0.09 s more from launch to the first request); every commit goes to
    ``ahead``, which makes the report's case views while the models answer."""

    def on_stored(rows: list[Any]) -> None:
        if warm.ident is None:
            warm.start()
        if ahead is not None:
            ahead.add(rows)

    return on_stored


def _warm_finish(report: bool) -> threading.Thread:
    """A thread (not started) that loads what the end of the run needs (the summary's
    tables; the report's code and templates) while the models answer (the process
    mostly waits on the network then), so the end does not pay for it: rich's tables
    alone are 30 ms when no progress bar loaded rich. Any failure is left for the end
    to raise and explain."""

    def warm() -> None:
        interval = sys.getswitchinterval()
        sys.setswitchinterval(SWITCH_S)
        try:
            import rich.table  # noqa: F401

            from ..score import usage  # noqa: F401
            if report:
                from ..report import prepared  # noqa: F401 -- what ViewFeed waits for
                from ..report.render import warm as load_templates  # imports the whole report package

                load_templates()
        except Exception:  # noqa: BLE001, S110 -- the end reports it
            pass
        finally:
            sys.setswitchinterval(interval)

    return threading.Thread(target=warm, name="fourfold-warm-finish", daemon=True)


def _finish(args: argparse.Namespace, store: Any, summary: Any, ahead: ViewFeed | None = None) -> int:
    """After the answers: the summary, the judge pass, the report; 1 if a model was stopped."""
    import gc

    _print_summary(summary, _prices(args), args.max_tokens)
    stopped = [ms for ms in summary.models if ms.stopped]
    for ms in stopped:
        err(f"{ms.model}: stopped, no case can succeed: {ms.stopped}")
    if args.judge:
        gc.enable()
        judge(store, args)
    gc.disable()  # what follows (the report) runs once and exits: collecting would only cost time
    if not args.no_report:
        write_report(store, Path(args.out), _prices(args), inline_limit=args.inline_limit,
                     ahead=ahead.prepared if ahead is not None else None)
    store.close()
    return 1 if stopped else 0


def _print_summary(summary: Any, prices: Any, max_tokens: int) -> None:
    from rich.table import Table

    from ..cases import CELLS

    out = console(stderr=True)
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
        out.print(t)
        _print_usage(out, summary, prices)
    for ms in summary.models:
        if ms.skipped:
            out.print(f"{ms.model}: {ms.skipped} case(s) already in the store, not sent again")
        if ms.elsewhere:
            out.print(f"{ms.model}: {ms.elsewhere} case(s) answered by another run on the same store, "
                      "not sent by this one")
        if ms.cut:
            out.print(f"{ms.model}: {ms.cut} answer(s) stopped at the token limit (--max-tokens "
                      f"{max_tokens}) and were judged as cut; the report marks them")
    errors = sum(ms.errors for ms in summary.models)
    if errors:
        out.print(f"[yellow]{errors} case(s) failed after retries and are stored as error; "
                  "run the same command again to retry them[/yellow]")



def _print_usage(out: Any, summary: Any, prices: Any) -> None:
    """The summary's second table: this run's tokens and their cost per model and cell
    (a model's total too when it ran in more than one cell); then what priced each
    model, and where ``--concurrency auto`` settled."""
    from rich.table import Table

    from ..cases import CELLS
    from ..score.usage import cell_cost, format_tokens, format_usd

    t = Table(title="tokens and cost of this run's answers")
    for col in ("model", "cell", "prompt tokens", "completion tokens", "cost"):
        t.add_column(col, justify="left" if col in ("model", "cell") else "right")
    for ms in summary.models:
        price = prices.price(ms.model)
        cells = [c for c in CELLS if c in ms.by_cell]
        for cell in cells:
            p, q = ms.prompt_tokens.get(cell), ms.completion_tokens.get(cell)
            t.add_row(ms.model, cell, format_tokens(p), format_tokens(q), format_usd(cell_cost(price, p, q)))
        if len(cells) > 1:
            p = sum(ms.prompt_tokens.values()) if ms.prompt_tokens else None
            q = sum(ms.completion_tokens.values()) if ms.completion_tokens else None
            t.add_row(ms.model, "all cells", format_tokens(p), format_tokens(q), format_usd(cell_cost(price, p, q)),
                      style="bold")
    out.print(t)
    for ms in summary.models:
        price = prices.price(ms.model)
        if price is None:
            out.print(f"{ms.model}: cost unknown: not in the {prices.source} price table (--prices FILE)")
        elif not price.free:
            out.print(f"{ms.model}: priced as {price.matched} (USD {price.input_per_m:g} in / "
                      f"{price.output_per_m:g} out per 1M tokens; {prices.source} table of {prices.as_of or '?'})")
        a = ms.adaptive
        if a is not None and a.ceiling > 1:
            out.print(f"{ms.model}: --concurrency auto ended at {a.limit} (peak {a.peak}, halved {a.cuts} time(s))")
