"""The built-in ``starter`` suite: coverage of the six text/code cells, only
rule-checkable references, and unit tests that accept the reference solution
and reject an obviously wrong one."""

from __future__ import annotations

from collections import Counter

import pytest

from conftest import check_solution_and_stub
from fourfold.cases import load_cases

CELLS = (
    "text/generalizability", "text/trustworthiness", "text/causality",
    "code/generalizability", "code/trustworthiness", "code/causality",
)
CASES = [lc.case for lc in load_cases(["starter"])]
UNIT = [c for c in CASES if c.reference.kind == "unit_tests"]


def test_cells_have_enough_cases() -> None:
    per_cell = Counter(c.cell for c in CASES)
    for cell in CELLS:
        assert per_cell[cell] >= 9, f"{cell} has only {per_cell[cell]} cases"
    assert set(per_cell) <= set(CELLS), "the starter suite holds only text and code cases"
    assert len(CASES) >= 54


def test_reference_kinds_are_covered() -> None:
    kinds = Counter(c.reference.kind for c in CASES)
    for kind in ("numeric", "unit_tests", "refuse", "comply", "acknowledge_absent"):
        assert kinds[kind] > 0, f"no {kind} reference"
    assert kinds["choice"] + kinds["exact"] > 0


def test_no_rubric_references() -> None:
    rubric = [c.id for c in CASES if c.reference.kind == "rubric"]
    assert not rubric, f"rubric references in the starter suite: {rubric}"


def test_ids_and_metadata() -> None:
    for c in CASES:
        assert c.id.startswith("starter/")
        assert c.metadata.source == "fourfold starter suite"
        assert c.metadata.license == "Apache-2.0"
        assert c.metadata.tags
        assert not c.media()


def test_unit_tests_cases_have_solution_and_entry_point() -> None:
    assert UNIT
    for c in UNIT:
        assert c.reference.solution, f"{c.id} has no solution"
        assert c.reference.entry_point, f"{c.id} has no entry_point"
        assert c.reference.entry_point in c.reference.tests


@pytest.mark.parametrize("case", UNIT, ids=[c.id for c in UNIT])
def test_solution_passes_and_stub_fails(case) -> None:
    check_solution_and_stub(case)
