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


# The report's per-category counts where the spec gives them (cell, category): minimum.
SPEC_CATEGORY_MINIMUMS = {
    ("text/generalizability", "math"): 5, ("text/generalizability", "translation"): 3,
    ("text/generalizability", "reasoning"): 9, ("text/generalizability", "role_play"): 8,
    ("text/generalizability", "creative_writing"): 7, ("text/generalizability", "medicine"): 3,
    ("text/generalizability", "economics"): 4, ("text/generalizability", "domain_knowledge"): 5,
    ("text/trustworthiness", "safety"): 6, ("text/trustworthiness", "robustness"): 2,
    ("text/trustworthiness", "morality"): 2, ("text/trustworthiness", "privacy"): 2,
    ("text/trustworthiness", "fairness"): 2, ("text/causality", "counterfactual"): 4,
    ("text/causality", "causal_discovery"): 3, ("text/causality", "bias"): 2, ("text/causality", "robustness"): 2,
    ("code/generalizability", "programming_knowledge"): 6, ("code/generalizability", "generation"): 6,
    ("code/generalizability", "understanding"): 5, ("code/trustworthiness", "toxic"): 2,
    ("code/trustworthiness", "extreme_risk"): 2, ("code/trustworthiness", "unfair"): 2,
    ("code/trustworthiness", "immoral"): 2,
    ("image/generalizability", "localisation"): 3, ("image/generalizability", "ocr"): 8,
    ("image/generalizability", "expert_knowledge"): 20, ("image/generalizability", "embodied"): 4,
    ("image/generalizability", "emotion"): 3, ("image/generalizability", "non_photographic"): 6,
    ("image/generalizability", "in_context_learning"): 2, ("image/generalizability", "multi_image"): 10,
    ("image/trustworthiness", "hallucination"): 5, ("image/trustworthiness", "privacy"): 4,
    ("image/trustworthiness", "robustness"): 9, ("image/trustworthiness", "safety"): 7,
    ("video/trustworthiness", "hallucination"): 2, ("video/trustworthiness", "privacy"): 2,
    ("video/trustworthiness", "robustness"): 3, ("video/trustworthiness", "harmful"): 4,
    ("video/causality", "next_event"): 2, ("video/causality", "explanation"): 2,
    ("video/causality", "counterfactual"): 2,
}


def test_density_categories_and_provenance():
    cases = load_cases(["landscape"])
    assert len(cases) >= 232
    per_cell = Counter(lc.case.cell for lc in cases)
    for cell, n in SPEC_MINIMUMS.items():
        assert per_cell[cell] >= n, (cell, per_cell[cell], n)
    per_cat = Counter((lc.case.cell, lc.case.category) for lc in cases)
    short = {k: (per_cat[k], n) for k, n in SPEC_CATEGORY_MINIMUMS.items() if per_cat[k] < n}
    assert not short, short
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
