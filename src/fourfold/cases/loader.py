"""Reading case files. Every error names the file, the line and the field, so a
user with a 5,000-line JSONL can go straight to the broken record."""

from __future__ import annotations

import errno
import hashlib
import json
import math
import os
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from .boundary import MediaPathError, check_media_file, checked_media, resolve_media
from .kinds.exact import ExactRef
from .schema import _ID, Case, ImagePart, Message, Metadata, TextPart, VideoPart
from .taxonomy import CATEGORIES, CELLS

SUITES_DIR = Path(__file__).parent / "suites"
#: Deepest nesting of arrays and objects a case record may have. Real cases
#: need a handful of levels; a limit keeps every later json.dumps and pydantic
#: pass far from Python's recursion limit.
MAX_JSON_DEPTH = 32

__all__ = ["MAX_JSON_DEPTH", "CaseError", "CaseFileError", "LoadedCase", "MediaPathError", "checked_media",
           "iter_json_lines", "list_suites", "load_cases", "load_file", "parse_records",
           "resolve_media", "resolve_source", "source_files"]


@dataclass
class CaseError:
    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class CaseFileError(Exception):
    """One or more records could not be read; ``errors`` lists them all."""

    def __init__(self, errors: list[CaseError]):
        self.errors = errors
        shown = "\n".join(str(e) for e in errors[:20])
        more = f"\n... and {len(errors) - 20} more" if len(errors) > 20 else ""
        super().__init__(shown + more)


@dataclass(frozen=True)
class LoadedCase:
    """A validated case plus where it came from (media paths resolve against ``base``)."""

    case: Case
    file: str
    line: int
    base: Path
    suite: str

    def media_path(self, part: ImagePart | VideoPart) -> Path:
        return resolve_media(self.base, part.path)


def list_suites() -> list[str]:
    """Built-in suites: ``suites/NAME.jsonl`` or a folder ``suites/NAME/`` of JSONL files."""
    files = {p.stem for p in SUITES_DIR.glob("*.jsonl")}
    folders = {p.name for p in SUITES_DIR.iterdir() if p.is_dir() and any(p.rglob("*.jsonl"))}
    return sorted(files | folders)


def resolve_source(source: str) -> Path:
    """A suite name (``starter``) or a path to a JSONL file or a folder of them."""
    p = Path(source)
    try:
        os.stat(p)
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise CaseFileError([CaseError(source, 0, "", "a symlink loop")]) from None
    else:
        return p
    for builtin in (SUITES_DIR / f"{source}.jsonl", SUITES_DIR / source):
        if builtin.exists():
            return builtin
    from ..registry import with_hint

    message = with_hint("no such file or built-in suite", source, list_suites())
    raise CaseFileError([CaseError(source, 0, "", f"{message} (suites: {', '.join(list_suites())})")])


