"""The report stage: one Markdown file and one self-contained HTML file from a store.

Why two files: Markdown diffs well and reads anywhere (a terminal, a pull
request); HTML shows what people would rather look at than read (a heatmap of
the 12 scores, bar charts, coloured verdicts, the pictures a case asked about)
and must open from an e-mail attachment or an air-gapped machine, so it holds
everything inline and loads nothing from the network. A Content-Security-Policy
meta tag enforces that, and allows only the one inline filter script (by hash),
so even a response that escaped the escaping could not run.

Everything shown comes from the store (its ``cases``, and the verdicts ``score.precedence`` picks) and
``fourfold.score`` (scores, provenance, robustness); the report decides nothing, it only shows:
``views`` builds the records the templates read, ``media`` embeds the pictures,
``markdown`` escapes what report.md prints, ``render`` runs the templates.
"""

from __future__ import annotations

import gc
import shlex
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..score import Ties, compute_scores
from ..score.precedence import EffectiveResult, effective_rankings, effective_results
from ..score.streaming import stream_summary
from ..score.usage import PriceTable, load_prices, usage_by_model, usage_json
from .render import render
from .views import EMPTY, Cutoff, ViewsAhead, build_context, build_summary_context, reference_summary

if TYPE_CHECKING:
    from ..store import Store


@dataclass(frozen=True)
class ReportFiles:
    """Where the report went, so callers can print or open the files."""

    markdown: Path
    html: Path


#: Past this many results (one per model and case), report.md and report.html show every score and
#: summary but not every case: the listing would be tens of megabytes no browser opens well, and
#: ``fourfold site`` pages it. At 5,000 a report.html is about 5 MB and renders in a few seconds.
INLINE_LIMIT = 5_000


def scores_json(store: Store, prices: PriceTable | None = None, ties: Ties = "mean",
                inline_limit: int = INLINE_LIMIT) -> dict[str, Any]:
    """The 12 scores per model with their chance levels, and tokens and cost per model and
    cell (``usage``), as plain JSON (``fourfold report --json``); past ``inline_limit``
    results from one streamed pass (``score.streaming``), with the same numbers."""
    prices = prices if prices is not None else load_prices()
    if store.count_latest() > inline_limit:
        summary = stream_summary(store, effective_rankings(store), prices, ties)
        return {**summary.scores.to_json(), "usage": usage_json(summary.usage, prices)}
    rows = effective_results(store)
    cases = store.cases(_case_hashes(rows))
    return {**compute_scores(rows, effective_rankings(store), ties=ties, cases=cases).to_json(),
            "usage": usage_json(usage_by_model(rows, prices), prices)}


def _case_hashes(rows: Iterable[EffectiveResult]) -> set[str]:
    return {r.case_hash for r in rows if r.case_hash}


def build_report(store: Store, out_dir: Path, *, title: str = "fourfold report",
                 prices: PriceTable | None = None, ties: Ties = "mean", inline_limit: int = INLINE_LIMIT,
                 ahead: ViewsAhead | None = None) -> ReportFiles:
    """Write ``report.md`` and ``report.html`` for the store's latest results; past
    ``inline_limit`` results, every score and table but the per-case listing, from one
    streamed pass in flat memory, and where the listing is instead (the leaderboard site).
    ``ahead``: case views a run made while it ran (``report.prepared``), used where
    they show exactly the stored results.

    The cyclic garbage collector is paused while the report is built: the views
    are hundreds of thousands of small acyclic objects (freed by reference
    counting anyway), and each collection would rescan them and everything the
    run holds, which cost a third of the report's time at 2,000 results."""
    paused = gc.isenabled()
    gc.disable()
    try:
        out_dir = Path(out_dir)
        n = store.count_latest()
        if n > inline_limit:
            context = _summary_context(store, out_dir, n, inline_limit, title=title, prices=prices, ties=ties)
        else:
            context = _full_context(store, title=title, prices=prices, ties=ties, ahead=ahead)
        return _write(context, out_dir)
    finally:
        if paused:
            gc.enable()


def _full_context(store: Store, *, title: str, prices: PriceTable | None, ties: Ties,
                  ahead: ViewsAhead | None = None) -> dict[str, Any]:
    rows = effective_results(store)
    cases = store.cases(_case_hashes(rows))
    return build_context(rows, cases, title=title, source=Path(store.path).name,
                         rankings=effective_rankings(store), prices=prices, ties=ties, ahead=ahead)


def _summary_context(store: Store, out_dir: Path, n: int, limit: int, *, title: str, prices: PriceTable | None,
                     ties: Ties) -> dict[str, Any]:
    """The report past the inline limit: a streamed pass, and a pointer to the site."""
    prices = prices if prices is not None else load_prices()
    summary = stream_summary(store, effective_rankings(store), prices, ties)
    site = out_dir / "site"
    command = f"fourfold site {shlex.quote(str(store.path))} --out {shlex.quote(str(site))}"
    link = "site/index.html" if (site / "index.html").is_file() else ""
    return build_summary_context(summary, Cutoff(n, limit, command, link), title=title,
                                 source=Path(store.path).name, prices=prices)


def _write(context: dict[str, Any], out_dir: Path) -> ReportFiles:
    markdown, html = render(context)
    out_dir.mkdir(parents=True, exist_ok=True)
    md_path, html_path = out_dir / "report.md", out_dir / "report.html"
    md_path.write_text(markdown, encoding="utf-8")
    html_path.write_text(html, encoding="utf-8")
    return ReportFiles(md_path, html_path)


__all__ = ["EMPTY", "INLINE_LIMIT", "ReportFiles", "build_context", "build_report", "reference_summary", "render", "scores_json"]
