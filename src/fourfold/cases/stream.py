"""Cases as a stream: checked once up front, then read again lazily each time they
are iterated, so a run over a million cases never holds them all.

Why two passes rather than validating as the run goes: a bad record must be
reported (file:line:field, exit 2) before any request is paid for, and a run
that stops at line 700,000 of a file would have paid for 699,999 answers. The
first pass parses every record and keeps only counts per cell, the reference
kinds seen and one 64-bit hash per id (8 bytes a case: duplicates across files
are found by sorting those, and confirmed exactly on the rare hash match).
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .loader import CaseError, CaseFileError, LoadedCase, parse_records, source_files
from .taxonomy import CELLS

__all__ = ["CaseSource", "open_cases"]


#: Up to this many selected cases are kept from the checking pass and served from
#: memory (a suite of hundreds or thousands: no second parse, no media hashed twice);
#: past it they are read again lazily, so memory stops growing with the run.
KEEP_IN_MEMORY = 20_000


@dataclass
class CaseSource:
    """Validated case files, iterated lazily (each ``iter()`` reads the files again,
    unless the checking pass kept them: at most ``KEEP_IN_MEMORY``).

    ``cell_counts``: selected cases per cell (after ``cells`` and ``limit``), what a
    progress bar needs; ``kinds``: the reference kinds among them."""

    files: list[tuple[Path, str]]
    cell: str | None = None
    cells: frozenset[str] | None = None
    limit: int | None = None
    cell_counts: Counter[str] = field(default_factory=Counter)
    kinds: frozenset[str] = frozenset()
    kept: list[LoadedCase] | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return sum(self.cell_counts.values())

    def __iter__(self) -> Iterator[LoadedCase]:
        if self.kept is not None:
            yield from self.kept
            return
        per_cell: Counter[str] = Counter()
        for lc in self._all():
            c = lc.case.cell
            if (self.cells is None or c in self.cells) and (self.limit is None or per_cell[c] < self.limit):
                per_cell[c] += 1
                yield lc

    def _all(self) -> Iterator[LoadedCase]:
        """Every case of every file, in order; a file that changed since it was checked
        and now holds a bad record raises ``CaseFileError`` (the run stops sending)."""
        for path, suite in self.files:
            errors: list[CaseError] = []
            try:
                with open(path, encoding="utf-8") as fh:
                    yield from parse_records(str(path), path.parent, suite, fh, errors, cell=self.cell)
            except (OSError, UnicodeDecodeError) as e:
                errors.append(CaseError(str(path), 0, "", f"cannot read: {e}"))
            if errors:
                raise CaseFileError(errors)


def open_cases(sources: list[str], *, cell: str | None = None, cells: list[str] | None = None,
               limit: int | None = None, keep: int = KEEP_IN_MEMORY) -> CaseSource:
    """Check every record of ``sources`` (all errors at once, ``CaseFileError``) and
    return them as a ``CaseSource``; the same rules as ``load_cases``, ids unique
    across all sources. ``keep``: serve up to this many cases from memory."""
    if cell is not None and cell not in CELLS:
        raise CaseFileError([CaseError(sources[0] if sources else "", 0, "--cell", f"unknown cell {cell!r}")])
    errors: list[CaseError] = []
    source = CaseSource(source_files(sources, errors), cell, frozenset(cells) if cells is not None else None, limit)
    ids = array("q")
    kinds: set[str] = set()
    kept: list[LoadedCase] | None = []
    for path, suite in source.files:
        try:
            with open(path, encoding="utf-8") as fh:
                for lc in parse_records(str(path), path.parent, suite, fh, errors, cell=cell):
                    ids.append(hash(lc.case.id))
                    c = lc.case.cell
                    if (source.cells is None or c in source.cells) and (limit is None or source.cell_counts[c] < limit):
                        source.cell_counts[c] += 1
                        kinds.add(lc.case.reference.kind)
                        if kept is not None and len(kept) < keep:
                            kept.append(lc)
                        else:  # too many to hold: read again lazily
                            kept = None
        except (OSError, UnicodeDecodeError) as e:
            errors.append(CaseError(str(path), 0, "", f"cannot read: {e}"))
    if not errors and _has_repeats(ids):
        errors.extend(_duplicates(source, ids))
    if errors:
        raise CaseFileError(errors)
    source.kinds = frozenset(kinds)
    source.kept = kept
    return source


def _has_repeats(ids: array) -> bool:  # type: ignore[type-arg]
    if len(ids) < 100_000:
        return len(set(ids)) != len(ids)
    import numpy as np

    s = np.sort(np.frombuffer(ids, dtype=np.int64))
    return bool((s[1:] == s[:-1]).any())


def _duplicates(source: CaseSource, ids: array) -> list[CaseError]:  # type: ignore[type-arg]
    """The exact duplicate ids (a second pass, only when two id hashes matched)."""
    seen_hash: set[int] = set()
    twice = {h for h in ids if h in seen_hash or seen_hash.add(h)}  # type: ignore[func-returns-value]
    first: dict[str, LoadedCase] = {}
    errors = []
    for lc in source._all():
        if hash(lc.case.id) not in twice:
            continue
        prev = first.setdefault(lc.case.id, lc)
        if prev is not lc:
            where = f"line {prev.line}" if prev.file == lc.file else f"{prev.file}:{prev.line}"
            what = "first on" if prev.file == lc.file else "also"
            errors.append(CaseError(lc.file, lc.line, "id", f"duplicate id {lc.case.id!r} ({what} {where})"))
    return errors
