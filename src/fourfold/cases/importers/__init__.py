"""Importers: map data sets others wrote (BIG-bench tasks, HumanEval problems,
plain JSONL/CSV tables) onto the grid as fourfold case dicts.

Why dicts and not ``Case`` objects: the output is a case *file*, and a dict is
exactly what gets written; every dict is still validated with
``Case.model_validate`` before it is returned, so a file written by
:func:`write_cases` always loads. Errors are collected over the whole input and
raised together as one :class:`CaseFileError`, each naming the file, the line
(for BIG-bench, the line the example starts on in ``task.json``) and the
field *of the source data* (a column, ``examples[3].target_scores``), because
the user fixes the source, not the case we would have made from it.

Entry points (the ``fourfold cases import`` command calls the last three):

- :func:`import_bigbench`, :func:`import_humaneval`, :func:`import_table`
- :func:`import_file` (detects the format), :func:`parse_mapping`, :func:`write_cases`

One module a source format (``bigbench``, ``humaneval``, ``table`` for JSONL/CSV),
what they share in ``common``, and writing the case file (with its media) in
``write``; every public name is importable from this package.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..taxonomy import CELLS
from .bigbench import import_bigbench
from .common import ImportedCase, _check_cell_category, _Collector, _read_text
from .humaneval import _HUMANEVAL_KEYS, humaneval_prompt, import_humaneval
from .table import MAPPING_FIELDS, TABLE_KINDS, _table_format, _table_rows, import_table, parse_mapping
from .write import write_cases

__all__ = [
    "FORMATS", "MAPPING_FIELDS", "TABLE_KINDS", "ImportedCase", "detect_format", "humaneval_prompt", "import_bigbench",
    "import_file", "import_humaneval", "import_table", "parse_mapping", "write_cases",
]

#: Formats :func:`import_file` knows (the CLI's ``--format`` choices).
FORMATS: tuple[str, ...] = ("bigbench", "humaneval", "jsonl", "csv")


def detect_format(path: Path) -> str:
    """``bigbench``, ``humaneval``, ``jsonl`` or ``csv``, from the name and, where needed, the contents.

    A ``.json`` file must be a BIG-bench task (an object with ``examples``); a
    JSONL file whose first record has task_id/prompt/test/entry_point is
    HumanEval; other JSONL and CSV files are tables that need a mapping.
    """
    errs = _Collector(path)
    if not path.is_file():
        raise errs.fail(0, "", "no such file")
    name = path.name.lower().removesuffix(".gz")
    if name.endswith((".csv", ".tsv")):
        return "csv"
    text = _read_text(path, errs)
    if name.endswith(".json") or not name.endswith((".jsonl", ".ndjson")):
        try:
            obj = json.loads(text)
        except json.JSONDecodeError:
            obj = None
        if isinstance(obj, dict) and isinstance(obj.get("examples"), list):
            return "bigbench"
        if name.endswith(".json"):
            raise errs.fail(0, "--format", 'a .json file is imported only as a BIG-bench task (an object with '
                                           '"examples"); JSON lines should be named .jsonl')
    first = next((line for line in text.splitlines() if line.strip()), "")
    try:
        rec = json.loads(first)
    except json.JSONDecodeError:
        rec = None
    if isinstance(rec, dict):
        return "humaneval" if all(k in rec for k in _HUMANEVAL_KEYS) else "jsonl"
    raise errs.fail(0, "--format", f"cannot tell the format of {path.name}; pass --format {'|'.join(FORMATS)}")


def import_file(path: Path, *, fmt: str | None = None, cell: str | None = None,
                mapping: dict[str, str] | None = None, reference_kind: str | None = "exact",
                category: str | None = None, delimiter: str | None = None,
                literal_choices: bool = False) -> list[dict]:
    """Import any supported file; what ``fourfold cases import`` calls.

    ``fmt`` None detects the format (:func:`detect_format`). ``cell`` is needed
    for everything but HumanEval (default code/generalizability); ``mapping``
    only for jsonl/csv; ``reference_kind`` (None or "exact" = the default)
    only applies to jsonl/csv. ``category`` defaults per format ("other",
    HumanEval "generation"). Every problem is a :class:`CaseFileError`; for
    options the field is the command-line flag (``--cell``, ``--map``...).
    ``literal_choices`` (BIG-bench only) keeps a task's ``append_choices_to_input:
    false`` literally instead of showing the options lettered.
    """
    errs = _Collector(path)
    if fmt is not None and fmt not in FORMATS:
        raise errs.fail(0, "--format", f"unknown format {fmt!r}; formats: {', '.join(FORMATS)}")
    if not path.is_file():
        raise errs.fail(0, "", "no such file" if not path.exists() else "not a file")
    fmt = fmt or detect_format(path)
    if literal_choices and fmt != "bigbench":
        raise errs.fail(0, "--literal-choices", f"--literal-choices applies only to BIG-bench tasks, not to {fmt}")
    if fmt in ("bigbench", "humaneval"):
        if mapping:
            raise errs.fail(0, "--map", f"--map applies only to jsonl/csv tables, not to {fmt}")
        if reference_kind not in (None, "exact"):
            raise errs.fail(0, "--kind", f"--kind applies only to jsonl/csv tables; {fmt} sets the reference itself")
        if fmt == "bigbench":
            return import_bigbench(path, cell=_need_cell(errs, cell, "a BIG-bench task"), category=category or "other",
                                   literal_choices=literal_choices)
        return import_humaneval(path, cell=cell or "code/generalizability", category=category or "generation")
    cell = _need_cell(errs, cell, f"a {fmt} table")
    kind = reference_kind or "exact"
    if not mapping:
        _check_cell_category(errs, cell, category or "other", fmt=f"a {fmt} table")
        columns = _table_rows(path, errs, delimiter)[1] if _table_format(path) else []
        cols = f" (columns: {', '.join(columns)})" if columns else ""
        raise errs.fail(0, "--map", f"a {fmt} table needs --map FIELD=COLUMN,..., e.g. --map input=question,"
                                    f"target=answer{cols}")
    if _table_format(path) != fmt:
        raise errs.fail(0, "--format", f"--format {fmt} needs a file named .{'jsonl' if fmt == 'jsonl' else 'csv'} "
                                       f"(or .tsv); {path.name} is not")
    return import_table(path, cell=cell, mapping=mapping, reference_kind=kind, category=category or "other",
                        delimiter=delimiter)


def _need_cell(errs: _Collector, cell: str | None, what: str) -> str:
    if cell is None:
        raise errs.fail(0, "--cell", f"{what} needs --cell, e.g. --cell text/causality (cells: {', '.join(CELLS)})")
    return cell

