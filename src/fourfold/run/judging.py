"""The judging pass: judge models decide what rules cannot, and rank responses.

It runs after the models (or on its own, from ``fourfold report --judge``) over
the store's latest results, so judging can be added, changed or repeated without
calling the evaluated models again. Every judge call is cached in the store
under a key of (judge identity, template version, case, response, samples):
running the same command again resumes, and changing the template re-judges.
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..models import GenerationSettings, ModelBackend, PermanentError, TransientError
from ..store import Store, StoredResult

#: 160 tokens: a verdict object with its one-sentence rationale needs under 80. Decoding is
#: constrained to the object where the backend can, so the cap only bounds a rationale that
#: runs on (each token costs the embedded judge a CPU step), never a preamble.
JUDGE_SETTINGS = GenerationSettings(temperature=0.0, max_tokens=160, seed=1234)


@dataclass
class JudgingConfig:
    judges: list[ModelBackend]
    cell_judges: dict[str, list[ModelBackend]] = field(default_factory=dict)
    samples: int = 1
    judge_all: bool = False  # also re-judge cases a rule already decided
    rank: bool = False  # listwise ranking of all models' responses per case
    concurrency: int = 4
    settings: GenerationSettings = JUDGE_SETTINGS


@dataclass
class JudgingSummary:
    """What one judging pass did, for the ``judge:`` line that ``run``/``report --judge`` write.
    ``failed`` calls are not stored, so running the command again asks them again;
    ``cached`` ones were answered by an earlier pass and cost nothing."""

    judged: int = 0
    cached: int = 0
    failed: int = 0
    ranked: int = 0
    verdicts: dict[str, int] = field(default_factory=lambda: defaultdict(int))


async def judge_store(store: Store, cfg: JudgingConfig, *, cells: list[str] | None = None,
                      progress: Callable[[int, int], None] | None = None) -> JudgingSummary:
    from ..judge import judge_by_panel, needs_judge_model, panel_identity, verdict_key

    rows = [r for r in store.latest_results() if r.status == "ok" and (cells is None or r.cell in cells)]
    if not cfg.judge_all:  # else only: unjudged, or a rule's unclear or weak verdict
        rows = [r for r in rows if needs_judge_model(r.verdict, r.judge or "", r.rationale or "")]
    cases = store.cases({r.case_hash for r in rows})
    summary = JudgingSummary()
    sem = asyncio.Semaphore(cfg.concurrency)
    identities: dict[int, dict[str, Any]] = {}
    done = 0

    async def one(row: StoredResult) -> None:
        nonlocal done
        stored = cases.get(row.case_hash)
        if stored is None:
            return
        case = stored.case
        judges = cfg.cell_judges.get(case.cell) or cfg.judges
        ident = identities.get(id(judges)) or await panel_identity(judges, cfg.settings)
        identities[id(judges)] = ident
        key = verdict_key(ident, case, row.case_hash, row.response or "", cfg.samples)
        if store.has_judgement(key):
            summary.cached += 1
        else:
            async with sem:
                try:
                    out = await judge_by_panel(judges, case, row.response or "", settings=cfg.settings,
                                               samples=cfg.samples)
                except (TransientError, PermanentError):
                    summary.failed += 1  # not stored: the next run asks again
                    return
            store.put_judgement(cache_key=key, result_key=row.key, judge=",".join(j.label for j in judges),
                                judge_identity=json.dumps(ident, sort_keys=True), template=out.template_id, verdict=out.verdict,
                                rationale=out.rationale, raw=list(out.raw), votes=dict(out.votes))
            summary.judged += 1
            summary.verdicts[out.verdict] += 1
        done += 1
        if progress:
            progress(done, len(rows))

    await asyncio.gather(*(one(r) for r in rows))
    if cfg.rank:
        summary.ranked = await rank_store(store, cfg, cells=cells)
    return summary


async def rank_store(store: Store, cfg: JudgingConfig, *, cells: list[str] | None = None) -> int:
    """Listwise ranking of every case two or more models answered: anonymised,
    shuffled, asked in both orders (``judge.rank_by_judge``)."""
    from ..judge import panel_identity, rank_by_judge, ranking_key

    by_case: dict[str, dict[str, StoredResult]] = defaultdict(dict)
    for r in store.latest_results():
        if r.status == "ok" and (cells is None or r.cell in cells):
            by_case[r.case_hash][r.model] = r
    cases = store.cases(by_case)
    judge = cfg.judges[0]
    ident = json.dumps(await panel_identity([judge], cfg.settings), sort_keys=True)
    sem = asyncio.Semaphore(cfg.concurrency)
    count = 0

    async def one(case_hash: str, per_model: dict[str, StoredResult]) -> None:
        nonlocal count
        if len(per_model) < 2 or case_hash not in cases:
            return
        responses = {m: r.response or "" for m, r in sorted(per_model.items())}
        key = ranking_key(ident, case_hash, responses)
        if store.has_ranking(key):
            return
        case = cases[case_hash].case
        seed = int(key[:8], 16)
        async with sem:
            out = await rank_by_judge(judge, case, responses, settings=cfg.settings, rng_seed=seed)
        store.put_ranking(cache_key=key, case_hash=case_hash, case_id=case.id, cell=case.cell, judge=judge.label,
                          template=out.template_id, ranks=dict(out.ranks), raw=list(out.raw))
        count += 1

    await asyncio.gather(*(one(h, pm) for h, pm in by_case.items()))
    return count


async def compare_models(store: Store, judge: ModelBackend, model_a: str, model_b: str, *,
                         cells: list[str] | None = None, settings: GenerationSettings = JUDGE_SETTINGS
                         ) -> dict[str, dict[str, float]]:
    """The report's GPT-4 vs Gemini figure: per cell, the shares of cases model A
    wins, ties and loses against B, by a judge asked in both orders."""
    from ..judge import compare_by_judge, pair_summary

    rows = store.latest_results([model_a, model_b])
    pairs: dict[str, dict[str, StoredResult]] = defaultdict(dict)
    for r in rows:
        if r.status == "ok" and (cells is None or r.cell in cells):
            pairs[r.case_hash][r.model] = r
    cases = store.cases(pairs)
    outcomes: dict[str, list[Any]] = defaultdict(list)
    try:
        for case_hash, both in pairs.items():
            if len(both) < 2 or case_hash not in cases:
                continue
            case = cases[case_hash].case
            out = await compare_by_judge(judge, case, (model_a, both[model_a].response or ""),
                                         (model_b, both[model_b].response or ""), settings=settings)
            outcomes[case.cell].append(out)
    finally:
        await judge.aclose()
    return {cell: pair_summary(outs) for cell, outs in sorted(outcomes.items())}
