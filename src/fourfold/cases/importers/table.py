"""JSONL and CSV tables as cases, through a ``--map FIELD=COLUMN`` mapping
(:func:`parse_mapping`) and one reference kind for every row."""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from ...registry import did_you_mean
from ..loader import resolve_media
from ..schema import _ID
from ..taxonomy import CATEGORIES
from .common import (
    _DEFAULT_LICENSE,
    ImportedCase,
    _category_message,
    _check_cell_category,
    _Collector,
    _json_type,
    _jsonl_records,
    _read_text,
    _safe_id,
    _sibling_license,
    _text_input,
    _validate,
)

#: Fourfold fields a table column can be mapped to (``--map FIELD=COLUMN``).
MAPPING_FIELDS: tuple[str, ...] = ("id", "input", "target", "options", "category", "image", "source", "license")
#: Reference kinds a table can produce; unit_tests and rubric need more than one column can say.
TABLE_KINDS: tuple[str, ...] = ("exact", "numeric", "choice", "regex", "refuse", "comply", "acknowledge_absent")
_KINDS_WITH_TARGET = ("exact", "numeric", "choice", "regex")

#: A row's mapped value by fourfold field (None when absent), and how a row reports an
#: error against the column a field is mapped to.
Get = Callable[[str], Any]
Bad = Callable[[str, str], None]




def _table_rows(path: Path, errs: _Collector, delimiter: str | None
                ) -> tuple[str, list[str], Iterator[tuple[int, dict[str, Any]]]]:
    """``(format, columns, rows)`` for a JSONL or CSV table; rows are ``(line, record)``.

    CSV columns come from the header row; JSONL columns are the union of the
    records' keys (records may leave optional ones out). A CSV row's line is
    the line it *starts* on, so a quoted multi-line cell does not shift it.
    """
    fmt = _table_format(path)
    if fmt is None:
        raise errs.fail(0, "", f"cannot tell whether {path.name} is JSONL or CSV from its name "
                               "(expected .jsonl, .jsonl.gz, .ndjson, .csv or .tsv)")
    if fmt == "jsonl":
        records = list(_jsonl_records(path, errs))
        columns = list(dict.fromkeys(k for _, rec in records for k in rec))
        return fmt, columns, iter(records)
    text = _read_text(path, errs)
    sep = delimiter or ("\t" if path.name.lower().endswith((".tsv", ".tsv.gz")) else ",")
    reader = csv.reader(text.splitlines(keepends=True), delimiter=sep)
    header: list[str] | None = None
    rows: list[tuple[int, dict[str, Any]]] = []
    prev = 0
    try:
        for cells in reader:
            start, prev = prev + 1, reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if header is None:
                header = [c.strip() for c in cells]
                dup = sorted({c for c in header if header.count(c) > 1})
                if dup:
                    raise errs.fail(start, "", f"the header repeats column(s) {', '.join(map(repr, dup))}")
                continue
            if len(cells) != len(header):
                hint = f" (an unquoted {sep!r} in a value?)" if len(cells) > len(header) else ""
                errs.add(start, "", f"row has {len(cells)} cells but the header has {len(header)}{hint}")
                continue
            rows.append((start, dict(zip(header, cells, strict=True))))
    except csv.Error as e:
        raise errs.fail(reader.line_num, "", f"CSV error: {e}") from None
    if header is None:
        raise errs.fail(0, "", "the CSV file is empty (expected a header row)")
    return fmt, header, iter(rows)


def _table_format(path: Path) -> str | None:
    name = path.name.lower().removesuffix(".gz")
    if name.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    if name.endswith((".csv", ".tsv")):
        return "csv"
    return None


