"""What every reference kind is: a strict pydantic model that says in words
what it asks for.

A kind says it twice: ``summary()`` is one line for people (the report, the
annotation page, ``cases list``), ``describe()`` the paragraph a judge model
applies when it decides, ranks or compares answers. Its module also names the
rule that judges it (see :class:`ReferenceKind`), so one module holds all a
kind is.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ReferenceKind(BaseModel):
    """The base of every reference kind. A subclass has a ``kind: Literal["NAME"]
    = "NAME"`` field (the name it is registered under) and its own fields."""

    # Same rules as the rest of a case: unknown keys are typos, NaN and
    # infinities are never meaningful (a NaN answer matches nothing, an
    # infinite tolerance matches everything).
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    kind: str

    def summary(self) -> str:
        """One line: what counts as a good answer."""
        raise NotImplementedError(f"{type(self).__name__} has no summary()")

    def describe(self) -> str:
        """What a good answer is, in words a judge model can apply."""
        raise NotImplementedError(f"{type(self).__name__} has no describe()")
