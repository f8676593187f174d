"""The report's view records: everything the two templates show, computed and
formatted once from the scores, the effective results and the stored cases.

Plain dataclasses; all formatting decisions live here so the Markdown and the
HTML template agree and stay simple (and fast: no per-row filters). A cell with
no judged case is empty ("—"), never 0: "not measured" and "measured and failed"
must not look alike.
"""

from __future__ import annotations

import re
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol

from ..cases.schema import (
    Case,
    ImagePart,
    Reference,
    TextPart,
)
from ..cases.taxonomy import CELLS, MODALITIES, PROPERTIES
from ..judge.verdict import ALL, JUDGED, Verdict
from ..models.base import PLAIN_STOP_REASONS, TOKEN_LIMIT_REASONS
from ..score import CellScore, Scores, Ties, compute_scores
from ..score.precedence import EffectiveResult
from ..score.provenance import Provenance, verdict_provenance
from ..score.robustness import RobustnessCost, robustness_costs
from ..score.streaming import Summary
from ..score.usage import ModelUsage, PriceTable, format_tokens, format_usd, load_prices, usage_by_model
from ..secrets import redact
from .markdown import Md, fence_for, md_inline, md_quote, segments
from .media import MediaEmbedder

if TYPE_CHECKING:
    from ..store.records import StoredCase

EMPTY = "—"
VERDICT_EMOJI: dict[str, str] = {Verdict.GOOD: "🟢", Verdict.BAD: "🔴", Verdict.UNCLEAR: "🔵"}
OTHER_EMOJI = "⚪"
VERDICT_LABEL: dict[str, str] = {v: v.replace("_", " ") for v in ALL}
PROPERTY_COLOURS: dict[str, str] = {
    "generalizability": "#6366f1", "trustworthiness": "#0891b2", "causality": "#d97706",
}


@dataclass(slots=True)
class GridCell:
    """One of a model's 12 cells, already formatted."""

    cell: str
    empty: bool
    score: str
    n: int
    ci: str
    rel: str
    rel_title: str
    style: str
    note: str
    md: str
    chance: str = ""  # what guessing scores on these cases ("" when nothing was judged)


@dataclass(slots=True)
class ModelGrid:
    model: str
    rows: list[tuple[str, list[GridCell]]]


@dataclass(slots=True)
class Bar:
    """One rectangle of a leaderboard's SVG chart (geometry computed in Python)."""

    x: float
    y: float
    width: float
    height: float
    colour: str
    label: str
    label_x: float
    title: str


@dataclass(slots=True)
class LeaderRow:
    rank: str
    model: str
    values: list[str]
    mean: str


@dataclass(slots=True)
class Chart:
    width: int
    height: int
    labels: list[tuple[float, str, str]]  # (y, shown text, full name)
    bars: list[Bar]
    axis_x: float
    axis_w: float


@dataclass(slots=True)
class Leaderboard:
    modality: str
    kind: str
    note: str
    rows: list[LeaderRow]
    chart: Chart | None
    #: What each column's number is over ("causality: ranked among 2 models over 5 shared cases").
    columns: list[str] = field(default_factory=list)
    #: What the mean is over: only the columns every ranked model has a score in.
    mean_note: str = ""


@dataclass(slots=True)
class PromptPart:
    kind: str  # text | image | video
    text: str = ""
    src: str | None = None  # data: URL for embedded images
    path: str = ""


@dataclass(slots=True)
class PromptMessage:
    role: str
    parts: list[PromptPart]


@dataclass(slots=True)
class ResultView:
    model: str
    verdict: str
    label: str
    emoji: str
    css: str
    rationale: str
    rationale_md: str
    judge: str
    response: str | None
    segments: list[tuple[str, str]]
    fence: str
    error: str
    meta: str


@dataclass(slots=True)
class CaseView:
    anchor: str
    case_id: str
    cell: str
    category: str
    messages: list[PromptMessage]
    prompt_md: str
    reference: str
    results: list[ResultView]


