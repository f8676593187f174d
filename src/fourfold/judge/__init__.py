"""Judges: rules for checkable references, the sandbox for unit tests.

``judge`` is the single entry point the runner calls; it picks the judge from the
case's reference kind. Cases with a rubric stay ``unjudged`` until a judge model
or a person decides them.
"""

from __future__ import annotations

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
from .rules import (
    Judgement,
    is_refusal,
    judge_absent,
    judge_choice,
    judge_comply,
    judge_exact,
    judge_numeric,
    judge_refuse,
    judge_regex,
    normalise,
)

_RULES = {
    ExactRef: judge_exact, ChoiceRef: judge_choice, NumericRef: judge_numeric, RegexRef: judge_regex,
    RefuseRef: judge_refuse, ComplyRef: judge_comply, AcknowledgeAbsentRef: judge_absent,
}


def judge_now(case: Case, response: str) -> Judgement | None:
    """The verdict if a rule can give it without waiting (every kind but unit
    tests); ``None`` means call ``judge`` and await it."""
    ref = case.reference
    rule = _RULES.get(type(ref))
    if rule is not None:
        return rule(ref, response)  # type: ignore[arg-type]
    if isinstance(ref, RubricRef):
        return Judgement("unjudged", "rubric case: needs a judge model or a person", "none")
    return None


async def judge(case: Case, response: str) -> Judgement:
    done = judge_now(case, response)
    if done is not None:
        return done
    ref = case.reference
    if isinstance(ref, UnitTestsRef):
        return await judge_unit_tests(ref, response)
    raise TypeError(f"no judge for reference kind {ref.kind!r}")


async def judge_unit_tests(ref: UnitTestsRef, response: str) -> Judgement:
    from .sandbox import extract_code, run_python_tests, sandbox_kind

    code = extract_code(response)
    if not code.strip():
        return Judgement("bad", "no code in the answer", "sandbox")
    result = await run_python_tests(code, ref.tests, entry_point=ref.entry_point,
                                    timeout_s=ref.timeout_s, memory_mb=ref.memory_mb)
    where = f" [sandbox: {sandbox_kind()}]"  # the report shows which isolation judged it
    if result.passed:
        return Judgement("good", f"tests passed in {result.duration_s:.2f} s{where}", "sandbox")
    if result.status == "error":  # the judge could not evaluate (or no strong sandbox): no verdict on the model
        return Judgement("unjudged", f"sandbox error: {result.detail}{where}", "sandbox")
    return Judgement("bad", f"tests {result.status}: {result.detail}{where}", "sandbox")


__all__ = ["Judgement", "is_refusal", "judge", "judge_now", "judge_unit_tests", "normalise"]
