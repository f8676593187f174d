"""Write and read per-case exports: CSV, JSONL, Parquet, all from ``schema.ExportRow``.

Responses and rationales are untrusted text. A spreadsheet runs a CSV cell that
starts with ``=``, ``+``, ``-``, ``@``, tab or carriage return as a formula, so
such a cell gets a leading apostrophe (OWASP's advice; spreadsheets hide it). A
cell that already starts with an apostrophe gets one more, so the rule reverses
exactly: ``read_export`` drops one leading apostrophe from every text cell.
JSONL and Parquet hold the text unchanged.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from operator import attrgetter
from pathlib import Path
from typing import Literal

from .schema import COLUMNS, ExportRow, base_type, nullable

Format = Literal["csv", "jsonl", "parquet"]
FORMATS: tuple[str, ...] = ("csv", "jsonl", "parquet")
#: First characters a spreadsheet takes as the start of a formula, and the apostrophe that escapes them.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "'")
_PARQUET_BATCH = 10_000
_VALUES = attrgetter(*COLUMNS)  # a row's values in column order, in one C call (model_dump is 10x slower)


class ParquetUnavailable(RuntimeError):
    """pyarrow is not installed (it is the optional extra ``fourfold[parquet]``)."""


def defuse(text: str) -> str:
    """A CSV text cell a spreadsheet will not run as a formula (see the module docstring)."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def _csv_cell(value: object) -> object:
    if value is None:
        return ""
    return defuse(value) if isinstance(value, str) else value


def write_csv(rows: Iterable[ExportRow], path: Path) -> int:
    """RFC 4180 CSV with a header row; null is an empty cell. Returns the rows written."""
    n = 0
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\r\n")
        w.writerow(COLUMNS)
        for row in rows:
            w.writerow([_csv_cell(v) for v in _VALUES(row)])
            n += 1
    return n


def write_jsonl(rows: Iterable[ExportRow], path: Path) -> int:
    """One JSON object per line, keys in column order."""
    n = 0
    with path.open("w", encoding="utf-8", newline="\n") as f:
        for row in rows:
            f.write(row.model_dump_json() + "\n")
            n += 1
    return n


def parquet_schema():  # noqa: ANN201 - a pyarrow.Schema (pyarrow is optional)
    """The Parquet schema derived from ``ExportRow``: str -> string, int -> int64, float -> float64."""
    pa = _pyarrow()
    kinds = {str: pa.string(), int: pa.int64(), float: pa.float64()}
    return pa.schema([pa.field(name, kinds[base_type(f.annotation)], nullable=nullable(name))
                      for name, f in ExportRow.model_fields.items()],
                     metadata={"fourfold.export.schema_version": str(ExportRow.model_fields["schema_version"].default)})


def write_parquet(rows: Iterable[ExportRow], path: Path) -> int:
    """Parquet (zstd), written in batches so a large store never sits in memory twice."""
    pa = _pyarrow()
    import pyarrow.parquet as pq

    schema, n = parquet_schema(), 0
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        for batch in _batches(rows, _PARQUET_BATCH):
            columns = zip(*map(_VALUES, batch), strict=True)
            writer.write_table(pa.Table.from_arrays([pa.array(c, type=f.type) for c, f in zip(columns, schema,
                                                                                              strict=True)],
                                                    schema=schema))
            n += len(batch)
    return n


def write_export(rows: Iterable[ExportRow], path: Path, fmt: Format) -> int:
    """Write ``rows`` to ``path`` in ``fmt``; returns how many. Parquet raises ``ParquetUnavailable`` before
    anything is written when pyarrow is missing."""
    writer = {"csv": write_csv, "jsonl": write_jsonl, "parquet": write_parquet}[fmt]
    if fmt == "parquet":
        _pyarrow()
    return writer(rows, path)


def read_export(path: Path, fmt: Format) -> list[ExportRow]:
    """An export read back into rows (CSV: apostrophes removed as written, an empty cell is null)."""
    if fmt == "jsonl":
        with path.open(encoding="utf-8") as f:
            return [ExportRow.model_validate_json(line) for line in f]
    if fmt == "parquet":
        _pyarrow()
        import pyarrow.parquet as pq

        return [ExportRow.model_validate(d) for d in pq.read_table(path).to_pylist()]
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        return [ExportRow.model_validate(_from_csv(header, cells)) for cells in reader]


def _from_csv(header: list[str], cells: list[str]) -> dict[str, object]:
    out: dict[str, object] = {}
    for name, cell in zip(header, cells, strict=True):
        if cell == "" and nullable(name):
            out[name] = None
        elif base_type(ExportRow.model_fields[name].annotation) is str:
            out[name] = cell[1:] if cell.startswith("'") else cell
        else:
            out[name] = json.loads(cell)
    return out


def _batches(rows: Iterable[ExportRow], size: int) -> Iterator[list[ExportRow]]:
    batch: list[ExportRow] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _pyarrow():  # noqa: ANN202 - the pyarrow module
    try:
        import pyarrow
    except ImportError:
        raise ParquetUnavailable("parquet export needs pyarrow: pip install 'fourfold[parquet]' "
                                 "(or pip install pyarrow)") from None
    return pyarrow


__all__ = ["FORMATS", "Format", "ParquetUnavailable", "defuse", "parquet_schema", "read_export", "write_export"]