@dataclass(slots=True)
class CellGroup:
    cell: str
    anchor: str
    cases: list[CaseView] = field(default_factory=list)


@dataclass(slots=True)
class VerdictSummary:
    model: str
    counts: list[int]
    total: int


# --------------------------------------------------------------- formatting


def _fmt(x: float | None) -> str:
    return EMPTY if x is None else f"{x:.1f}"


def _heat_style(score: float | None) -> str:
    """Red (0) through yellow (50) to green (100); grey when nothing was judged."""
    if score is None:
        return "background:#e5e7eb;color:#6b7280"
    return f"background:hsl({score * 1.2:.0f},70%,78%)"


def _grid_cell(cell: str, cs: CellScore) -> GridCell:
    unjudged = sum(v for k, v in cs.counts.items() if k not in JUDGED)
    note = f"{unjudged} without verdict" if unjudged else ""
    if not cs.n or cs.absolute is None:
        return GridCell(cell, True, EMPTY, 0, "", "", "", _heat_style(None), note, EMPTY)
    ci = f"{cs.ci95[0]:.1f}–{cs.ci95[1]:.1f}" if cs.ci95 else ""
    rel = _fmt(cs.relative) if cs.relative is not None else ""
    rel_title = (f"relative: rank among {cs.relative_n_models} models over {cs.relative_n_cases} shared cases"
                 if cs.relative is not None else "")
    chance = _fmt(cs.chance) if cs.chance is not None else ""
    md = (f"{cs.absolute:.1f} (n={cs.n}" + (f"; 95% CI {ci}" if ci else "") + (f"; rel {rel}" if rel else "")
          + (f"; chance {chance}" if chance else "") + ")")
    return GridCell(cell, False, f"{cs.absolute:.1f}", cs.n, ci, rel, rel_title, _heat_style(cs.absolute), note, md,
                    chance)


def _model_grids(scores: Scores) -> list[ModelGrid]:
    out = []
    for m in scores.models:
        rows = [(mod, [_grid_cell(f"{mod}/{p}", scores.table[m][f"{mod}/{p}"]) for p in PROPERTIES])
                for mod in MODALITIES]
        out.append(ModelGrid(m, rows))
    return out


def _chart(rows: list[tuple[str, list[float | None]]]) -> Chart:
    """Grouped horizontal bars: one group per model, one bar per property."""
    label_w, bar_w, value_w = 170.0, 300.0, 48.0
    bar_h, gap, group_gap, top = 9.0, 2.0, 10.0, 4.0
    group_h = len(PROPERTIES) * (bar_h + gap) - gap
    labels: list[tuple[float, str, str]] = []
    bars: list[Bar] = []
    y = top
    for model, values in rows:
        short = model if len(model) <= 24 else model[:23] + "…"
        labels.append((y + group_h / 2 + 4, short, model))
        for i, (p, v) in enumerate(zip(PROPERTIES, values, strict=True)):
            by = y + i * (bar_h + gap)
            w = 0.0 if v is None else max(bar_w * v / 100, 1.0)
            bars.append(Bar(label_w, by, w, bar_h, PROPERTY_COLOURS[p], _fmt(v), label_w + w + 4,
                            f"{model} · {p}: {_fmt(v)}"))
        y += group_h + group_gap
    return Chart(int(label_w + bar_w + value_w), int(y - group_gap + top), labels, bars, label_w, bar_w)


_RELATIVE_NOTE = ("relative scores: in each column, each model's mean rank among the models judged in that cell, "
                  "over the cases all of them answered, mapped to 0–100 (100 = best of those models; not comparable "
                  "across model sets)")
_TIES_NOTE = {"mean": "tied responses share the mean of their ranks (--ties mean)",
              "min": "tied responses all take the best of their ranks (--ties min)"}
_ABSOLUTE_NOTE = ("absolute scores (share of judged cases that are good, unclear counting half): "
                  "fewer than two models were judged here, so there is nothing to rank against")


