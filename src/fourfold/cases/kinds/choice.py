"""``choice``: multiple choice, one correct option."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from .base import ReferenceKind


class ChoiceRef(ReferenceKind):
    """Multiple choice. ``answer`` is the letter (A, B, ...) or the 0-based index."""

    rule = "fourfold.judge.choice:judge_choice"
    kind: Literal["choice"] = "choice"
    options: list[str] = Field(min_length=2, max_length=26)
    answer: int | str

    @model_validator(mode="after")
    def _answer_in_range(self) -> ChoiceRef:
        self.index  # noqa: B018 -- raises if out of range
        return self

    @property
    def index(self) -> int:
        a = self.answer
        if isinstance(a, str):
            if len(a.strip()) != 1 or not a.strip().isalpha():
                raise ValueError(f"answer must be a letter or an index, got {a!r}")
            i = ord(a.strip().upper()) - ord("A")
        else:
            i = a
        if not 0 <= i < len(self.options):
            raise ValueError(f"answer {a!r} is not one of the {len(self.options)} options")
        return i

    @property
    def letter(self) -> str:
        return chr(ord("A") + self.index)

    def summary(self) -> str:
        return f"choice: {self.letter} ({self.options[self.index]})"

    def describe(self) -> str:
        opts = "\n".join(f"{chr(ord('A') + i)}. {o}" for i, o in enumerate(self.options))
        return f"Options:\n{opts}\nThe correct option is {self.letter}: {self.options[self.index]!r}."

    def quick_rule(self) -> bool:
        return True
