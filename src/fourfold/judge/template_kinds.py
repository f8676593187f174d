"""The judge templates fourfold knows, in the one registry.

A *template kind* is a family of versioned prompt files (``verdict-v1.txt``,
``verdict-v2.txt``, ...) plus what the code needs to use them: the placeholders
every version must fill (so an edited file that drops ``$response`` fails at
load time, not with blind verdicts), the folder its files are in, and, for a
template that gives verdicts, the parser of the judge's reply and the JSON
schema that constrains it. The built-in kinds live in ``judge/llm.py`` next to
their parsers and are registered lazily here; a new kind is a prompt file, a
``TemplateKind`` and one line: ``TEMPLATES.register("strict", "my_module:STRICT")``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..registry import Registry


class TemplateError(ValueError):
    """A template is unknown, malformed, or rendered without a value it needs."""


#: A judge reply -> (verdict, rationale), or None when it does not parse.
VerdictParser = Callable[[str], "tuple[str, str] | None"]
#: Labels (rankings only) -> the JSON schema of the reply object.
SchemaFn = Callable[[Sequence[str]], "dict[str, Any]"]


@dataclass(frozen=True)
class TemplateKind:
    """What every version of one judge prompt needs (see the module docstring)."""

    placeholders: frozenset[str]
    directory: Path
    #: Set for templates that give one verdict per answer (``judge_response`` takes them).
    parse: VerdictParser | None = None
    #: The reply's JSON schema, for backends that can constrain decoding (None: unconstrained).
    schema: SchemaFn | None = None


TEMPLATES: Registry[TemplateKind] = Registry("judge template", base=TemplateKind, error=TemplateError)
TEMPLATES.register("verdict", "fourfold.judge.llm:VERDICT_TEMPLATE")
TEMPLATES.register("code-trust", "fourfold.judge.llm:CODE_TRUST_TEMPLATE")
TEMPLATES.register("rank", "fourfold.judge.llm:RANK_TEMPLATE")
TEMPLATES.register("pair", "fourfold.judge.llm:PAIR_TEMPLATE")

__all__ = ["TEMPLATES", "SchemaFn", "TemplateError", "TemplateKind", "VerdictParser"]