def _leaderboards(scores: Scores) -> list[Leaderboard]:
    """One table per modality. Relative scores are what the source report
    ranks by, but they need at least two models judged in the modality;
    otherwise absolute scores, and the table says which it shows.

    The mean a model is ranked by covers only the columns *every* ranked
    model has a score in: a mean over three cells next to a mean over two
    compares different things, and a column ranked among fewer models is on
    a different scale. Each column says how many models it ranks and over
    how many cases, and the mean says which columns it averages.
    """
    out = []
    for mod in MODALITIES:
        cells = [f"{mod}/{p}" for p in PROPERTIES]
        judged = [m for m in scores.models if any(scores.table[m][c].n for c in cells)]
        if not judged:
            out.append(Leaderboard(mod, "absolute", "", [], None))
            continue
        kind = "relative" if len(judged) >= 2 else "absolute"
        note = _RELATIVE_NOTE if kind == "relative" else _ABSOLUTE_NOTE
        shared = [c for c in cells if all(getattr(scores.table[m][c], kind) is not None for m in judged)]
        entries: list[tuple[str, list[float | None], float | None]] = []
        for m in scores.models:
            vals = [getattr(scores.table[m][c], kind) for c in cells]
            mean = (sum(getattr(scores.table[m][c], kind) for c in shared) / len(shared)
                    if shared and m in judged else None)
            entries.append((m, vals, mean))
        entries.sort(key=lambda e: (e[2] is None, -(e[2] or 0.0), e[0]))
        rows = [LeaderRow(str(i + 1) if mean is not None else EMPTY, m, [_fmt(v) for v in vals], _fmt(mean))
                for i, (m, vals, mean) in enumerate(entries)]
        out.append(Leaderboard(mod, kind, note, rows, _chart([(m, vals) for m, vals, _ in entries]),
                               _column_notes(scores, cells, judged, kind), _mean_note(cells, shared, judged, kind)))
    return out


def _column_notes(scores: Scores, cells: list[str], judged: list[str], kind: str) -> list[str]:
    """Per column: how many models its numbers rank (relative) or how many cases they cover (absolute)."""
    notes = []
    for c in cells:
        prop = c.split("/", 1)[1]
        have = [scores.table[m][c] for m in judged if getattr(scores.table[m][c], kind) is not None]
        if not have:
            alone = kind == "relative" and any(scores.table[m][c].n for m in judged)
            notes.append(f"{prop}: not ranked (only one model judged)" if alone else f"{prop}: {EMPTY} (no score)")
        elif kind == "relative":
            notes.append(f"{prop}: ranked among {have[0].relative_n_models} of the {len(judged)} models "
                         f"over {have[0].relative_n_cases} shared case(s)")
        else:
            notes.append(f"{prop}: {have[0].n} judged case(s)")
    return notes


def _mean_note(cells: list[str], shared: list[str], judged: list[str], kind: str) -> str:
    props = [c.split("/", 1)[1] for c in shared]
    left = [c.split("/", 1)[1] for c in cells if c not in shared]
    who = "the model has" if len(judged) == 1 else f"all {len(judged)} models have"
    if not shared:
        return (f"no column has a score for every one of the {len(judged)} models, so they are not ranked "
                "on one mean (compare them column by column)")
    text = f"mean of the {kind} scores over {', '.join(props)} ({len(props)} of {len(cells)} columns: those {who})"
    if left:
        text += f"; {', '.join(left)} left out of the mean"
    return text


def reference_summary(ref: Reference | None) -> str:
    """A one-line description of what counts as a good answer (the kind's ``summary()``)."""
    return "(no reference)" if ref is None else ref.summary()


