"""What each perturbation costs each model: its absolute score on perturbed
variants against its score on the same variants' unperturbed originals.

A perturbed case (``fourfold cases perturb``) keeps its original's question and
reference and records ``perturbation`` and ``original`` (the original's id) in its
metadata, so the two verdicts can be paired per model. Only pairs where both
verdicts judge the answer count: a variant nobody judged says nothing about noise.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..judge.verdict import VALUE
from ..store.records import StoredCase
from .precedence import EffectiveResult


@dataclass(frozen=True, slots=True)
class RobustnessCost:
    """A model's absolute scores (0-100) on ``n`` perturbed variants and on their originals."""

    model: str
    perturbation: str
    n: int
    original: float
    perturbed: float

    @property
    def delta(self) -> float:
        """Perturbed minus original: negative when the perturbation hurt."""
        return self.perturbed - self.original


@dataclass(frozen=True, slots=True)
class PerturbedPair:
    """One model's values (good 1, unclear half, bad 0) on a perturbed variant and on its original."""

    case_id: str
    original_id: str
    original: float
    perturbed: float


def perturbation_pairs(rows: Sequence[EffectiveResult], cases: Mapping[str, StoredCase]
                       ) -> dict[tuple[str, str], list[PerturbedPair]]:
    """Per (model, perturbation), sorted: the variant/original pairs both judged, in case order."""
    by_id = {(r.model, r.case_id): r for r in rows}
    acc: dict[tuple[str, str], list[PerturbedPair]] = defaultdict(list)
    for r in sorted(rows, key=lambda r: (r.model, r.case_id)):
        stored = cases.get(r.case_hash or "")
        # read from the JSON, as the streamed pass reads it (``StoredCase.facts``): names only,
        # a number or a list there makes no variant; a case that no longer validates still counts
        facts = stored.facts if stored is not None else None
        pert, orig = (facts.perturbation, facts.original) if facts is not None else (None, None)
        if not pert or not orig:
            continue
        o = by_id.get((r.model, orig))
        if o is None or r.verdict not in VALUE or o.verdict not in VALUE:
            continue
        acc[(r.model, str(pert))].append(PerturbedPair(r.case_id, str(orig), VALUE[o.verdict], VALUE[r.verdict]))
    return dict(sorted(acc.items()))


def robustness_costs(rows: Sequence[EffectiveResult], cases: Mapping[str, StoredCase]) -> list[RobustnessCost]:
    """One ``RobustnessCost`` per (model, perturbation), sorted, over the effective
    results ``rows`` and the stored cases they answer (for the variants' metadata)."""
    return costs_of_pairs(perturbation_pairs(rows, cases))


def costs_of_pairs(pairs: Mapping[tuple[str, str], list[PerturbedPair]]) -> list[RobustnessCost]:
    """``robustness_costs`` from ``perturbation_pairs``' (or a streamed pass's) pairs, in their order."""
    return [RobustnessCost(m, pert, len(ps), 100 * sum(p.original for p in ps) / len(ps),
                           100 * sum(p.perturbed for p in ps) / len(ps))
            for (m, pert), ps in pairs.items()]


__all__ = ["PerturbedPair", "RobustnessCost", "costs_of_pairs", "perturbation_pairs", "robustness_costs"]
