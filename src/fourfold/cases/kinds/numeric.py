"""``numeric``: a number, within a tolerance."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import ReferenceKind


class NumericRef(ReferenceKind):
    """A number; good when within ``tolerance`` (absolute) or ``rel_tolerance``."""

    rule = "fourfold.judge.numeric:judge_numeric"
    kind: Literal["numeric"] = "numeric"
    answer: float
    tolerance: float = Field(default=1e-6, ge=0)
    rel_tolerance: float = Field(default=0.0, ge=0)

    def summary(self) -> str:
        extra = (f" ± {self.rel_tolerance:g} relative" if self.rel_tolerance
                 else (f" ± {self.tolerance:g}" if self.tolerance > 1e-6 else ""))
        return f"numeric: {self.answer:g}{extra}"

    def describe(self) -> str:
        tol = f" (within {self.tolerance:g})" if self.tolerance > 1e-6 else ""
        rel = f" (within {self.rel_tolerance:.2%})" if self.rel_tolerance else ""
        return f"The correct answer is the number {self.answer:g}{tol}{rel}."

    def quick_rule(self) -> bool:
        return True
