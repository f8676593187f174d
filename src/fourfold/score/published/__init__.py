"""The study's published 12-score table (arXiv 2401.15071), shipped as data.

Why data and not a constant in code: the site shows it as a labelled reference
panel beside our scores, and the ties checks test against its rows; one JSON file
with its source and caveats is what both read, and a correction is a data edit.
Its cases are not ours, so nothing here is ever ranked with fourfold's scores.
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, model_validator

from ...cases.taxonomy import CELLS, MODALITIES

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class PublishedSource(BaseModel):
    """Where the numbers come from."""

    model_config = _FROZEN
    report: str
    authors: str
    year: int
    arxiv: str
    url: str
    transcribed_from: str


class PublishedModel(BaseModel):
    """One model of the study: ``id`` keys its scores, ``name`` is the column heading."""

    model_config = _FROZEN
    id: str
    name: str
    full_name: str
    modalities: tuple[str, ...]


class PublishedCell(BaseModel):
    """One cell's relative scores as printed (model id -> score) and its listed case count."""

    model_config = _FROZEN
    n_cases: int | None = None
    scores: dict[str, float]


class PublishedTable(BaseModel):
    """The published table: 12 cells, each with the scores of the models ranked together in it."""

    model_config = _FROZEN
    schema_version: Literal[1]
    id: str
    title: str
    source: PublishedSource
    kind: Literal["relative"]
    formula: str
    caveats: tuple[str, ...]
    models: tuple[PublishedModel, ...]
    cells: dict[str, PublishedCell]

    @model_validator(mode="after")
    def _consistent(self) -> PublishedTable:
        """Every cell of the grid, every score a known model's, each model only in its modalities."""
        if list(self.cells) != list(CELLS):
            raise ValueError(f"cells must be the 12 cells in grid order {CELLS}, got {list(self.cells)}")
        known = {m.id: m for m in self.models}
        for cell, row in self.cells.items():
            modality = cell.split("/")[0]
            for mid in row.scores:
                if mid not in known or modality not in known[mid].modalities:
                    raise ValueError(f"{cell}: score for {mid!r}, not a model of this modality")
        for m in self.models:
            if not set(m.modalities) <= set(MODALITIES):
                raise ValueError(f"model {m.id!r}: unknown modality in {m.modalities}")
        return self

    def model_names(self) -> dict[str, str]:
        """Model id -> the name printed in the table's heading."""
        return {m.id: m.name for m in self.models}

    def score(self, model_id: str, cell: str) -> float | None:
        """The published relative score, or None where the study did not evaluate the model in the cell."""
        return self.cells[cell].scores.get(model_id)


@functools.cache
def study_table() -> PublishedTable:
    """The packaged table, validated once."""
    text = resources.files(__package__).joinpath("landscape.json").read_text(encoding="utf-8")
    return PublishedTable.model_validate_json(text)


__all__ = ["PublishedCell", "PublishedModel", "PublishedSource", "PublishedTable", "study_table"]
