"""``replay/PATH.jsonl[#MODEL]``: answers recorded elsewhere, judged and scored
like a live model's. This is how models that cannot be called from here (a
closed product, a past run, a colleague's cluster) join the grid.

The file has one JSON object a line: ``{"id": CASE_ID, "response": TEXT}``, plus
``"model": NAME`` when one file holds several models' answers (then the spec must
pick one with ``#NAME``). Errors name the file, the line and the field, as case
files do.

Answers are looked up by case id, so the runner calls ``generate_for(case_id,
messages, settings)`` instead of ``generate``. An id absent from the file raises
``ReplayMissing`` (a ``NoResponse``, hence a ``PermanentError``), which the runner
stores as ``not_evaluated``: a missing recording says nothing about the model.
Decoding settings are ignored (the answers already exist), and identity is the
file's sha256, so editing the file re-judges its answers.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from ..cases.loader import CaseError, CaseFileError, iter_json_lines
from .base import Capabilities, ChatMessage, Generation, GenerationSettings, ModelBackend, NoResponse, PermanentError

PREFIX = "replay/"


class ReplayFileError(CaseFileError, PermanentError):
    """A replay file that cannot be used; ``errors`` lists file:line:field
    problems. Also a ``PermanentError`` so whoever builds backends from specs
    reports it like any other unusable model."""


class ReplayMissing(NoResponse):
    """The replay file has no answer for this case: stored as ``not_evaluated``."""

    def __init__(self, case_id: str, source: str = ""):
        where = f" in {source}" if source else ""
        super().__init__(f"no recorded response for {case_id}{where}")
        self.case_id = case_id


class ReplayBackend(ModelBackend):
    """Recorded answers of one model, read and validated once at construction."""

    kind = "replay"
    # Recorded answers exist for any modality: the model saw the media elsewhere.
    capabilities = Capabilities(text=True, image=True, multi_image=True, video=True)

    def __init__(self, spec: str, path: Path, model: str | None = None):
        super().__init__(spec)
        self.path = path
        name = str(path)
        try:
            data = path.read_bytes()
        except OSError as e:
            raise ReplayFileError([CaseError(name, 0, "", f"cannot read replay file: {e.strerror or e}")]) from None
        self.sha256 = hashlib.sha256(data).hexdigest()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ReplayFileError([CaseError(name, 0, "", f"not UTF-8: {e}")]) from None
        by_model = _read_lines(name, text)
        names = sorted(m for m in by_model if m is not None)
        if model is not None:
            if model not in by_model:
                listed = ", ".join(names) if names else "none (no line has a \"model\" field)"
                raise ReplayFileError([CaseError(name, 0, "model", f"no answers for model {model!r} (models: {listed})")])
        elif len(by_model) > 1:
            raise ReplayFileError([CaseError(
                name, 0, "model",
                f"the file holds answers of {len(names)} models; pick one with {PREFIX}{path}#MODEL "
                f"(models: {', '.join(names)})")])
        elif names:
            model = names[0]
        self.model = model
        self.responses: dict[str, str] = by_model.get(model, {})

    @property
    def label(self) -> str:
        return self.model or f"replay:{self.path.stem}"

    async def identity(self) -> dict[str, Any]:
        return {"backend": "replay", "sha256": self.sha256, "model": self.model}

    def has(self, case_id: str) -> bool:
        return case_id in self.responses

    async def generate_for(self, case_id: str, messages: list[ChatMessage],
                           settings: GenerationSettings) -> Generation:
        """The recorded answer for ``case_id``; ``messages`` and ``settings`` are
        accepted for the runner's uniform call and ignored."""
        try:
            text = self.responses[case_id]
        except KeyError:
            raise ReplayMissing(case_id, str(self.path)) from None
        return Generation(text=text, served_model=self.label, finish_reason="replay")

    async def generate(self, messages: list[ChatMessage], settings: GenerationSettings) -> Generation:
        raise PermanentError("the replay backend answers by case id: call generate_for(case_id, messages, settings)")


def _read_lines(name: str, text: str) -> dict[str | None, dict[str, str]]:
    """``{model or None: {case id: response}}``; every bad line is reported at once."""
    errors: list[CaseError] = []
    by_model: dict[str | None, dict[str, str]] = {}
    first_line: dict[tuple[str | None, str], int] = {}
    unnamed: list[int] = []
    for lineno, obj in iter_json_lines(name, text, errors, 'a JSON object {"id", "response"}'):
        ok = True
        cid, resp, model = obj.get("id"), obj.get("response"), obj.get("model")
        if "id" not in obj:
            errors.append(CaseError(name, lineno, "id", "missing (the case id this answer belongs to)"))
            ok = False
        elif not isinstance(cid, str) or not cid.strip():
            errors.append(CaseError(name, lineno, "id", f"must be a non-empty string, got {cid!r}"))
            ok = False
        if "response" not in obj:
            errors.append(CaseError(name, lineno, "response", "missing (the model's answer text)"))
            ok = False
        elif not isinstance(resp, str):
            errors.append(CaseError(name, lineno, "response", f"must be a string, got {type(resp).__name__}"))
            ok = False
        if model is not None and (not isinstance(model, str) or not model.strip()):
            errors.append(CaseError(name, lineno, "model", f"must be a non-empty string, got {model!r}"))
            ok = False
        if not ok:
            continue
        assert isinstance(cid, str) and isinstance(resp, str)
        if model is None:
            unnamed.append(lineno)
        key = (model, cid)
        if key in first_line:
            who = f" for model {model!r}" if model else ""
            errors.append(CaseError(name, lineno, "id", f"duplicate id {cid!r}{who} (first on line {first_line[key]})"))
            continue
        first_line[key] = lineno
        by_model.setdefault(model, {})[cid] = resp
    if unnamed and any(m is not None for m in by_model):
        for lineno in unnamed[:20]:
            errors.append(CaseError(name, lineno, "model", "missing, while other lines name a model: name it on every line"))
    if errors:
        raise ReplayFileError(errors)
    return by_model


def parse_spec(spec: str) -> tuple[Path, str | None]:
    """``replay/PATH.jsonl[#MODEL]`` -> (path, model or None)."""
    from . import ModelSpecError  # here, not at the top: the package may import this module early

    rest = spec.strip()
    if rest.startswith(PREFIX):
        rest = rest[len(PREFIX):]
    path, sep, model = rest.rpartition("#") if "#" in rest else (rest, "", "")
    if not path:
        raise ModelSpecError(f"replay spec {spec!r} has no file ({PREFIX}PATH.jsonl[#MODEL])")
    if sep and not model:
        raise ModelSpecError(f"replay spec {spec!r} has an empty model after '#'")
    return Path(path).expanduser(), (model or None)


def create(spec: str) -> ReplayBackend:
    """The backend for ``replay/PATH.jsonl`` or ``replay/PATH.jsonl#MODEL``."""
    path, model = parse_spec(spec)
    return ReplayBackend(spec, path, model)


__all__ = ["PREFIX", "ReplayBackend", "ReplayFileError", "ReplayMissing", "create", "parse_spec"]