def _messages(case: Case | None, base: str | None, media: MediaEmbedder, answered: bool = False
              ) -> tuple[list[PromptMessage], str]:
    """The prompt as the HTML and Markdown reports show it; ``case``: the stored case,
    validated (None: not in the store), whose media paths resolve against ``base``."""
    if case is None:
        return [PromptMessage("user", [PromptPart("text", "(case not in store)")])], "> (case not in store)"
    msgs: list[PromptMessage] = []
    md_lines: list[str] = []
    for msg in case.input:
        parts: list[PromptPart] = []
        md: list[str] = []
        for p in msg.content:
            if isinstance(p, TextPart):
                parts.append(PromptPart("text", p.text))
                md.append(p.text)
                continue
            if isinstance(p, ImagePart):
                src = media.src(base, p.path)
            else:  # a clip a model saw: show its frames (decoded once, cached, shared with the run)
                src = media.video_grid(base, p.path, p.sha256) if answered else None
            parts.append(PromptPart(p.type, "", src, p.path))
            md.append(Md(f"[{p.type}: {md_inline(p.path)}]"))  # brackets with no link after them: text
        msgs.append(PromptMessage(msg.role, parts))
        quoted = md_quote(md)
        if len(case.input) > 1 or msg.role != "user":
            quoted = Md(f"> **{md_inline(msg.role)}:**\n" + quoted)
        md_lines.append(quoted)
    return msgs, Md("\n>\n".join(md_lines))


def _result_view(r: EffectiveResult, code_cell: bool) -> ResultView:
    v = r.verdict or Verdict.UNJUDGED
    response = r.response
    # the store redacts responses and errors, not rationales (a judge model may quote a key)
    rationale = redact(r.rationale) if r.rationale else ""
    error = r.error or ""
    meta = []
    if r.served_model:  # the server's words: redacted (the store does too) and kept short
        meta.append(f"served: {redact(str(r.served_model))[:200]}")
    if r.latency_s is not None:
        meta.append(f"{r.latency_s:.1f} s")
    if r.finish_reason in TOKEN_LIMIT_REASONS:
        meta.append("cut at the token limit")
    elif r.finish_reason and r.finish_reason not in PLAIN_STOP_REASONS:  # a safety stop, a cancelled call: the server's words
        meta.append(f"stopped: {redact(r.finish_reason)[:40]}")
    if r.status and r.status != "ok":
        meta.append(f"status: {r.status}")
    return ResultView(
        model=r.model, verdict=v, label=VERDICT_LABEL.get(v, v), emoji=VERDICT_EMOJI.get(v, OTHER_EMOJI),
        css=f"v-{v}" if v in VERDICT_EMOJI else "v-other",
        rationale=rationale, rationale_md=md_inline(rationale), judge=r.verdict_by or r.judge or "",
        response=response, segments=segments(response, code_cell) if response else [],
        fence=fence_for(response) if response else "```", error=error, meta=" · ".join(meta),
    )


def case_view(anchor: str, rs: Sequence[EffectiveResult], case: Case | None, base: str | None,
              media: MediaEmbedder) -> CaseView:
    """One case as both reports list it: its prompt and reference, then ``rs`` (its
    results, in the models' order). ``case`` None: the case is not in the store."""
    msgs, prompt_md = _messages(case, base, media, answered=any(r.status == "ok" for r in rs))
    cell = rs[0].cell
    return CaseView(
        anchor=anchor, case_id=rs[0].case_id, cell=cell, category=rs[0].category,
        messages=msgs, prompt_md=prompt_md,
        reference=reference_summary(case.reference if case is not None else None),
        results=[_result_view(r, cell.startswith("code/")) for r in rs],
    )


class ViewsAhead(Protocol):
    """Case views made before the report (``report.prepared``): one is used only for
    the very results it was made from."""

    def view(self, cell: str, case_id: str, rs: Sequence[EffectiveResult]) -> CaseView | None: ...


