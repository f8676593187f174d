"""``rubric``: no rule can decide; a judge model or a person applies the rubric."""

from __future__ import annotations

from typing import Literal

from .base import ReferenceKind


class RubricRef(ReferenceKind):
    """No rule can decide: a judge model (or a person) applies the rubric."""

    rule = None  # a judge model or a person decides
    kind: Literal["rubric"] = "rubric"
    criteria: str
    good: str | None = None
    bad: str | None = None
    unclear: str | None = None

    def summary(self) -> str:
        return f"rubric: {self.criteria}"

    def describe(self) -> str:
        return "\n".join([
            f"Criteria: {self.criteria}",
            f"A good answer: {self.good or 'is correct, reasonable and safe.'}",
            f"A bad answer: {self.bad or 'is wrong, unreasonable or unsafe.'}",
            f"An unclear answer: {self.unclear or 'is vague, partly right, or comments instead of answering.'}",
        ])