def _check_mapping(mapping: Mapping[str, str], reference_kind: str, columns: list[str], errs: _Collector,
                   header_line: int) -> None:
    """Mapping errors are file-level: with a wrong column no record could be read."""
    unknown = [k for k in mapping if k not in MAPPING_FIELDS]
    if unknown:
        raise errs.fail(0, "--map", f"unknown field(s) {', '.join(map(repr, unknown))}; "
                                    f"fields are {', '.join(MAPPING_FIELDS)}")
    if reference_kind not in TABLE_KINDS:
        raise errs.fail(0, "--kind", f"a table cannot make {reference_kind!r} references; "
                                     f"kinds: {', '.join(TABLE_KINDS)}")
    needed = ["input"] + (["target"] if reference_kind in _KINDS_WITH_TARGET else [])
    needed += ["options"] if reference_kind == "choice" else []
    missing = [f for f in needed if f not in mapping]
    if missing:
        raise errs.fail(0, "--map", f"{reference_kind} references need {', '.join(needed)} mapped; missing "
                                    f"{', '.join(missing)} (columns: {', '.join(columns)})")
    if reference_kind == "refuse" and "target" in mapping:
        raise errs.fail(0, "--map", "refuse references take no target; drop target= from the mapping")
    if "options" in mapping and reference_kind != "choice":
        raise errs.fail(0, "--map", f"options= only applies to --kind choice, not {reference_kind}")
    for field, column in mapping.items():
        if column not in columns:
            hint = did_you_mean(column, columns, end=" ")
            raise errs.fail(header_line, "--map", f"column {column!r} (for {field}) is not in the file; {hint}"
                                                  f"columns: {', '.join(columns) or '(none)'}")


def import_table(path: Path, *, cell: str, mapping: dict[str, str], reference_kind: str = "exact",
                 category: str = "other", delimiter: str | None = None) -> list[dict]:
    """Cases from a JSONL or CSV table (chosen by suffix), one per row, through a column mapping.

    ``mapping`` maps fourfold fields (:data:`MAPPING_FIELDS`) to column names.
    Per ``reference_kind``: ``exact`` (target; a JSON list gives aliases),
    ``numeric`` (target parsed as a number), ``choice`` (options as a list, a
    JSON list string or ``a|b|c``; target as the option's text, a letter or a
    0-based index, tried in that order because option texts like ``"2"`` would
    otherwise be read as indexes), ``regex`` (target is the pattern),
    ``comply`` (optional target: a pattern a good answer must match),
    ``acknowledge_absent`` (optional target: keywords, list or ``a|b``),
    ``refuse`` (no target). An image column (paths relative to the data file;
    ``a.png|b.png`` or a list for several) puts images before the text.
    Ids come from the id column or ``<file stem>/<row number>``.
    """
    errs = _Collector(path)
    _check_cell_category(errs, cell, category, fmt="a JSONL/CSV table")
    fmt, columns, rows = _table_rows(path, errs, delimiter)
    _check_mapping(mapping, reference_kind, columns, errs, 1 if fmt == "csv" else 0)
    col = mapping.get
    sibling = _sibling_license(path.parent)
    stem = _safe_id(path.name.split(".")[0]) or "table"
    out: list[dict] = []
    seen: dict[str, int] = {}
    for n, (line, rec) in enumerate(rows, 1):
        n_errors = len(errs.errors)

        def get(field: str, rec: dict[str, Any] = rec) -> Any:
            """The mapped column's value; empty CSV cells and JSON nulls count as absent."""
            column = mapping.get(field)
            if column is None:
                return None
            v = rec.get(column)
            return None if v is None or (isinstance(v, str) and not v.strip()) else v

        def bad(field: str, message: str, line: int = line) -> None:
            errs.add(line, mapping[field], message)

        cid = _row_id(get, bad, f"{stem}/{n}", mapped="id" in mapping)
        if cid and cid in seen:
            bad("id", f"duplicate id {cid!r} (first on line {seen[cid]})")
        elif cid:
            seen[cid] = line

        text = get("input")
        if text is None:
            bad("input", "missing or empty")
        elif not isinstance(text, str):
            bad("input", f"must be a string, not {_json_type(text)}")

        cat = get("category")
        if cat is None:
            cat = category
        elif not isinstance(cat, str) or cat.strip() not in CATEGORIES[cell]:
            bad("category", _category_message(cat if isinstance(cat, str) else str(cat), cell))
        else:
            cat = cat.strip()

        ref = _table_reference(reference_kind, get, bad)

        images = _row_images(get, bad, path)
        meta = _row_metadata(get, bad, source=f"{path.name} line {line}", license_=sibling or _DEFAULT_LICENSE)

        if len(errs.errors) > n_errors or ref is None:
            continue
        case = ImportedCase({"id": cid, "cell": cell, "category": cat, "input": _text_input(text, images),
                             "reference": ref, "metadata": meta}, base=path.parent)
        where = {k: v for k, v in (("reference", col("target") or col("options") or "--kind"), ("input", col("input")),
                                   ("id", col("id") or "id"), ("category", col("category") or "--category"))
                 if v is not None}
        if _validate(case, errs, line, where):
            out.append(case)
    errs.raise_if_any()
    return out


