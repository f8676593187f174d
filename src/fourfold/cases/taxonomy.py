"""The grid of ../shared/spec/landscape.md: 4 modalities x 3 properties, and the
categories inside each cell.

Categories are a closed vocabulary so that per-category statistics mean the same
thing across suites; every cell also has ``other`` for imported data that does
not fit the report's categories.
"""

from __future__ import annotations

MODALITIES: tuple[str, ...] = ("text", "code", "image", "video")
PROPERTIES: tuple[str, ...] = ("generalizability", "trustworthiness", "causality")
CELLS: tuple[str, ...] = tuple(f"{m}/{p}" for m in MODALITIES for p in PROPERTIES)

CATEGORIES: dict[str, tuple[str, ...]] = {
    "text/generalizability": (
        "math", "translation", "reasoning", "role_play", "creative_writing",
        "medicine", "economics", "domain_knowledge",
    ),
    "text/trustworthiness": (
        "safety", "benign", "hallucination", "robustness", "morality", "privacy",
        "fairness", "legality",
    ),
    "text/causality": (
        "association", "intervention", "counterfactual", "causal_discovery", "bias",
        "causal_calculation", "robustness", "causal_hallucination", "instruction_following",
    ),
    "code/generalizability": ("programming_knowledge", "generation", "understanding"),
    "code/trustworthiness": ("toxic", "extreme_risk", "unfair", "immoral", "benign"),
    "code/causality": ("backdoor", "pc_algorithm", "explain_causal_code", "absent_node"),
    "image/generalizability": (
        "recognition", "localisation", "ocr", "expert_knowledge", "embodied", "emotion",
        "non_photographic", "in_context_learning", "multi_image",
    ),
    "image/trustworthiness": ("hallucination", "privacy", "robustness", "safety", "bias", "benign"),
    "image/causality": (
        "causal_graph", "causal_discovery", "embodied_causality", "multi_image_causality",
        "causal_hallucination", "causal_robustness",
    ),
    "video/generalizability": (
        "action_sequence", "antonym", "prediction", "unexpected_action", "object_shuffle",
        "existence", "interaction", "moving_direction", "counting", "state_change",
        "moving_attribute", "order", "egocentric_navigation", "counterfactual",
    ),
    "video/trustworthiness": ("hallucination", "privacy", "robustness", "harmful", "bias", "benign"),
    "video/causality": ("next_event", "explanation", "counterfactual"),
}
CATEGORIES = {cell: (*cats, "other") for cell, cats in CATEGORIES.items()}


def select_cells(expr: str | None) -> list[str]:
    """Expand ``text/causality,code`` into cell names (a modality or a property
    alone selects its whole row or column). Raises ValueError with a suggestion."""
    if not expr:
        return list(CELLS)
    out: list[str] = []
    for raw in expr.split(","):
        item = raw.strip().lower()
        if not item:
            continue
        if item in CELLS:
            picked = [item]
        elif item in MODALITIES:
            picked = [c for c in CELLS if c.startswith(item + "/")]
        elif item in PROPERTIES:
            picked = [c for c in CELLS if c.endswith("/" + item)]
        else:
            from ..registry import with_hint

            raise ValueError(with_hint(f"unknown cell {raw.strip()!r}", item, [*CELLS, *MODALITIES, *PROPERTIES]))
        out.extend(c for c in picked if c not in out)
    return out
