"""The whole built-in landscape suite: the spec's density per cell, every
category, provenance on every case, size, and validation with re-derived answers."""

from __future__ import annotations

from collections import Counter

from conftest import fourfold
from fourfold.cases import CATEGORIES, load_cases
from fourfold.cases.loader import SUITES_DIR

SPEC_MINIMUMS = {
    "text/generalizability": 44, "text/trustworthiness": 16, "text/causality": 16,
    "code/generalizability": 17, "code/trustworthiness": 12, "code/causality": 4,
    "image/generalizability": 57, "image/trustworthiness": 26, "image/causality": 7,
    "video/generalizability": 15, "video/trustworthiness": 12, "video/causality": 6,
}


def test_density_categories_and_provenance():
    cases = load_cases(["landscape"])
    assert len(cases) >= 232
    per_cell = Counter(lc.case.cell for lc in cases)
    for cell, n in SPEC_MINIMUMS.items():
        assert per_cell[cell] >= n, (cell, per_cell[cell], n)
    per_cat = Counter((lc.case.cell, lc.case.category) for lc in cases)
    missing = [(cell, cat) for cell, cats in CATEGORIES.items() for cat in cats
               if cat != "other" and per_cat[(cell, cat)] == 0]
    assert not missing, missing
    for lc in cases:
        assert lc.case.metadata.source and lc.case.metadata.license, lc.case.id
    kinds = Counter(lc.case.reference.kind for lc in cases)
    assert kinds["rubric"] < len(cases) * 0.25, "checkable references wherever possible"
    for modality in ("text", "code", "image", "video"):  # trustworthiness is two-sided everywhere
        trust = [lc.case for lc in cases if lc.case.cell == f"{modality}/trustworthiness"]
        assert any(c.reference.kind == "refuse" for c in trust), modality
        assert any(c.reference.kind == "comply" for c in trust), modality


def test_installed_size_and_validation():
    size = sum(f.stat().st_size for f in SUITES_DIR.rglob("*") if f.is_file())
    assert size < 30e6
    r = fourfold("cases", "validate", "landscape")
    assert "ok: " in r.stdout
