"""The verdict vocabulary, defined once for every stage.

A ``StrEnum``: each member *is* its string (``Verdict.GOOD == "good"``), so the
store, the JSON scores, the reports and the annotation page keep the same words
they always had, while code names the members and a new verdict is added here
only. It lives in ``judge/`` because judging is the first stage that gives
verdicts; the store, scores, reports and the web app import it from here (the
annotation script gets the list from the page, rendered from ``JUDGED``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Verdict(StrEnum):
    """What a result's answer was found to be, or why it has no such finding."""

    GOOD = "good"
    UNCLEAR = "unclear"
    BAD = "bad"
    #: Answered, but nothing decided it yet (a rubric without a judge model, a sandbox error).
    UNJUDGED = "unjudged"
    #: The model cannot take the case (it needs an input the model does not accept).
    NOT_EVALUATED = "not_evaluated"
    #: The call failed (the server, the network): no answer to judge.
    ERROR = "error"


#: The verdicts that judge an answer, best first: what rules, judge models and people may give.
JUDGED: tuple[Verdict, ...] = (Verdict.GOOD, Verdict.UNCLEAR, Verdict.BAD)
#: Every verdict a stored result can carry, in the order reports list them.
ALL: tuple[Verdict, ...] = tuple(Verdict)
#: What a judged verdict is worth in a score: good 1, unclear half, bad 0.
VALUE: dict[str, float] = {Verdict.GOOD: 1.0, Verdict.UNCLEAR: 0.5, Verdict.BAD: 0.0}


@dataclass(frozen=True)
class Judgement:
    """A verdict with a rationale a reader can check against the response: what
    every judge (a rule, the sandbox, a judge model) hands the runner.

    ``weak`` marks a rule verdict on thin evidence (a keyword found, the only
    option named somewhere in the text): the rationale starts with ``weak:``
    and the judging pass hands it to a judge model when one is given."""

    verdict: Verdict
    rationale: str
    judge: str  # e.g. "rule:exact", "sandbox", "none"
    weak: bool = False


__all__ = ["ALL", "JUDGED", "VALUE", "Judgement", "Verdict"]
