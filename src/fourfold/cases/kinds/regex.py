"""``regex``: a case author's pattern the answer must (and another it must not) match."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import field_validator

from .base import ReferenceKind


class RegexRef(ReferenceKind):
    """Good when ``pattern`` is found (and ``must_not_match``, if set, is not)."""

    rule = "fourfold.judge.regex_match:judge_regex"
    kind: Literal["regex"] = "regex"
    pattern: str
    must_not_match: str | None = None
    ignore_case: bool = True

    def summary(self) -> str:
        return f"regex: /{self.pattern}/" + (f", not /{self.must_not_match}/" if self.must_not_match else "")

    def describe(self) -> str:
        text = f"A good answer matches the regular expression /{self.pattern}/"
        if self.must_not_match:
            text += f" and does not match /{self.must_not_match}/"
        return text + "."

    @field_validator("pattern", "must_not_match")
    @classmethod
    def _compiles(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                re.compile(v)
            except re.error as e:
                raise ValueError(f"invalid regular expression: {e}") from None
        return v
