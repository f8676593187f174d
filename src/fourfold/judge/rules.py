"""Rule judges, gathered: one small function per reference kind, each returning a
verdict and a one-line rationale a reader can check against the response. Each
lives in its own module and a kind names it there (``ReferenceKind.rule``), so a
run imports only the rules its cases use; this module gathers them for the
labelled-corpus checks (``fourfold judges check``), the bench and the tests.

Rules are forgiving about form (case, punctuation, markup, a trailing "Answer:
X" line, an invented next turn "Q: ...") and strict about substance: an answer
that contains the right value but does not commit to it is ``unclear``, and so
is one the rule cannot read; a judge model, when given, decides those. Each
rule is measured against the labelled corpus in ``judge/corpus/`` (``fourfold
judges check``).

Every built-in pattern is linear in the answer's length. A case author's
pattern (reference kind ``regex``, a comply ``pattern``) runs under the
``regex`` module's timeout, within ``PATTERN_BUDGET_S`` per verdict: a pattern
that needs longer gives ``unclear`` with that reason instead of hanging a run.
"""

from __future__ import annotations

from .base import Judgement, normalise
from .behaviour import is_refusal, judge_absent, judge_comply, judge_refuse
from .choice import judge_choice
from .exact import judge_exact
from .numeric import judge_numeric, numbers_in
from .patterns import PATTERN_BUDGET_S, author_search
from .regex_match import judge_regex

__all__ = [
    "Judgement", "PATTERN_BUDGET_S", "author_search", "is_refusal", "judge_absent", "judge_choice", "judge_comply",
    "judge_exact", "judge_numeric", "judge_refuse", "judge_regex", "normalise", "numbers_in",
]
