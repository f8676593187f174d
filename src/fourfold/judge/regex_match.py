"""The ``regex`` reference kind's rule: a case author's pattern, under a time budget.

The pattern runs under the ``regex`` module's timeout, within ``PATTERN_BUDGET_S``
per verdict (``judge.patterns``): a pattern that needs longer gives ``unclear``
with that reason instead of hanging a run.
"""

from __future__ import annotations

import time

from ..cases.schema import RegexRef
from .base import Judgement, answer_part, short
from .patterns import PATTERN_BUDGET_S, PatternBudgetExceeded, author_search, budget_note
from .verdict import Verdict


def judge_regex(ref: RegexRef, response: str) -> Judgement:
    deadline = time.monotonic() + PATTERN_BUDGET_S
    try:
        if ref.must_not_match and author_search(ref.must_not_match, response, ref.ignore_case, deadline):
            return Judgement(Verdict.BAD, f"matches the forbidden pattern /{short(ref.must_not_match, 40)}/", "rule:regex")
        if author_search(ref.pattern, answer_part(response), ref.ignore_case, deadline):
            return Judgement(Verdict.GOOD, f"matches /{short(ref.pattern, 40)}/", "rule:regex")
    except PatternBudgetExceeded as e:
        return Judgement(Verdict.UNCLEAR, budget_note(str(e)), "rule:regex")
    return Judgement(Verdict.BAD, f"does not match /{short(ref.pattern, 40)}/", "rule:regex")


__all__ = ["judge_regex"]
