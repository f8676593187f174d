"""The ``exact`` reference kind's rule: does the answer commit to the target?

Forgiving about form (case, punctuation, markup, a final "Answer: X" line, the
first sentence's "... is X"), strict about substance: an answer that only
mentions the target, or mentions it negated, is not a match. Its own module so a
run whose cases are all ``exact`` imports no other rule (``judge.rules`` gathers
them all for the corpus checks and the tests).
"""

from __future__ import annotations

import re

from ..cases.schema import ExactRef
from .base import Judgement, first_sentences, markers, normalise, prepare, short
from .verdict import Verdict

_CLAUSE_END = re.compile(r"[.,;!?(\n]|[ \t](?:because|since|as|which|so|but|or)\b", re.I)
_NEGATED = re.compile(r"\b(?:not|isn't|no|never)[ \t]{1,3}(?:(?:a|an|the)[ \t]{1,3})?$", re.I)
_COPULA = re.compile(r"(?:\b(?:is|are|was|were)|'s)[ \t]{1,4}(?P<tail>[^.!?\n]{1,80})[.!]?[ \t]*$", re.I)


def _clause(tail: str) -> str:
    m = _CLAUSE_END.search(tail)
    return tail[: m.start()] if m else tail


def judge_exact(ref: ExactRef, response: str) -> Judgement:
    cs = ref.case_sensitive
    targets = {normalise(t, cs) for t in [ref.answer, *ref.aliases]} - {""}
    text = prepare(response)
    want = short(ref.answer)

    def good(where: str) -> Judgement:
        return Judgement(Verdict.GOOD, f"{where} matches {want!r}", "rule:exact")

    if normalise(text, cs) in targets:
        return good("the answer")
    marks = markers(text)
    finals = [m for m in marks if m.final]
    if finals:
        said = normalise(_clause(finals[-1].tail), cs)
        if said in targets or normalise(finals[-1].tail, cs) in targets:
            return good(f"the {finals[-1].phrase!r} line")
        return Judgement(Verdict.BAD, f"the {finals[-1].phrase!r} line says {short(finals[-1].tail, 40)!r}; expected "
                         f"{want!r}", "rule:exact")
    first = first_sentences(text, 1)
    if normalise(text.strip().split("\n", 1)[0], cs) in targets or normalise(_clause(first), cs) in targets:
        return good("the first line")
    lead = re.match(r"[ \t]{0,4}(.{1,80}?)[ \t]{1,3}(?:is|was|are)\b", first)
    if lead and normalise(lead.group(1), cs) in targets:
        return good("the start of the first sentence")
    for mk in reversed(marks):
        if normalise(_clause(mk.tail), cs) in targets:
            return good(f"the text after {mk.phrase!r}")
    cop = _COPULA.search(first) if len(first) <= 200 else None
    if cop and normalise(cop.group("tail"), cs) in targets and not _NEGATED.search(first[: cop.start("tail")]):
        return good("the first sentence")
    return _mentions_only(ref, text, targets, want)


def _mentions_only(ref: ExactRef, text: str, targets: set[str], want: str) -> Judgement:
    """The answer does not commit to the target; does it mention it, and how?"""
    flags = 0 if ref.case_sensitive else re.I
    plain = re.sub(r"[*_`\"“”]", "", text)
    spots = []
    for t in sorted(targets, key=len, reverse=True):
        for m in re.finditer(rf"(?<![\w]){re.escape(t)}(?![\w])", plain if ref.case_sensitive else plain.lower(),
                             flags):
            spots.append(m.start())
    if not spots:
        return Judgement(Verdict.BAD, f"expected {want!r}, got {short(text) or 'nothing'!r}", "rule:exact")
    if all(_NEGATED.search(plain[max(0, s - 20): s]) for s in spots):
        return Judgement(Verdict.BAD, f"says it is not {want!r}", "rule:exact")
    return Judgement(Verdict.UNCLEAR, f"contains {want!r} but does not answer with it alone", "rule:exact")


__all__ = ["judge_exact"]
