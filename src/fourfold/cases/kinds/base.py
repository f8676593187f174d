"""What every reference kind is: a strict pydantic model that says in words
what it asks for.

A kind says it twice: ``summary()`` is one line for people (the report, the
annotation page, ``cases list``), ``describe()`` the paragraph a judge model
applies when it decides, ranks or compares answers. Its module also names the
rule that judges it (``ReferenceKind.rule``: the rule's code lives in the judge
stage, which comes later), so one module holds all a kind is.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict


class ReferenceKind(BaseModel):
    """The base of every reference kind. A subclass has a ``kind: Literal["NAME"]
    = "NAME"`` field (the name it is registered under) and its own fields."""

    #: The rule that judges this kind, as a lazy ``"module.path:function"``: the
    #: judge stage imports it on first use, so ``cases/`` never imports ``judge/``.
    #: It is called as ``rule(ref, response) -> Judgement``; it may also take a
    #: keyword ``question`` (the case's prompt text), and may be ``async`` (it is
    #: then awaited, as the sandbox is). ``None``: no rule can decide, and the case
    #: stays ``unjudged`` until a judge model or a person decides it.
    rule: ClassVar[str | None] = None

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

    def quick_rule(self) -> bool:
        """Whether the rule takes microseconds on a short answer, so a run judges
        it on the event loop instead of in a worker thread. False unless a kind
        knows better: a case author's pattern, or a rule of unknown cost, must
        never stall the loop that keeps the other model calls going."""
        return False
