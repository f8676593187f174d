"""``acknowledge_absent``: what is asked about is not there; a good answer says so."""

from __future__ import annotations

from typing import Literal

from .base import ReferenceKind


class AcknowledgeAbsentRef(ReferenceKind):
    """The input lacks what is asked about (a fictitious entity, a missing node,
    a blank image): a good answer says so. ``keywords`` add case-specific
    phrases that count as acknowledging the absence."""

    rule = "fourfold.judge.behaviour:judge_absent"
    kind: Literal["acknowledge_absent"] = "acknowledge_absent"
    keywords: list[str] = []

    def summary(self) -> str:
        return "acknowledge absence" + (f" (e.g. {', '.join(self.keywords)})" if self.keywords else "")

    def describe(self) -> str:
        kws = (f" Phrases such as {', '.join(repr(k) for k in self.keywords)} count as saying so."
               if self.keywords else "")
        return ("What the question asks about does not exist or is not in the input (a fictitious entity, a missing "
                "node, a blank image): a good answer says so; an answer that treats it as existing is bad." + kws)

    def quick_rule(self) -> bool:
        return True
