"""``unit_tests``: Python tests run against the model's code in the sandbox."""

from __future__ import annotations

import keyword
from typing import Literal

from pydantic import Field, field_validator

from .base import ReferenceKind


class UnitTestsRef(ReferenceKind):
    """Python tests run against the model's code in the sandbox. ``tests`` is
    Python source that raises (e.g. a failing assert) when the code is wrong;
    it may call ``check(entry_point)`` in HumanEval style if it defines it.
    ``solution`` is a known-good answer used only to validate the tests."""

    rule = "fourfold.judge:judge_unit_tests"
    kind: Literal["unit_tests"] = "unit_tests"
    tests: str
    entry_point: str | None = None
    language: Literal["python"] = "python"
    timeout_s: float = Field(default=10.0, gt=0, le=300)
    memory_mb: int = Field(default=512, ge=32, le=16384)
    solution: str | None = None

    def summary(self) -> str:
        return f"unit tests (entry point {self.entry_point})" if self.entry_point else "unit tests"

    def describe(self) -> str:
        entry = f" defining `{self.entry_point}`" if self.entry_point else ""
        tests = self.tests if len(self.tests) <= 3000 else self.tests[:3000] + "\n# ... (truncated)"
        return f"A good answer is {self.language} code{entry} that passes these tests:\n```{self.language}\n{tests}\n```"

    @field_validator("entry_point")
    @classmethod
    def _identifier(cls, v: str | None) -> str | None:
        # It is written into the test driver: anything but a plain name would be code.
        if v is not None and (not v.isidentifier() or keyword.iskeyword(v)):
            raise ValueError(f"must be a Python identifier (a function name), got {v[:60]!r}")
        return v

    @field_validator("tests", "solution")
    @classmethod
    def _compiles(cls, v: str | None) -> str | None:
        """Tests that cannot compile would fail every answer; say so when the case loads."""
        if v is not None:
            try:
                compile(v, "<tests>", "exec", dont_inherit=True)
            except SyntaxError as e:
                where = f" (line {e.lineno})" if e.lineno else ""
                raise ValueError(f"does not compile: {e.msg}{where}") from None
            except (ValueError, RecursionError, MemoryError, OverflowError) as e:
                why = f"{type(e).__name__}: {str(e)[:200]}" if str(e) else f"{type(e).__name__} (nested too deeply?)"
                raise ValueError(f"does not compile: {why}") from None
        return v
