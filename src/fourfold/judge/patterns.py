"""Case authors' regular expressions, run with a time budget.

A pattern in a case file is code a stranger wrote: ``\\d+\\s*apples`` takes
quadratic time on 200,000 digits, and nested quantifiers take exponential time
on short text. The ``regex`` module stops a search at a timeout (the standard
``re`` cannot), and releases the GIL while it searches (``concurrent=True``),
so a verdict running in a worker thread never stalls the event loop.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from functools import lru_cache

import regex

from .base import short

PATTERN_BUDGET_S = 1.0  # per verdict, all of the case's patterns together


class PatternBudgetExceeded(Exception):
    """A case author's pattern ran past its time budget on this answer."""


@lru_cache(maxsize=512)
def _compiled(pattern: str, ignore_case: bool) -> regex.Pattern[str]:
    return regex.compile(pattern, regex.I if ignore_case else 0)


def _left(pattern: str, deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise PatternBudgetExceeded(pattern)
    return left


def author_search(pattern: str, text: str, ignore_case: bool, deadline: float) -> regex.Match[str] | None:
    """``pattern`` searched in ``text`` within what is left of the verdict's budget."""
    try:
        return _compiled(pattern, ignore_case).search(text, timeout=_left(pattern, deadline), concurrent=True)
    except TimeoutError:
        raise PatternBudgetExceeded(pattern) from None


def author_finditer(pattern: str, text: str, ignore_case: bool, deadline: float,
                    limit: int = 50) -> Iterator[regex.Match[str]]:
    """The first ``limit`` matches, within the budget."""
    try:
        it = _compiled(pattern, ignore_case).finditer(text, timeout=_left(pattern, deadline), concurrent=True)
        for k, m in enumerate(it):
            if k >= limit:
                return
            yield m
    except TimeoutError:
        raise PatternBudgetExceeded(pattern) from None


def budget_note(pattern: str) -> str:
    return (f"the case's pattern /{short(pattern, 40)}/ needed more than the {PATTERN_BUDGET_S:g} s budget "
            "on this answer")
