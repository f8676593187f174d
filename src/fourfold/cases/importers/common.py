"""What every importer shares: the case dict it returns (:class:`ImportedCase`), the
error collector that reports all of a file's problems at once, validation against
the case schema, the license found next to a data set, and reading (gzip'd) text."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ...registry import did_you_mean, with_hint
from ..loader import CaseError, CaseFileError, _field_and_message
from ..schema import Case
from ..taxonomy import CATEGORIES, CELLS

_NOT_ID = re.compile(r"[^A-Za-z0-9._:/-]")
_DEFAULT_LICENSE_BIGBENCH = "see original task"
_DEFAULT_LICENSE = "see original data set"


class ImportedCase(dict):  # type: ignore[type-arg]
    """A case dict that remembers the folder its relative media paths are relative to.

    Why: an image column names files relative to the *data* file, but a case
    file's media paths are relative to the *case* file, which :func:`write_cases`
    may put elsewhere. Carrying the base as an attribute (not a key) keeps the
    dict exactly the case-file shape, keeps local absolute paths out of shared
    suites, and lets ``write_cases(cases, out)`` rebase the paths without the
    caller having to pass the data file's folder along.
    """

    base: Path | None = None

    def __init__(self, *args: Any, base: Path | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.base = base


class _Collector:
    """Errors for one source file: every importer reports all problems at once."""

    def __init__(self, path: Path):
        self.file = str(path)
        self.errors: list[CaseError] = []

    def add(self, line: int, field: str, message: str) -> None:
        self.errors.append(CaseError(self.file, line, field, message))

    def fail(self, line: int, field: str, message: str) -> CaseFileError:
        """A file-level error that stops the import at once (nothing else can be checked)."""
        return CaseFileError([*self.errors, CaseError(self.file, line, field, message)])

    def raise_if_any(self) -> None:
        """Raise all errors in file order (parse errors are found before per-record ones)."""
        if self.errors:
            raise CaseFileError(sorted(self.errors, key=lambda e: e.line))


# ------------------------------------------------------------------ shared checks


def _check_cell_category(errs: _Collector, cell: str | None, category: str, *, fmt: str) -> str:
    """Cell and category are the same for every record: check them once, not per record."""
    if cell is None:
        raise errs.fail(0, "--cell", f"{fmt} needs a cell, e.g. --cell text/causality (cells: {', '.join(CELLS)})")
    if cell not in CELLS:
        raise errs.fail(0, "--cell", f"{with_hint(f'unknown cell {cell!r}', cell, CELLS)} (cells: {', '.join(CELLS)})")
    if category not in CATEGORIES[cell]:
        raise errs.fail(0, "--category", _category_message(category, cell))
    return cell


def _category_message(category: str, cell: str) -> str:
    hint = did_you_mean(category, CATEGORIES[cell], end=" ")
    return f"{category!r} is not one of {cell}'s categories: {hint}allowed: {', '.join(CATEGORIES[cell])}"


def _safe_id(raw: str) -> str:
    """Characters the id regex forbids become ``_``; a leading non-alphanumeric is dropped."""
    return _NOT_ID.sub("_", raw).lstrip("._:/-")


def _validate(case: dict[str, Any], errs: _Collector, line: int, where: Mapping[str, str]) -> bool:
    """Validate one produced case; report pydantic errors under the *source* field.

    ``where`` maps a top-level case field (``reference``, ``input``, ``id``...) to
    the source field it was made from. The importers check the source first, so
    this is a safety net; when it fires, the message keeps the case's own path.
    """
    try:
        Case.model_validate(case)
    except ValidationError as e:
        for err in e.errors():
            field, msg = _field_and_message(err)
            top = re.split(r"[.\[]", field, maxsplit=1)[0]
            source = where.get(top)
            if source is not None and field:
                msg = f"{msg} (in the case's {field})"
            errs.add(line, source if source is not None else field, msg)
        return False
    return True


def _sibling_license(folder: Path) -> str | None:
    """The license named by a LICENSE file or a README's ``License: ...`` line next to the data.

    Why both: BIG-bench keeps task provenance in each task's README, most other
    data sets ship a LICENSE file; a LICENSE file is the more authoritative.
    """
    for name in ("LICENSE", "LICENSE.txt", "LICENSE.md", "LICENCE", "COPYING"):
        p = folder / name
        if p.is_file():
            text = _read_text_quietly(p)
            if text:
                return _spdx_guess(text) or next(line.strip() for line in text.splitlines() if line.strip())[:120]
    for name in ("README.md", "README", "README.txt", "README.rst"):
        p = folder / name
        if p.is_file():
            found = _license_in_readme(_read_text_quietly(p))
            if found:
                return found
    return None


def _read_text_quietly(p: Path) -> str:
    try:
        return p.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _spdx_guess(text: str) -> str | None:
    head = text[:2000]
    if "Apache License" in head and "2.0" in head:
        return "Apache-2.0"
    if re.search(r"\bMIT License\b", head) or head.lstrip().startswith("MIT"):
        return "MIT"
    m = re.search(r"\bCC[ -]BY(?:[ -](?:SA|NC|ND))*[ -]\d\.\d\b", head)
    return m.group(0) if m else None


_README_LICENSE = re.compile(r"^[\s*_>#-]*licen[cs]e[\s*_]*[:\-\u2013]\s*(.+?)\s*$", re.I)
_README_HEADING = re.compile(r"^\s*#{1,6}\s*licen[cs]e\s*$", re.I)


def _license_in_readme(text: str) -> str | None:
    lines = text.splitlines()
    for i, line in enumerate(lines):
        m = _README_LICENSE.match(line)
        if m:
            return m.group(1).strip("*_ ")[:120] or None
        if _README_HEADING.match(line):
            after = next((x.strip() for x in lines[i + 1:] if x.strip()), "")
            if after and not after.startswith("#"):
                return after[:120]
    return None


def _read_text(path: Path, errs: _Collector) -> str:
    """The whole file as text, gunzipped when it is gzip (by suffix or magic bytes)."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise errs.fail(0, "", f"cannot read: {e.strerror or e}") from None
    if path.suffix == ".gz" or raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as e:
            raise errs.fail(0, "", f"not a valid gzip file: {e}") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise errs.fail(0, "", f"not UTF-8 text (byte {e.start})") from None


def _jsonl_records(path: Path, errs: _Collector) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, object)`` for each non-blank line; bad lines go to ``errs``."""
    for lineno, raw in enumerate(_read_text(path, errs).splitlines(), 1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as e:
            errs.add(lineno, "", f"invalid JSON: {e.msg} (column {e.colno})")
            continue
        if not isinstance(obj, dict):
            errs.add(lineno, "", f"each line must be a JSON object, not {_json_type(obj)}")
            continue
        yield lineno, obj


def _json_type(v: Any) -> str:
    if v is None:
        return "null"
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list",
            dict: "an object"}.get(type(v), type(v).__name__)


def _text_input(text: str, images: list[str] | None = None) -> list[dict[str, Any]]:
    if not images:
        return [{"role": "user", "content": text}]
    parts: list[dict[str, Any]] = [{"type": "image", "path": p} for p in images]
    parts.append({"type": "text", "text": text})
    return [{"role": "user", "content": parts}]
