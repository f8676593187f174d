"""score.published: the study's 12-score table ships as data and matches the spec's table number for number."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from conftest import ROOT, missing_part
from fourfold.cases.taxonomy import CELLS
from fourfold.score.published import PublishedTable, study_table

SPEC = Path(os.environ.get("FOURFOLD_SHARED", ROOT.parent / "shared")) / "spec" / "landscape.md"


def _spec_table() -> tuple[list[str], dict[str, list[str]]]:
    """The spec's 'published scores' Markdown table: its heading and each cell's row of printed numbers."""
    if not SPEC.exists():
        missing_part(f"the spec {SPEC} is missing", "check out the shared folder beside the repository")
    lines = SPEC.read_text(encoding="utf-8").split("## The report's published scores", 1)[1].splitlines()
    rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in lines if line.startswith("|")]
    heading, body = rows[0], rows[2:]
    return heading[1:], {r[0].replace(" / ", "/"): r[1:] for r in body}


def test_the_packaged_table_matches_the_spec_number_for_number() -> None:
    table = study_table()
    heading, rows = _spec_table()
    names = table.model_names()
    assert [names[m.id] for m in table.models] == heading
    assert list(rows) == list(table.cells) == list(CELLS)
    for cell, printed in rows.items():
        want = {m.id: float(v) for m, v in zip(table.models, printed, strict=True) if v}
        assert table.cells[cell].scores == want, cell
    assert table.score("gemini-pro", "code/trustworthiness") == 38.88  # as printed, not re-rounded
    assert table.score("mixtral", "image/generalizability") is None  # not evaluated there
    assert table.cells["text/generalizability"].n_cases == 44 and table.cells["code/generalizability"].n_cases == 17


def test_it_says_where_it_comes_from_and_what_it_is_not() -> None:
    table = study_table()
    assert table.source.arxiv == "2401.15071" and table.kind == "relative"
    assert any("never ranked with" in c for c in table.caveats)
    assert study_table() is table  # read once


def test_a_score_for_a_model_outside_its_modalities_is_refused() -> None:
    data = study_table().model_dump()
    data["cells"]["video/causality"]["scores"]["mixtral"] = 50.0
    with pytest.raises(ValidationError, match="video/causality: score for 'mixtral'"):
        PublishedTable.model_validate(data)