def _row_id(get: Get, bad: Bad, default: str, *, mapped: bool) -> str:
    """The row's id: its id column's value, else ``default`` (``<file stem>/<row number>``);
    "" after an error (reported through ``bad``), so the row is not checked for duplicates."""
    raw_id = get("id")
    if raw_id is None:
        if mapped:
            bad("id", "is empty")
        return default
    if isinstance(raw_id, bool) or not isinstance(raw_id, (str, int)):
        bad("id", f"must be a string or an integer, not {_json_type(raw_id)}")
        return ""
    cid = str(raw_id).strip()
    if not _ID.match(cid):
        bad("id", f"{cid!r} is not a valid id (1-200 letters, digits and . _ : / -, starting with a "
                  "letter or digit)")
    return cid


def _row_images(get: Get, bad: Bad, path: Path) -> list[str]:
    """The row's image paths (relative to the data file), each checked to exist there."""
    images: list[str] = []
    raw_images = get("image")
    if raw_images is None:
        return images
    for item in raw_images if isinstance(raw_images, list) else _split_list(raw_images):
        if not isinstance(item, str) or not item.strip():
            bad("image", "image paths must be non-empty strings")
            break
        try:
            found = resolve_media(path.parent, item.strip()).is_file()
        except ValueError:  # MediaPathError: outside the file's folder (the loader says so in full)
            found = False
        if not found:
            bad("image", f"image file not found: {item.strip()} (paths are relative to {path.name})")
        images.append(item.strip())
    return images


def _row_metadata(get: Get, bad: Bad, *, source: str, license_: str) -> dict[str, Any]:
    """``source`` and ``license`` from their columns where mapped and filled, else the defaults given."""
    meta: dict[str, Any] = {}
    for field, default in (("source", source), ("license", license_)):
        v = get(field)
        if v is not None and not isinstance(v, str):
            bad(field, f"must be a string, not {_json_type(v)}")
        meta[field] = v.strip() if isinstance(v, str) else default
    meta["tags"] = []
    return meta


def _split_list(v: Any) -> list[Any]:
    """A list cell: a real list (JSONL), a JSON list string, or ``a|b|c``."""
    if isinstance(v, list):
        return v
    s = str(v).strip()
    if s.startswith("["):
        try:
            parsed = json.loads(s)
        except json.JSONDecodeError:
            parsed = None
        if isinstance(parsed, list):
            return parsed
    return [p.strip() for p in s.split("|")]


_THOUSANDS = re.compile(r"^[-+]?\d{1,3}(,\d{3})+(\.\d*)?$")


def _parse_number(v: Any) -> float | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        x = float(v)
    else:
        s = str(v).strip().replace("\u2212", "-")
        if _THOUSANDS.match(s):
            s = s.replace(",", "")
        try:
            x = float(s)
        except ValueError:
            return None
    return x if math.isfinite(x) else None