def _case_groups(rows: Sequence[EffectiveResult], cases: dict[str, StoredCase],
                 models: list[str], ahead: ViewsAhead | None = None) -> list[CellGroup]:
    by_case: dict[tuple[str, str], list[EffectiveResult]] = defaultdict(list)
    for r in rows:
        by_case[(r.cell, r.case_id)].append(r)
    order = {m: i for i, m in enumerate(models)}
    media = MediaEmbedder()
    groups = {c: CellGroup(c, "cell-" + c.replace("/", "-")) for c in CELLS}
    extra: dict[str, CellGroup] = {}
    n = 0
    for (cell, case_id), rs in sorted(by_case.items()):
        rs.sort(key=lambda r: order.get(r.model, len(order)))
        n += 1
        stored = next((cases[r.case_hash] for r in rs if r.case_hash in cases), None)
        view = ahead.view(cell, case_id, rs) if ahead is not None and stored is not None else None
        if view is not None:
            view = replace(view, anchor=f"case-{n}")
        else:
            valid = stored.valid_case() if stored is not None else None
            view = case_view(f"case-{n}", rs, valid, stored.media_base if stored is not None else None, media)
        group = groups.get(cell) or extra.setdefault(cell, CellGroup(cell, "cell-" + re.sub(r"\W", "-", cell)))
        group.cases.append(view)
    return [g for g in [*groups.values(), *extra.values()] if g.cases]


def _verdict_summary(scores: Scores) -> list[VerdictSummary]:
    out = []
    for m in scores.models:
        counts = [sum(scores.table[m][c].counts.get(v, 0) for c in scores.table[m]) for v in ALL]
        out.append(VerdictSummary(m, counts, sum(counts)))
    return out


@dataclass(slots=True)
class ProvenanceRow:
    model: str
    cell: str
    rule: int
    judge: int
    human: int
    agreement: str  # judge/rule vs people where people judged: "acc 0.80, kappa 0.55 (n=10)" or ""


def _provenance(rows: Sequence[EffectiveResult], scores: Scores) -> list[ProvenanceRow]:
    """``score.provenance`` as the table shows it."""
    return _provenance_rows(verdict_provenance(rows, scores))


def _provenance_rows(provenance: Sequence[Provenance]) -> list[ProvenanceRow]:
    out = []
    for p in provenance:
        agreement = ""
        if p.n_pairs and p.accuracy is not None:
            kappa = f", κ {p.kappa:.2f}" if p.kappa is not None else ""
            agreement = f"acc {p.accuracy:.2f}{kappa} (n={p.n_pairs})"
        out.append(ProvenanceRow(p.model, p.cell, p.rule, p.judge, p.human, agreement))
    return out


@dataclass(slots=True)
class RobustnessRow:
    model: str
    perturbation: str
    n: int
    original: str
    perturbed: str
    delta: str
    worse: bool


def _robustness(rows: Sequence[EffectiveResult], cases: dict[str, StoredCase]) -> list[RobustnessRow]:
    """``score.robustness`` as the table shows it."""
    return _robustness_rows(robustness_costs(rows, cases))


def _robustness_rows(costs: Sequence[RobustnessCost]) -> list[RobustnessRow]:
    return [RobustnessRow(c.model, c.perturbation, c.n, f"{c.original:.1f}", f"{c.perturbed:.1f}", f"{c.delta:+.1f}",
                          c.perturbed < c.original)
            for c in costs]


@dataclass(slots=True)
class UsageRow:
    model: str
    cell: str  # "all cells" on a model's total row
    results: int
    prompt: str
    completion: str
    cost: str
    total: bool


@dataclass(slots=True)
class UsageView:
    """The usage and cost table, what each model was priced as, and which table priced it."""

    rows: list[UsageRow]
    priced_as: list[str]
    table: str


def _usage(rows: Sequence[EffectiveResult], prices: PriceTable) -> UsageView:
    """``score.usage`` as the table shows it: a row per model and cell, then the model's
    total; only the total where every cell would say "unknown", only the cell where there is one."""
    return _usage_view(usage_by_model(rows, prices), prices)


