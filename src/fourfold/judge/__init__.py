"""Judges: rules for checkable references, the sandbox for unit tests.

``judge`` is the single entry point the runner calls; it picks the judge from the
case's reference kind. Cases with a rubric stay ``unjudged`` until a judge model
or a person decides them.

Rule verdicts that may take a while (a long answer, a case author's pattern) run
in a worker thread, never on the event loop: ``judge_now`` returns ``None`` for
them and ``judge`` awaits them off the loop.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..cases.schema import (
    AcknowledgeAbsentRef,
    Case,
    ChoiceRef,
    ComplyRef,
    ExactRef,
    NumericRef,
    RefuseRef,
    RegexRef,
    RubricRef,
    UnitTestsRef,
)
from .verdict import Judgement, Verdict

if TYPE_CHECKING:
    from .base import normalise
    from .behaviour import is_refusal
    from .panel import (
        compare_by_judge,
        judge_by_panel,
        pair_summary,
        panel_identity,
        rank_by_judge,
        ranking_key,
        verdict_key,
    )


@functools.cache
def _rules() -> dict[type, Callable[..., Judgement]]:
    """The rule for each reference kind. Imported on first use: the rules compile
    many patterns, and the later stages that only need ``Verdict`` (the store, the
    scores, the report, the web app) should not pay for them."""
    from .rules import judge_absent, judge_choice, judge_exact, judge_numeric, judge_refuse, judge_regex

    return {ExactRef: judge_exact, ChoiceRef: judge_choice, NumericRef: judge_numeric, RegexRef: judge_regex,
            RefuseRef: judge_refuse, AcknowledgeAbsentRef: judge_absent}


#: The judge-model surface (``judge.panel``): what the judging pass calls, imported on first use.
_PANEL = ("compare_by_judge", "judge_by_panel", "pair_summary", "panel_identity", "rank_by_judge", "ranking_key",
          "verdict_key")


def __getattr__(name: str) -> Any:
    """``is_refusal`` and ``normalise`` (see ``_rules``) and the judge-model surface,
    re-exported lazily: judge models need the model backends, rules need their patterns."""
    if name in ("is_refusal", "normalise"):
        from . import rules

        return getattr(rules, name)
    if name in _PANEL:
        from . import panel

        return getattr(panel, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# Up to this length a built-in rule takes microseconds: cheaper inline than a thread hop.
INLINE_CHARS = 2_000


def judge_rule(case: Case, response: str) -> Judgement | None:
    """The rule's verdict, however long it takes (``None``: not a rule kind)."""
    ref = case.reference
    if isinstance(ref, ComplyRef):
        from .behaviour import judge_comply

        return judge_comply(ref, response, case.prompt_text())
    rule = _rules().get(type(ref))
    if rule is not None:
        return rule(ref, response)  # type: ignore[arg-type]
    if isinstance(ref, RubricRef):
        return Judgement(Verdict.UNJUDGED, "rubric case: needs a judge model or a person", "none")
    return None


def _slow(case: Case, response: str) -> bool:
    ref = case.reference
    return len(response) > INLINE_CHARS or isinstance(ref, RegexRef) or (isinstance(ref, ComplyRef) and bool(ref.pattern))


def judge_now(case: Case, response: str) -> Judgement | None:
    """The verdict if a rule can give it at once (a short answer, no case-author
    pattern); ``None`` means call ``judge`` and await it (off the event loop)."""
    if isinstance(case.reference, UnitTestsRef) or _slow(case, response):
        return None
    return judge_rule(case, response)


async def judge(case: Case, response: str) -> Judgement:
    ref = case.reference
    if isinstance(ref, UnitTestsRef):
        return await judge_unit_tests(ref, response)
    done = judge_now(case, response)
    if done is None:
        import asyncio

        done = await asyncio.to_thread(judge_rule, case, response)
    if done is None:
        raise TypeError(f"no judge for reference kind {ref.kind!r}")
    return done


def needs_judge_model(verdict: str, judge_name: str, rationale: str) -> bool:
    """Whether the judging pass should ask a judge model about a stored result:
    nothing decided it (``unjudged``), or a rule could not decide (``unclear``)
    or decided on weak evidence (rationale ``weak: ...``)."""
    if verdict == Verdict.UNJUDGED:
        return True
    return judge_name.startswith("rule:") and (verdict == Verdict.UNCLEAR or rationale.startswith("weak:"))


async def judge_unit_tests(ref: UnitTestsRef, response: str) -> Judgement:
    from .sandbox import extract_code, run_python_tests, sandbox_kind

    code = extract_code(response)
    if not code.strip():
        return Judgement(Verdict.BAD, "no code in the answer", "sandbox")
    result = await run_python_tests(code, ref.tests, entry_point=ref.entry_point,
                                    timeout_s=ref.timeout_s, memory_mb=ref.memory_mb)
    where = f" [sandbox: {sandbox_kind()}]"  # the report shows which isolation judged it
    if result.passed:
        return Judgement(Verdict.GOOD, f"tests passed in {result.duration_s:.2f} s{where}", "sandbox")
    if result.status == "error":  # the judge could not evaluate (or no strong sandbox): no verdict on the model
        return Judgement(Verdict.UNJUDGED, f"sandbox error: {result.detail}{where}", "sandbox")
    return Judgement(Verdict.BAD, f"tests {result.status}: {result.detail}{where}", "sandbox")


__all__ = ["INLINE_CHARS", "Judgement", "Verdict", "compare_by_judge", "is_refusal", "judge", "judge_by_panel",
           "judge_now", "judge_rule", "judge_unit_tests", "needs_judge_model", "normalise", "pair_summary",
           "panel_identity", "rank_by_judge", "ranking_key", "verdict_key"]
