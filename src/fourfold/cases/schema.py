"""The case format: pydantic models that are the single source of truth for
what a case file may contain (the JSON Schema in docs/ is generated from them).

A case is everything needed to ask a model one question and to decide, without
the model's help, whether the answer is good: the prompt (text, images, video),
the cell of the grid it probes, and a reference a judge can apply.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from ..registry import did_you_mean, with_hint
from .kinds import KIND_CLASS_NAMES, REFERENCE_KINDS, Reference, ReferenceKind

if TYPE_CHECKING:  # at run time ``__getattr__`` below imports each on first use
    from .kinds.acknowledge_absent import AcknowledgeAbsentRef
    from .kinds.choice import ChoiceRef
    from .kinds.comply import ComplyRef
    from .kinds.exact import ExactRef
    from .kinds.numeric import NumericRef
    from .kinds.refuse import RefuseRef
    from .kinds.regex import RegexRef
    from .kinds.rubric import RubricRef
    from .kinds.unit_tests import UnitTestsRef
from .taxonomy import CATEGORIES, CELLS

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,199}$")


class _Strict(BaseModel):
    # NaN and infinities are never meaningful in a case (a NaN answer matches
    # nothing, an infinite tolerance matches everything).
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


# ----------------------------------------------------------------- input parts


class TextPart(_Strict):
    type: Literal["text"] = "text"
    text: str


class ImagePart(_Strict):
    """An image file, path relative to the case file. ``sha256`` is filled in by
    the loader so that editing the picture changes the case's identity."""

    type: Literal["image"] = "image"
    path: str
    sha256: str | None = None


class VideoPart(_Strict):
    type: Literal["video"] = "video"
    path: str
    sha256: str | None = None


Part = Annotated[TextPart | ImagePart | VideoPart, Field(discriminator="type")]


def _shorthand(key: str, **fixed: str) -> BeforeValidator:
    """Accept a bare string where a list belongs, as the one-item list ``[{**fixed, key: string}]``.

    ``"content": "hi"`` and ``"input": "hi"`` are the common cases; the shorthand keeps
    files short to write by hand, and both spellings validate to the same case."""

    def expand(v: Any) -> Any:
        return [{**fixed, key: v}] if isinstance(v, str) else v

    return BeforeValidator(expand)


class Message(_Strict):
    role: Literal["system", "user", "assistant"] = "user"
    content: Annotated[list[Part], _shorthand("text", type="text")]

    @field_validator("content")
    @classmethod
    def _not_empty(cls, v: list[Part]) -> list[Part]:
        if not v:
            raise ValueError("a message needs at least one part")
        return v

    def text(self) -> str:
        return "\n".join(p.text for p in self.content if isinstance(p, TextPart))


# ----------------------------------------------------------------- references
#
# Each kind is one module in ``kinds/``: its schema, the words it uses for
# people and judge models (``summary()``, ``describe()``). ``Reference`` validates
# through the ``REFERENCE_KINDS`` registry, so a plugin's kind is as good as these.



# ----------------------------------------------------------------- the case


class Metadata(BaseModel):
    """Provenance. Extra keys are kept: importers record where a case came from."""

    model_config = ConfigDict(extra="allow", frozen=True)
    source: str | None = None
    license: str | None = None
    tags: list[str] = []


class Case(_Strict):
    id: str
    cell: str
    category: str
    input: Annotated[list[Message], _shorthand("content", role="user")]
    reference: Reference
    metadata: Metadata = Metadata()

    @field_validator("id")
    @classmethod
    def _id_ok(cls, v: str) -> str:
        if not _ID.match(v):
            raise ValueError("id must be 1-200 characters of letters, digits and . _ : / -")
        return v

    @field_validator("cell")
    @classmethod
    def _cell_ok(cls, v: str, info: ValidationInfo) -> str:
        if v not in CELLS and not _stored(info):
            raise ValueError(f"{with_hint(f'unknown cell {v!r}', v, CELLS)} (cells are modality/property)")
        return v

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> Case:
        allowed = CATEGORIES.get(self.cell, ())
        if self.category not in allowed and not _stored(info):
            hint = did_you_mean(self.category, allowed, end=" ")
            raise ValueError(
                f"category: {self.category!r} is not one of {self.cell}'s: {hint}"
                f"allowed: {', '.join(allowed)}"
            )
        if not self.input:
            raise ValueError("input: needs at least one message")
        if self.input[-1].role != "user":
            raise ValueError("input: the last message must have role 'user'")
        return self

    # -- derived ---------------------------------------------------------

    @property
    def modality(self) -> str:
        return self.cell.split("/", 1)[0]

    @property
    def prop(self) -> str:
        return self.cell.split("/", 1)[1]

    def media(self) -> list[ImagePart | VideoPart]:
        return [p for m in self.input for p in m.content if not isinstance(p, TextPart)]

    def needs(self) -> set[str]:
        """What a model must accept to take this case: text, image, multi_image, video."""
        media = self.media()
        images = sum(isinstance(p, ImagePart) for p in media)
        need = {"text"}
        if images:
            need.add("image")
        if images > 1:
            need.add("multi_image")
        if any(isinstance(p, VideoPart) for p in media):
            need.add("video")
        return need

    def prompt_text(self) -> str:
        return "\n\n".join(m.text() for m in self.input)

    def content_hash(self) -> str:
        """Identity of the case's content (media included through their sha256,
        paths excluded, so moving a suite does not invalidate its results)."""
        if not self.media():
            # pydantic-core's serialiser is deterministic (field order) and ~10x faster than json.dumps
            return hashlib.sha256(self.model_dump_json(exclude={"metadata"}).encode()).hexdigest()
        data = self.model_dump(mode="json", exclude={"metadata"})
        for msg in data["input"]:
            for part in msg["content"]:
                if part["type"] != "text":
                    part.pop("path", None)
        blob = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(blob.encode()).hexdigest()


STORED = {"stored": True}


def _stored(info: ValidationInfo) -> bool:
    """Whether the case is read back from a results store (validation context
    ``STORED``): it was checked against the taxonomy when it ran, and a store is a
    record of that run, so a cell or category renamed since must not make it unreadable."""
    return bool(info.context and info.context.get("stored"))


def case_json_schema() -> dict[str, Any]:
    return Case.model_json_schema()


def __getattr__(name: str) -> Any:
    """``from fourfold.cases.schema import ChoiceRef`` imports that kind's module
    then, through its registry entry: a run imports only the kinds its cases use
    (all nine cost about 10 ms of every start)."""
    if name in KIND_CLASS_NAMES:
        return REFERENCE_KINDS.get(KIND_CLASS_NAMES[name])
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "REFERENCE_KINDS", "STORED", "AcknowledgeAbsentRef", "Case", "ChoiceRef", "ComplyRef", "ExactRef", "ImagePart",
    "Message", "Metadata", "NumericRef", "Part", "Reference", "ReferenceKind", "RefuseRef", "RegexRef", "RubricRef",
    "TextPart", "UnitTestsRef", "VideoPart", "case_json_schema",
]