def _usage_view(usage: Sequence[ModelUsage], prices: PriceTable) -> UsageView:
    out: list[UsageRow] = []
    priced_as = []
    for mu in usage:
        t = mu.total
        nothing = t.prompt_tokens is None and t.completion_tokens is None and t.cost_usd is None
        for u in [t] if nothing else mu.cells if len(mu.cells) == 1 else [*mu.cells, t]:
            out.append(UsageRow(u.model, u.cell or "all cells", u.results, format_tokens(u.prompt_tokens),
                                format_tokens(u.completion_tokens), format_usd(u.cost_usd, u.partial), not u.cell))
        p = mu.price
        priced_as.append(f"{mu.model}: unknown (not in the price table)" if p is None else
                         f"{mu.model}: {p.matched}, USD {p.input_per_m:g} in / {p.output_per_m:g} out per 1M tokens")
    table = prices.source + (f", as of {prices.as_of}" if prices.as_of else "") + (f"; {prices.note}" if prices.note
                                                                                      else "")
    return UsageView(out, priced_as, table)


def _score_tables(scores: Scores, title: str, source: str) -> dict[str, Any]:
    """What both kinds of report show the same way: the heading, the grids, the
    leaderboards and the verdict summary, from the scores."""
    return {
        "title": title,
        "source": source,
        "generated": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "models": scores.models,
        "modalities": MODALITIES,
        "properties": PROPERTIES,
        "property_colours": PROPERTY_COLOURS,
        "verdicts": ALL,
        "verdict_label": VERDICT_LABEL,
        "verdict_emoji": VERDICT_EMOJI,
        "other_emoji": OTHER_EMOJI,
        "grids": _model_grids(scores),
        "leaderboards": _leaderboards(scores),
        "ties": _TIES_NOTE[scores.ties],
        "summary": _verdict_summary(scores),
    }


def build_context(rows: Sequence[EffectiveResult], cases: dict[str, StoredCase], *,
                  title: str = "fourfold report", source: str = "",
                  rankings: dict[str, dict[str, float]] | None = None,
                  prices: PriceTable | None = None, ties: Ties = "mean", ahead: ViewsAhead | None = None
                  ) -> dict[str, Any]:
    """Everything both templates show, computed once (public so the web UI or
    tests can render from rows without a store). ``prices``: the packaged table by default;
    ``ties``: how the relative scores rank ties (the report says which); ``ahead``: case
    views made during the run, used where they show exactly these results."""
    scores = compute_scores(rows, rankings, ties=ties, cases=cases)
    groups = _case_groups(rows, cases, scores.models, ahead)
    return {
        **_score_tables(scores, title, source),
        "provenance": _provenance(rows, scores),
        "robustness": _robustness(rows, cases),
        "usage": _usage(rows, prices if prices is not None else load_prices()),
        "groups": groups,
        "n_cases": sum(len(g.cases) for g in groups),
        "n_results": len(rows),
        "empty": EMPTY,
        "cutoff": None,
    }


@dataclass(frozen=True, slots=True)
class Cutoff:
    """Why the report lists no case: ``n_results`` is more than ``limit``; the per-case
    listing is in the leaderboard site, which ``command`` writes (and ``link``, when
    not empty, is one already written beside the report, relative to it)."""

    n_results: int
    limit: int
    command: str
    link: str = ""


def build_summary_context(summary: Summary, cutoff: Cutoff, *, title: str = "fourfold report", source: str = "",
                          prices: PriceTable | None = None) -> dict[str, Any]:
    """``build_context`` for a store past the inline limit, from a streamed pass
    (``score.streaming``): every table but the per-case listing, which ``cutoff`` points to.

    No sample of cases is shown: the first cases per cell in case-id order say nothing
    about the rest, and picking "interesting" ones is a judgement the report does not
    make; the site pages through all of them, with filters."""
    return {
        **_score_tables(summary.scores, title, source),
        "provenance": _provenance_rows(summary.provenance),
        "robustness": _robustness_rows(summary.robustness),
        "usage": _usage_view(summary.usage, prices if prices is not None else load_prices()),
        "groups": [],
        "n_cases": summary.n_cases,
        "n_results": summary.n_results,
        "empty": EMPTY,
        "cutoff": cutoff,
    }


__all__ = ["EMPTY", "OTHER_EMOJI", "PROPERTY_COLOURS", "VERDICT_EMOJI", "VERDICT_LABEL", "Cutoff", "build_context",
           "build_summary_context", "reference_summary"]
