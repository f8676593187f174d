"""Judges: rules for checkable references, the sandbox for unit tests.

``judge`` is the single entry point the runner calls; it runs the rule the
case's reference kind names (``ReferenceKind.rule``, looked up through the kind
the ``REFERENCE_KINDS`` registry gave the case, so a plugin's kind brings its own
rule). Cases with a rubric stay ``unjudged`` until a judge model or a person
decides them.

Rule verdicts that may take a while (a long answer, a case author's pattern) run
in a worker thread, never on the event loop: ``judge_now`` returns ``None`` for
them and ``judge`` awaits them off the loop.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..cases.kinds import ReferenceKind
from ..cases.schema import Case
from ..registry import RegistryError, load_target
from .verdict import Judgement, Verdict

if TYPE_CHECKING:
    from ..cases.schema import UnitTestsRef
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


@dataclass(frozen=True)
class Rule:
    """A reference kind's rule, imported: the function, whether it must be
    awaited (the sandbox), and whether it wants the case's question."""

    fn: Callable[..., Any]
    awaits: bool
    wants_question: bool

    def kwargs(self, case: Case) -> dict[str, Any]:
        return {"question": case.prompt_text()} if self.wants_question else {}


@functools.cache
def rule_for(kind: type[ReferenceKind]) -> Rule | None:
    """The rule a reference kind names (``ReferenceKind.rule``, a lazy
    ``"module:function"``; ``None``: no rule can decide). Looked up through the
    kind, so a plugin's kind brings its rule, and imported on first use: the rules
    compile many patterns, and the later stages that only need ``Verdict`` (the
    store, the scores, the report, the web app) should not pay for them."""
    if kind.rule is None:
        return None
    try:
        fn = load_target(kind.rule)
    except (ImportError, AttributeError) as e:
        name = kind.model_fields["kind"].default
        raise RegistryError(f"reference kind {name!r}: its rule {kind.rule!r} cannot be loaded: {e}") from None
    return Rule(fn, inspect.iscoroutinefunction(fn), "question" in inspect.signature(fn).parameters)


def _no_rule(ref: ReferenceKind) -> Judgement:
    return Judgement(Verdict.UNJUDGED, f"{ref.kind} case: needs a judge model or a person", "none")


#: The judge-model surface (``judge.panel``): what the judging pass calls, imported on first use.
_PANEL = ("compare_by_judge", "judge_by_panel", "pair_summary", "panel_identity", "rank_by_judge", "ranking_key",
          "verdict_key")


def __getattr__(name: str) -> Any:
    """``is_refusal`` and ``normalise`` (see ``rule_for``) and the judge-model surface,
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
    """The rule's verdict, however long it takes (``None``: the rule must be
    awaited; call ``judge``)."""
    ref = case.reference
    rule = rule_for(type(ref))
    if rule is None:
        return _no_rule(ref)
    if rule.awaits:
        return None
    return rule.fn(ref, response, **rule.kwargs(case))  # type: ignore[no-any-return]


def judge_now(case: Case, response: str) -> Judgement | None:
    """The verdict if a rule can give it at once (a short answer, a kind whose
    rule is quick: no case-author pattern); ``None`` means call ``judge`` and
    await it (off the event loop)."""
    ref = case.reference
    rule = rule_for(type(ref))
    if rule is not None and (rule.awaits or len(response) > INLINE_CHARS or not ref.quick_rule()):
        return None
    return judge_rule(case, response)


async def judge(case: Case, response: str) -> Judgement:
    """The verdict of the rule the case's reference kind names: at once, in a
    worker thread, or awaited (an async rule such as the sandbox's)."""
    ref = case.reference
    rule = rule_for(type(ref))
    if rule is not None and rule.awaits:
        return await rule.fn(ref, response, **rule.kwargs(case))  # type: ignore[no-any-return]
    done = judge_now(case, response)
    if done is None:
        import asyncio

        done = await asyncio.to_thread(judge_rule, case, response)
    assert done is not None  # only an async rule leaves judge_rule without a verdict
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


__all__ = ["INLINE_CHARS", "Judgement", "Rule", "Verdict", "compare_by_judge", "is_refusal", "judge", "judge_by_panel",
           "judge_now", "judge_rule", "judge_unit_tests", "needs_judge_model", "normalise", "pair_summary",
           "panel_identity", "rank_by_judge", "ranking_key", "rule_for", "verdict_key"]