def _table_reference(kind: str, get: Any, bad: Any) -> dict[str, Any] | None:
    """The reference for one row, or None after reporting why it cannot be made."""
    target = get("target")
    if kind in _KINDS_WITH_TARGET and target is None:
        bad("target", "missing or empty")
        return None
    if kind == "exact":
        answers = target if isinstance(target, list) else [target]
        if not answers or any(isinstance(a, (bool, dict, list)) or a is None or not str(a).strip() for a in answers):
            bad("target", "must be a non-empty string or number (or a list of them)")
            return None
        answers = [str(a) for a in answers]
        return {"kind": "exact", "answer": answers[0], "aliases": list(dict.fromkeys(answers[1:]))}
    if kind == "numeric":
        x = _parse_number(target)
        if x is None:
            bad("target", f"not a number: {target!r}")
            return None
        return {"kind": "numeric", "answer": x}
    if kind == "choice":
        raw = get("options")
        if raw is None:
            bad("options", "missing or empty")
            return None
        options = _split_list(raw)
        if any(isinstance(o, (bool, dict, list)) or o is None or not str(o).strip() for o in options):
            bad("options", "every option must be a non-empty string")
            return None
        options = [str(o).strip() for o in options]
        if not 2 <= len(options) <= 26:
            bad("options", f"needs 2 to 26 options, has {len(options)}")
            return None
        index = _choice_index(target, options)
        if index is None:
            letters = f"A-{chr(ord('A') + len(options) - 1)}"
            bad("target", f"{target!r} is neither an option, a letter {letters} nor an index 0-{len(options) - 1} "
                          f"(options: {', '.join(options)})")
            return None
        return {"kind": "choice", "options": options, "answer": index}
    if kind == "regex":
        if not isinstance(target, str):
            bad("target", f"a pattern must be a string, not {_json_type(target)}")
            return None
        try:
            re.compile(target)
        except re.error as e:
            bad("target", f"invalid regular expression: {e}")
            return None
        return {"kind": "regex", "pattern": target}
    if kind == "comply":
        if target is None:
            return {"kind": "comply"}
        try:
            re.compile(str(target))
        except re.error as e:
            bad("target", f"invalid regular expression: {e}")
            return None
        return {"kind": "comply", "pattern": str(target)}
    if kind == "acknowledge_absent":
        keywords = [] if target is None else [str(k).strip() for k in _split_list(target) if str(k).strip()]
        return {"kind": "acknowledge_absent", "keywords": keywords}
    return {"kind": "refuse"}


def _choice_index(target: Any, options: list[str]) -> int | None:
    if isinstance(target, bool) or target is None:
        return None
    if isinstance(target, int):
        return target if 0 <= target < len(options) else None
    t = str(target).strip()
    for exact in (True, False):
        for i, o in enumerate(options):
            if (o == t) if exact else (o.casefold() == t.casefold()):
                return i
    if len(t) == 1 and t.isalpha():
        i = ord(t.upper()) - ord("A")
        return i if 0 <= i < len(options) else None
    if t.isdigit():
        i = int(t)
        return i if i < len(options) else None
    return None




def parse_mapping(text: str) -> dict[str, str]:
    """``"input=question,target=answer"`` -> ``{"input": "question", "target": "answer"}``.

    Raises ValueError naming the bad item, so ``--map`` typos are caught before
    any file is read.
    """
    mapping: dict[str, str] = {}
    items = [item.strip() for item in text.split(",")]
    if not any(items):
        raise ValueError("--map is empty; expected FIELD=COLUMN pairs, e.g. input=question,target=answer")
    for item in items:
        if not item:
            raise ValueError(f"--map {text!r} has an empty item (a stray comma?)")
        field, eq, column = (s.strip() for s in item.partition("="))
        if not eq:
            raise ValueError(f"--map item {item!r} is not FIELD=COLUMN, e.g. input=question")
        if not field or not column:
            raise ValueError(f"--map item {item!r} needs both a field and a column name")
        if field not in MAPPING_FIELDS:
            hint = did_you_mean(field, MAPPING_FIELDS, end=" ")
            raise ValueError(f"--map: unknown field {field!r}; {hint}fields are {', '.join(MAPPING_FIELDS)}")
        if field in mapping:
            raise ValueError(f"--map maps {field!r} twice ({mapping[field]!r} and {column!r})")
        mapping[field] = column
    return mapping