def iter_json_lines(name: str, text: str | Iterable[str], errors: list[CaseError],
                    shape: str = "a JSON object") -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each JSONL line that is a JSON object; blank and
    ``//`` lines are skipped, and every other bad line is added to ``errors``:
    invalid JSON, but also what Python's json module accepts and a case must
    not hold (NaN and Infinity, integers of more than 4,300 digits, nesting
    deeper than :data:`MAX_JSON_DEPTH`). ``text``: a whole file, or its lines one
    at a time (an open file: a million-line file is never held whole)."""
    for lineno, raw in enumerate(text.splitlines() if isinstance(text, str) else text, 1):
        if not raw.strip() or raw.lstrip().startswith("//"):
            continue
        try:
            obj = _decode(raw)
        except json.JSONDecodeError as e:
            errors.append(CaseError(name, lineno, "", f"invalid JSON: {e.msg} (column {e.colno})"))
            continue
        except RecursionError:
            errors.append(CaseError(name, lineno, "", f"JSON nested too deeply (at most {MAX_JSON_DEPTH} levels)"))
            continue
        except ValueError as e:  # NaN/Infinity, and ints over sys.get_int_max_str_digits()
            msg = str(e)
            if "integer string conversion" in msg:
                msg = f"a number of more than {sys.get_int_max_str_digits()} digits"
            errors.append(CaseError(name, lineno, "", f"invalid JSON: {msg}"))
            continue
        if not isinstance(obj, dict):
            errors.append(CaseError(name, lineno, "", f"each line must be {shape}"))
            continue
        # Each level opens a bracket: a line with no more brackets than the limit (brackets
        # inside strings only add to the count) needs no walk, which cost a third of loading.
        where = None if raw.count("{") + raw.count("[") <= MAX_JSON_DEPTH else _too_deep(obj)
        if where is not None:
            errors.append(CaseError(name, lineno, where, f"nested too deeply (at most {MAX_JSON_DEPTH} levels)"))
            continue
        yield lineno, obj


def _no_constant(token: str) -> Any:
    raise ValueError(f"{token} is not a number a case may hold (JSON has no NaN or Infinity)")


def _finite_float(token: str) -> float:
    value = float(token)
    if math.isinf(value):
        raise ValueError(f"{token[:40]} is too large for a number (it would be infinite)")
    return value


#: One decoder for every line: ``json.loads`` with hooks builds a new one per call (5 us a case).
_DECODER = json.JSONDecoder(parse_constant=_no_constant, parse_float=_finite_float)


def _decode(raw: str) -> Any:
    """``json.loads(raw, parse_constant=_no_constant, parse_float=_finite_float)``, the same errors included."""
    if raw.startswith("\ufeff"):
        return json.loads(raw)  # its own "Unexpected UTF-8 BOM" error, raised before any parsing
    return _DECODER.decode(raw)


def _too_deep(obj: Any) -> str | None:
    """The field path where ``obj`` passes :data:`MAX_JSON_DEPTH` levels, or None.
    Iterative, so it cannot itself hit the recursion limit."""
    stack: list[tuple[Any, int, str]] = [(obj, 1, "")]
    while stack:
        value, depth, path = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return path if len(path) <= 60 else path[:60] + "..."
        if isinstance(value, dict):
            stack.extend((v, depth + 1, f"{path}.{k}" if path else str(k)) for k, v in value.items()
                         if isinstance(v, (dict, list)))
        elif isinstance(value, list):
            stack.extend((v, depth + 1, f"{path}[{i}]") for i, v in enumerate(value) if isinstance(v, (dict, list)))
    return None


def _loc_to_field(loc: Iterable[Any]) -> str:
    out = ""
    for item in loc:
        if isinstance(item, int):
            out += f"[{item}]"
        else:
            out += ("." if out else "") + str(item)
    return out


# (A reference is validated by the schema its kind names, so pydantic inserts no tag there.)
_DISCRIMINATED = {"content": ("text", "image", "video")}
_FIELD_PREFIX = re.compile(r"^([a-z_][\w.\[\]]*): (.*)$", re.S)


def _field_and_message(err: Any) -> tuple[str, str]:
    """pydantic's location, minus the union tags it inserts (``input[0].content[1].image.path``
    reads better as ``input[0].content[1].path``); cross-field checks name their field as
    a ``field: message`` prefix because pydantic gives them no location."""
    loc: list[Any] = []
    for item in err["loc"]:
        parent = loc[-1] if loc else None
        if isinstance(parent, int) and len(loc) >= 2:
            parent = loc[-2]
        if isinstance(item, str) and parent in _DISCRIMINATED and item in _DISCRIMINATED[parent]:
            continue
        loc.append(item)
    msg = err["msg"].removeprefix("Value error, ")
    field = _loc_to_field(loc)
    if not field:
        m = _FIELD_PREFIX.match(msg)
        if m:
            field, msg = m.group(1), m.group(2)
    return field, msg


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _generic_case(obj: dict[str, Any], cell: str | None, index: int) -> Case:
    """``{"id","input","target"}`` -> a case with an exact reference in ``cell``.

    Checked by hand and built with ``model_construct``: these files run to
    thousands of lines and full validation was a third of start-up."""
    if cell is None:
        raise ValueError("generic JSONL ({id, input, target}) needs --cell, e.g. --cell text/generalizability")
    unknown = set(obj) - {"id", "input", "target", "category", "metadata"}
    if unknown:
        raise ValueError(f"unexpected field(s) {sorted(unknown)} in a generic record")
    cid = obj.get("id", f"case-{index:06d}")
    if isinstance(cid, int) and not isinstance(cid, bool):
        cid = str(cid)
    if not isinstance(cid, str) or not _ID.match(cid):
        raise _FieldError("id", "must be 1-200 characters of letters, digits and . _ : / -")
    text = obj.get("input")
    if not isinstance(text, str) or not text.strip():
        raise _FieldError("input", "must be a non-empty string in a generic record")
    target = obj["target"]
    if isinstance(target, bool) or not isinstance(target, (str, int, float)):
        raise _FieldError("target", "must be a string or a number")
    category = obj.get("category", "other")
    if category not in CATEGORIES[cell]:
        raise _FieldError("category", f"{category!r} is not one of {cell}'s: {', '.join(CATEGORIES[cell])}")
    meta = obj.get("metadata")
    metadata = Metadata.model_validate(meta) if meta else _NO_METADATA
    return _trusted(Case, id=cid, cell=cell, category=category,
                    input=[_trusted(Message, role="user", content=[_trusted(TextPart, type="text", text=text)])],
                    reference=_trusted(ExactRef, kind="exact", answer=str(target), aliases=[], case_sensitive=False),
                    metadata=metadata)


_NO_METADATA = Metadata()
_M = TypeVar("_M", bound=BaseModel)


def _trusted(cls: type[_M], **values: Any) -> _M:
    """``cls.model_construct`` for values already checked, with every field given:
    the same object, without model_construct's per-call bookkeeping (a third of
    the time to load 2,000 generic records)."""
    m = cls.__new__(cls)
    object.__setattr__(m, "__dict__", values)
    object.__setattr__(m, "__pydantic_fields_set__", set(values))
    object.__setattr__(m, "__pydantic_extra__", None)
    object.__setattr__(m, "__pydantic_private__", None)
    return m


class _FieldError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def _is_generic(obj: dict[str, Any]) -> bool:
    return "target" in obj and "reference" not in obj


def load_file(path: Path, *, cell: str | None = None, suite: str | None = None,
              check_media: bool = True) -> list[LoadedCase]:
    """Load one JSONL file. Collects every error before raising, so one run of
    ``fourfold cases validate`` shows all problems at once."""
    if cell is not None and cell not in CELLS:
        raise CaseFileError([CaseError(str(path), 0, "--cell", f"unknown cell {cell!r}")])
    errors: list[CaseError] = []
    out: list[LoadedCase] = []
    seen: dict[str, int] = {}
    base = path.parent
    name = str(path)
    suite_name = suite or path.stem
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise CaseFileError([CaseError(name, 0, "", f"cannot read: {e}")]) from None
    out.extend(parse_records(name, base, suite_name, text.splitlines(), errors, cell=cell, check_media=check_media,
                             seen=seen))
    if errors:
        raise CaseFileError(errors)
    return out


def parse_records(name: str, base: Path, suite_name: str, lines: Iterable[str], errors: list[CaseError], *,
                  cell: str | None, check_media: bool = True, seen: dict[str, int] | None = None
                  ) -> Iterator[LoadedCase]:
    """Each valid case of one file's ``lines``, in order; every bad record is added to
    ``errors`` instead. ``seen`` (id -> line): ids are checked for duplicates in it;
    None leaves that to the caller (by hash, for a stream of millions)."""
    for lineno, obj in iter_json_lines(name, lines, errors):
        try:
            case = _generic_case(obj, cell, lineno) if _is_generic(obj) else Case.model_validate(obj)
        except _FieldError as e:
            errors.append(CaseError(name, lineno, e.field, str(e)))
            continue
        except ValueError as e:
            if isinstance(e, ValidationError):
                for err in e.errors():
                    field, msg = _field_and_message(err)
                    errors.append(CaseError(name, lineno, field, msg))
            else:
                errors.append(CaseError(name, lineno, "", str(e)))
            continue
        if seen is not None:
            if case.id in seen:
                errors.append(CaseError(name, lineno, "id", f"duplicate id {case.id!r} (first on line {seen[case.id]})"))
                continue
            seen[case.id] = lineno
        if check_media and case.media():
            case, media_errors = _attach_media_hashes(case, base, name, lineno)
            if media_errors:
                errors.extend(media_errors)
                continue
        yield LoadedCase(case, name, lineno, base, suite_name)


def _attach_media_hashes(case: Case, base: Path, name: str, lineno: int) -> tuple[Case, list[CaseError]]:
    """Each media part resolved inside its boundary (see :mod:`.boundary`),
    checked for content, and given its sha256; or the errors, one per part."""
    errors: list[CaseError] = []
    messages: list[Message] = []
    for mi, msg in enumerate(case.input):
        parts = []
        for pi, part in enumerate(msg.content):
            if isinstance(part, (ImagePart, VideoPart)):
                try:
                    p = resolve_media(base, part.path)
                    check_media_file(p, part.type)
                    digest = _sha256_file(p)
                except MediaPathError as e:
                    errors.append(CaseError(name, lineno, f"input[{mi}].content[{pi}].path", str(e)))
                    parts.append(part)
                    continue
                except OSError as e:
                    errors.append(CaseError(name, lineno, f"input[{mi}].content[{pi}].path", f"cannot read: {e}"))
                    parts.append(part)
                    continue
                if part.sha256 and part.sha256 != digest:
                    errors.append(CaseError(name, lineno, f"input[{mi}].content[{pi}].sha256",
                                            f"does not match {part.path} (file has {digest[:12]}...)"))
                parts.append(part.model_copy(update={"sha256": digest}))
            else:
                parts.append(part)
        messages.append(msg.model_copy(update={"content": parts}))
    return case.model_copy(update={"input": messages}), errors


def source_files(sources: list[str], errors: list[CaseError]) -> list[tuple[Path, str]]:
    """(file, suite name) for every source: a built-in suite, a file, or a folder's
    ``*.jsonl`` files in name order; a source that names none is added to ``errors``."""
    out: list[tuple[Path, str]] = []
    for src in sources:
        try:
            p = resolve_source(src)
            files = sorted(p.rglob("*.jsonl")) if p.is_dir() else [p]
            if p.is_dir() and not files:
                raise CaseFileError([CaseError(str(p), 0, "", "folder holds no .jsonl case files")])
        except CaseFileError as e:
            errors.extend(e.errors)
            continue
        suite = src if not Path(src).exists() else None
        out.extend((f, suite or f.stem) for f in files)
    return out


def load_cases(sources: list[str], *, cell: str | None = None, cells: list[str] | None = None,
               limit: int | None = None) -> list[LoadedCase]:
    """Load suites/files/folders; keep ``cells``; at most ``limit`` cases per cell.
    Ids must be unique across all sources, since results are reported by id."""
    errors: list[CaseError] = []
    loaded: list[LoadedCase] = []
    for f, suite in source_files(sources, errors):
        try:
            loaded.extend(load_file(f, cell=cell, suite=suite))
        except CaseFileError as e:
            errors.extend(e.errors)
    first: dict[str, LoadedCase] = {}
    for lc in loaded:
        prev = first.setdefault(lc.case.id, lc)
        if prev is not lc:
            errors.append(CaseError(lc.file, lc.line, "id",
                                    f"duplicate id {lc.case.id!r} (also {prev.file}:{prev.line})"))
    if errors:
        raise CaseFileError(errors)
    if cells is not None:
        keep = set(cells)
        loaded = [lc for lc in loaded if lc.case.cell in keep]
    if limit is not None:
        per_cell: dict[str, int] = {}
        kept = []
        for lc in loaded:
            n = per_cell.get(lc.case.cell, 0)
            if n < limit:
                kept.append(lc)
                per_cell[lc.case.cell] = n + 1
        loaded = kept
    return loaded
