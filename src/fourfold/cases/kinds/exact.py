"""``exact``: one right answer (or an alias), compared after normalisation."""

from __future__ import annotations

from typing import Literal

from .base import ReferenceKind


class ExactRef(ReferenceKind):
    """Right when the answer equals ``answer`` (or an alias) after normalisation:
    case, surrounding punctuation, articles and whitespace are ignored."""

    rule = "fourfold.judge.exact:judge_exact"
    kind: Literal["exact"] = "exact"
    answer: str
    aliases: list[str] = []
    case_sensitive: bool = False

    def summary(self) -> str:
        return f"exact: {self.answer}" + (f" (or {', '.join(self.aliases)})" if self.aliases else "")

    def describe(self) -> str:
        also = f" (also accepted: {', '.join(repr(a) for a in self.aliases)})" if self.aliases else ""
        return f"The correct answer is {self.answer!r}{also}."

    def quick_rule(self) -> bool:
        return True
