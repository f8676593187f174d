"""What the judging pass asks of judge models, as one small surface.

``run.judging`` walks the store and caches; which template a case gets, what a
judge's identity is, what the cache keys cover, and whether one judge or a
majority answers are judging decisions, so they live here, over ``judge.llm``.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Sequence
from typing import Any

from ..cases.schema import Case
from ..models.base import GenerationSettings, ModelBackend
from .llm import (
    JudgeOutcome,
    PairOutcome,
    RankOutcome,
    Template,
    compare_pair,
    describe_judge,
    judge_cache_key,
    judge_majority,
    judge_response,
    load_template,
    pair_summary,
    rank_responses,
)


@functools.cache
def template(name: str) -> Template:
    """A packaged template, loaded once per process."""
    return load_template(name)


def verdict_template(case: Case) -> Template:
    """The template a case's verdict is asked with: code-trust tiers for a
    code-trustworthiness rubric, the plain verdict template for everything else."""
    if case.cell == "code/trustworthiness" and case.reference.kind == "rubric":
        return template("code-trust")
    return template("verdict")


async def panel_identity(judges: Sequence[ModelBackend], settings: GenerationSettings) -> dict[str, Any]:
    """Backend identity plus decoding settings of every judge: a different judge
    setting is a different judge, so its verdicts are cached apart."""
    return {"judges": [await describe_judge(j, settings) for j in judges]}


def verdict_key(identity: dict[str, Any], case: Case, case_hash: str, response: str, samples: int) -> str:
    """The cache key of a verdict: the same key means the judge call may be skipped."""
    return judge_cache_key(identity, verdict_template(case).id, case_hash, response, samples)


async def judge_by_panel(judges: Sequence[ModelBackend], case: Case, response: str, *,
                         settings: GenerationSettings, samples: int = 1) -> JudgeOutcome:
    """The verdict of one judge model, or the majority of several, with the case's template."""
    tpl = verdict_template(case)
    if len(judges) > 1:
        return await judge_majority(judges, case, response, template=tpl, settings=settings, samples=samples)
    return await judge_response(judges[0], case, response, template=tpl, settings=settings, samples=samples)


def ranking_key(identity_json: str, case_hash: str, responses: dict[str, str]) -> str:
    """The cache key of a listwise ranking of ``{model: response}`` for one case."""
    blob = json.dumps([identity_json, template("rank").id, case_hash, responses], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


async def rank_by_judge(judge: ModelBackend, case: Case, responses: dict[str, str], *,
                        settings: GenerationSettings, rng_seed: int) -> RankOutcome:
    """Rank every model's answer to one case (anonymised, shuffled, asked in both orders)."""
    return await rank_responses(judge, case, responses, template=template("rank"), settings=settings,
                                rng_seed=rng_seed)


async def compare_by_judge(judge: ModelBackend, case: Case, a: tuple[str, str], b: tuple[str, str], *,
                           settings: GenerationSettings) -> PairOutcome:
    """Two ``(model, response)`` answers compared, asked in both orders."""
    return await compare_pair(judge, case, a, b, template=template("pair"), settings=settings)


__all__ = ["JudgeOutcome", "PairOutcome", "RankOutcome", "compare_by_judge", "judge_by_panel", "pair_summary",
           "panel_identity", "rank_by_judge", "ranking_key", "template", "verdict_key", "verdict_template"]
